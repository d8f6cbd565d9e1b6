# ExitLens — the two commands a newcomer needs are `make run` and `make test`.
SWIFT     ?= swift
PYTHON    ?= python3
BIN       := .build/release/exitlens
FIXTURE   := Tests/ModelTests/Resources/tiny-f32
# The shipped default model, or the test fixture until one is trained.
MODEL     ?= $(if $(wildcard models/default/model.safetensors),models/default,$(FIXTURE))
APT_PKGS  := libncursesw5-dev tmux
SAMPLE    ?= samples/fibonacci.py

.PHONY: run build test deps bench bench-swift bench-torch corpus model model-smoke clean fuzz burst-test

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

## The playground on a sample file with the default model (F1 lists the keys, Ctrl-Q quits).
run: build
	$(BIN) play --demo --model $(MODEL) $(SAMPLE)

## Unit, parity and CLI tests.
test: deps
	$(SWIFT) build
	$(SWIFT) test
	bash Tests/cli/cli-tests.sh .build/debug/exitlens $(FIXTURE)
	bash Tests/cli/tmux-test.sh .build/debug/exitlens Tests/TestSupport/Resources/ee-shared

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

clean:
	rm -rf .build bench/out
