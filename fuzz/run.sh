#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/Package.swift) and runs each for SECONDS seconds, starting
# from the committed seeds in fuzz/corpus/NAME plus what earlier runs found (fuzz/.corpus/NAME).
# A crash, a hang (one input > 10 s) or a giant allocation (> 2 GB) fails the run; the input
# is left in fuzz/artifacts/. Prints executions per target (copy them into RELIABILITY.md).
# Usage: fuzz/run.sh SECONDS [TARGET...]     (from `make fuzz SECONDS=…` and .ci/run)
#        RUNS=1000000 fuzz/run.sh 86400 …     (stop after RUNS executions instead)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}; shift || true
swift=${SWIFT:-swift}
config=${FUZZ_CONFIG:-release}
# TARGET:corpus-directory:max-input-length.
all="FuzzSafeTensors:safetensors:4096 FuzzConfig:config:4096 FuzzTokenizerJSON:tokenizer-json:8192
FuzzVocabMerges:vocab-merges:8192 FuzzBPERoundTrip:bpe:1024 FuzzEditor:editor:4096 FuzzGGUF:gguf:65536"
wanted=${*:-$(for t in $all; do echo "${t%%:*}"; done)}
# Swift's crash handler confuses ASan; leaks of Foundation caches are not findings here.
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0
mkdir -p artifacts
status=0
# In CI the run is reproducible: a fixed mutation sequence (libFuzzer's -seed), deterministic Swift
# hashing (dictionary order otherwise differs per process, and so can a code path), and a fixed
# number of executions (SECONDS only caps it), so CI explores exactly the inputs a local
# `CI=true make fuzz` explored, instead of failing one submission in many on a path nobody saw.
seed="" run_limit=${RUNS:--1}
if [ "${CI:-}" = true ]; then
  seed="-seed=${FUZZ_SEED:-1}" run_limit=${RUNS:-${CI_RUNS:-40000}}
  export SWIFT_DETERMINISTIC_HASHING=1
fi
for entry in $all; do
  IFS=: read -r target corpus maxlen <<<"$entry"
  case " $(echo $wanted) " in *" $target "*) ;; *) continue ;; esac
  "$swift" build -c "$config" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --product "$target" >"artifacts/$target.build.log" 2>&1 \
    || { echo "$target: build failed (fuzz/artifacts/$target.build.log)"; status=1; continue; }
  mkdir -p ".corpus/$corpus"
  log="artifacts/$target.log"
  if ".build/$config/$target" ".corpus/$corpus" "corpus/$corpus" -max_total_time="$seconds" -runs="$run_limit" -max_len="$maxlen" \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$target-" $seed >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o '[0-9]* second' | grep -o '[0-9]*' || echo "$seconds")
    echo "$target: $runs executions in $took s, no crash (corpus $(ls ".corpus/$corpus" | wc -l) inputs)"
  else
    echo "$target: FAILED — $(grep -m1 -E 'Fuzz check failed|Precondition failed|Fatal error|ERROR:|SUMMARY' "$log" || tail -1 "$log")"
    echo "  input: $(ls -t artifacts/"$target"-* 2>/dev/null | head -1); log: fuzz/$log"
    status=1
  fi
done
exit $status
