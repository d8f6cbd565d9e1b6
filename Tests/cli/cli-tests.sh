#!/usr/bin/env bash
# End-to-end checks of the `exitlens` binary: it completes on the fixture model,
# and every broken input gives one line on stderr and a non-zero exit.
# Usage: cli-tests.sh PATH/TO/exitlens FIXTURE_MODEL_DIR
set -u
bin=$1
fixture=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect_error NAME PATTERN CMD...: non-zero exit, exactly one stderr line matching PATTERN.
expect_error() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$work/out" 2>"$work/err" </dev/null
  local rc=$?
  local lines; lines=$(wc -l <"$work/err")
  if [ "$rc" -eq 0 ]; then fail "$name: exit 0"; return; fi
  if [ "$lines" -ne 1 ]; then fail "$name: $lines stderr lines: $(cat "$work/err")"; return; fi
  if ! grep -q -- "$pattern" "$work/err"; then fail "$name: stderr '$(cat "$work/err")' lacks '$pattern'"; return; fi
  ok
}

# expect_option_error NAME PATTERN CMD...: non-zero exit, nothing on stdout, and the first stderr
# line is the error naming the problem (ArgumentParser prints its usage text after it).
expect_option_error() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$work/out" 2>"$work/err" </dev/null
  local rc=$?
  if [ "$rc" -eq 0 ]; then fail "$name: exit 0"; return; fi
  if [ -s "$work/out" ]; then fail "$name: printed '$(cat "$work/out")'"; return; fi
  if ! head -n 1 "$work/err" | grep -q -- "^Error: .*$pattern"; then fail "$name: stderr '$(head -n 1 "$work/err")' lacks '$pattern'"; return; fi
  ok
}

broken() { # broken NAME: a copy of the fixture model to damage
  mkdir -p "$work/$1" && cp "$fixture/config.json" "$fixture/tokenizer.json" "$fixture/model.safetensors" "$work/$1/"
  echo "$work/$1"
}

# A completion works and is deterministic (greedy).
a=$("$bin" complete --model "$fixture" --max-tokens 8 "def get_value(self" 2>"$work/err"); rc=$?
b=$("$bin" complete --model "$fixture" --max-tokens 8 "def get_value(self" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else fail "complete: rc=$rc '$a' vs '$b' $(cat "$work/err")"; fi

# The release binary's greedy ids equal HF transformers' (fixture prompt 1, 24 tokens).
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][1]["greedy"])' "$fixture/../expected-tiny-f32.json")
got=$(printf 'for value in items:\n    value' | "$bin" complete --model "$fixture" --max-tokens 24 --json \
      | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["tokens"]])')
if [ "$expected" = "$got" ]; then ok; else fail "greedy ids: $got, want $expected"; fi

# A Hugging Face CodeGen directory (tiny, random; training/codegen_fixtures.py) completes with transformers'
# greedy ids, and with exits at layers 1, 4, 7 only, --exit-layer 5 leaves at layer 4.
codegen="$fixture/../tiny-codegen"
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][1]["greedy"])' "$fixture/../expected-tiny-codegen.json")
got=$(printf 'for value in items:\n    value' | "$bin" complete --model "$codegen" --max-tokens 16 --json \
      | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["tokens"]])')
if [ "$expected" = "$got" ]; then ok; else fail "codegen greedy ids: $got, want $expected"; fi
exits=$("$bin" complete --model "$fixture/../../../TestSupport/Resources/ee-codegen" --policy fixed --exit-layer 5 --max-tokens 4 --json \
        "def get_value(self" | python3 -c 'import json,sys; print(sorted({t["trace"]["exitLayer"] for t in json.load(sys.stdin)["tokens"][1:]}))')
if [ "$exits" = "[4]" ]; then ok; else fail "codegen --exit-layer 5 exit layers: $exits, want [4]"; fi

# --json carries ids and timings; stdin works as the prompt.
json=$(printf 'for value in' | "$bin" complete --model "$fixture" --max-tokens 3 --json)
if echo "$json" | grep -q '"id"' && echo "$json" | grep -q '"seconds"'; then ok; else fail "json: $json"; fi

# bench runs on the fixture model.
if "$bin" bench --model "$fixture" --contexts 16 --thread-counts 1,2 --tokens 4 --repeats 1 >"$work/bench" 2>/dev/null \
   && grep -q "ms/token" "$work/bench"; then ok; else fail "bench: $(cat "$work/bench")"; fi
# --pass-rows times one full-depth pass per row count (the cost of a speculative verification).
passes=$("$bin" bench --model "$fixture" --contexts 16 --thread-counts 1 --tokens 2 --repeats 1 --pass-rows 1,2,3 --json 2>/dev/null \
         | python3 -c 'import json,sys; print([(p["rows"], p["steps"] > 0) for p in json.load(sys.stdin)["passes"]])')
if [ "$passes" = "[(1, True), (2, True), (3, True)]" ]; then ok; else fail "bench --pass-rows: $passes"; fi

d=$(broken truncated); head -c 5000 "$fixture/model.safetensors" >"$d/model.safetensors"
expect_error truncated "model.safetensors" "$bin" complete --model "$d" x

d=$(broken header); printf '\377\377\377\377\000\000\000\000{}' >"$d/model.safetensors"
expect_error header-past-eof "header" "$bin" complete --model "$d" x

d=$(broken missing); rm "$d/model.safetensors"
expect_error missing-file "model.safetensors" "$bin" complete --model "$d" x

d=$(broken config); echo '{"n_layer": 2}' >"$d/config.json"
expect_error bad-config "config.json" "$bin" complete --model "$d" x

d=$(broken tokenizer); echo '{"model": 3' >"$d/tokenizer.json"
expect_error bad-tokenizer "tokenizer.json" "$bin" complete --model "$d" x

expect_error no-model-dir "not a model directory" "$bin" complete --model "$work/nothing" x
printf '\377\376binary' >"$work/binary.txt"
expect_error non-utf8-prompt "not UTF-8" "$bin" complete --model "$fixture" --file "$work/binary.txt"
# A prompt that starts with a byte-order mark is the same prompt from an argument, --file or
# standard input: the BOM is kept (and tokenised) in all three (issue #13).
printf '\xef\xbb\xbfx = 1' >"$work/bom.txt"
ids() { "$@" --model "$fixture" --max-tokens 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["promptTokenIDs"])'; }
from_arg=$(ids "$bin" complete "$(cat "$work/bom.txt")")
from_file=$(ids "$bin" complete --file "$work/bom.txt")
from_stdin=$(ids "$bin" complete <"$work/bom.txt")
plain=$(ids "$bin" complete "x = 1")
if [ "$from_arg" = "$from_file" ] && [ "$from_file" = "$from_stdin" ] && [ "$from_arg" != "$plain" ]; then ok
else fail "BOM prompt: argument $from_arg, --file $from_file, stdin $from_stdin, without BOM $plain"; fi
# Option errors come with ArgumentParser's usage text, so only the exit status and message are checked.
if "$bin" complete --model "$fixture" --max-tokens=-3 x >/dev/null 2>"$work/err"; then fail "bad option: exit 0"
elif grep -q "max-tokens must be" "$work/err"; then ok; else fail "bad option: $(cat "$work/err")"; fi

# --max-tokens 0 asks for no token (it used to print one).
n=$("$bin" complete --model "$fixture" --max-tokens 0 --json "def get_value(self" 2>"$work/err" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tokens"]))')
if [ "$n" = 0 ]; then ok; else fail "max-tokens 0: $n tokens $(cat "$work/err")"; fi

# Option values that cannot mean anything are refused, naming the option.
c=(complete --model "$fixture")
expect_option_error tau-exit-nan "tau-exit" "$bin" "${c[@]}" --policy sec --tau-exit nan x
expect_option_error tau-exit-inf "tau-exit" "$bin" "${c[@]}" --policy sec --tau-exit inf x
expect_option_error tau-exit-negative "tau-exit" "$bin" "${c[@]}" --policy sec --tau-exit=-1 x
expect_option_error tau-stop-nan "tau-stop" "$bin" "${c[@]}" --policy sec --tau-stop nan x
expect_option_error lambda-nan "lambda" "$bin" "${c[@]}" --policy softmax --lambda nan x
expect_option_error lambda-negative "lambda" "$bin" "${c[@]}" --policy saturation --lambda=-5 x
expect_option_error draft-length-0 "draft-length" "$bin" "${c[@]}" --policy speculative --draft-length 0 x
expect_option_error knob-not-read "tau-exit does not apply to --policy fixed" "$bin" "${c[@]}" --policy fixed --tau-exit 0.5 x
expect_option_error trace-top-k "trace-top-k" "$bin" "${c[@]}" --trace-top-k=-1 x
expect_option_error threads-0 "threads" "$bin" "${c[@]}" --threads 0 x
expect_option_error temperature "temperature" "$bin" "${c[@]}" --temperature=-1 x
expect_option_error top-p "top-p" "$bin" "${c[@]}" --top-p 2 x
expect_option_error bench-spec "sec:nan" "$bin" bench --model "$fixture" --policy sec:nan
expect_option_error eval-spec "bogus" "$bin" eval --model "$fixture" --data "$work" --policy bogus
expect_option_error play-colors "colors" "$bin" play --model "$fixture" --colors 16
# A layer beyond the model's depth is known only once the model is loaded: one line, no usage.
layers=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_layer"])' "$fixture/config.json")
expect_error exit-layer-beyond "exit-layer (k) must be a layer in 1…$layers" "$bin" "${c[@]}" --policy fixed --exit-layer 100 x
printf 'def get_value(self, key):\n    return self.values[key]\n' >"$work/prompts.py"
expect_error bench-layer-beyond "policy 'fixed:100'" "$bin" bench --model "$fixture" --policy fixed:100 --prompts "$work/prompts.py"
# The same bytes are refused as an argument as in a file.
expect_error non-utf8-argument "not UTF-8" "$bin" complete --model "$fixture" $'\377\376binary'

# complete and play share one default policy (sec); a model without a controller falls back to
# full and says so in one line.
ee=$(cd "$(dirname "$0")/../TestSupport/Resources/ee-shared" && pwd)
policy=$("$bin" complete --model "$ee" --max-tokens 2 --json x 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"])')
if printf '%s' "$policy" | grep -qi "sec"; then ok; else fail "complete's default policy on ee-shared: '$policy'"; fi
"$bin" complete --model "$fixture" --max-tokens 2 x >/dev/null 2>"$work/err"
if [ "$(wc -l < "$work/err")" = 1 ] && grep -q "controller.safetensors.*using full" "$work/err"; then ok; else fail "default fallback: $(cat "$work/err")"; fi
# play --script without --dump prints the final screen.
printf 'type y = 2\n' > "$work/s.keys"
out=$("$bin" play --model "$ee" --size 70x16 --script "$work/s.keys" 2>&1)
if printf '%s' "$out" | grep -q "ExitLens" && printf '%s' "$out" | grep -q "y = 2"; then ok; else fail "--script without --dump: '$out'"; fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
