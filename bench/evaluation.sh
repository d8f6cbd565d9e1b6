#!/usr/bin/env bash
# Regenerates the numbers and charts of EVALUATION.md and the early-exit table of BENCHMARKS.md
# (about 15 minutes on 2 cores). Needs `make corpus` for the test split. The acceptance split by a
# right/wrong first token comes from the eval run (its `full` row), not a second study run.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release/exitlens
M=${MODEL:-models/default}
D=${DATA:-training/data/test}
N=${SAMPLES:-1000}
mkdir -p bench/out docs
swift build -c release --product exitlens
$B study --model "$M" --data "$D" --max-tokens 30000 --samples 0 --svg docs/study.svg | tee bench/out/study.txt
# 1 thread: two spinning workers degrade badly when anything else shares the 2 cores
$B eval --model "$M" --threads 1 --data "$D" --samples "$N" --markdown --svg docs/pareto.svg \
  --policy sec:0.95:0.9 --policy sec:0.9:0.7 --policy sec:0.8:0.6 --policy sec:0.6:0 --policy sec:0.9:2 --policy sec:0.6:2 \
  --policy softmax:0.9 --policy saturation:0.99 --policy fixed:3 --policy fixed:6 --policy speculative:3:4 \
  | tee bench/out/eval.md
$B bench --playground --model "$M" --threads 2 | tee bench/out/playground.txt
$B bench --model "$M" --prompts "$D" --max-tokens 16 --repeats 1 \
  --policy sec:2:2 --policy sec:0.95:0.9 --policy sec:0.9:0.7 --policy sec:0.8:0.6 --policy sec:0.6:0 --policy sec:0.6:2 \
  --policy fixed:3 --policy fixed:6 --policy fixed:9 --policy speculative:3:4 --policy speculative:6:4 \
  | tee bench/out/policies.txt
