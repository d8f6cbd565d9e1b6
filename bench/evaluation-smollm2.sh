#!/usr/bin/env bash
# Regenerates the SmolLM2-135M section of EVALUATION.md (about 25 minutes on 2 shared cores). Needs
# `make corpus` for the test split and `make smollm2` for the GGUF; the exit files are the committed
# ones in models/smollm2-135m. The logit-lens study row adds `--exit-heads lens` to the study command.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release/exitlens
M=models/smollm2-135m
D=${DATA:-training/data/test}
N=${SAMPLES:-300}
mkdir -p bench/out/smollm2 docs
swift build -c release --product exitlens
$B study --model "$M" --threads 1 --data "$D" --max-tokens 2000 --samples 0 --svg docs/study-smollm2.svg | tee bench/out/smollm2/study.txt
# 1 thread: two spinning workers degrade badly when anything else shares the 2 cores
$B eval --model "$M" --threads 1 --data "$D" --samples "$N" --context 256 --markdown --svg docs/pareto-smollm2.svg \
  --policy sec:0.99:0.999 --policy sec:0.9:0.999 --policy sec:0.9:0.99 --policy sec:0.9:0.8 \
  --policy sec:0.999:2 --policy sec:0.99:2 --policy sec:0.9:2 --policy sec:0.7:2 \
  --policy softmax:0.9 --policy saturation:0.99 --policy fixed:24 --policy fixed:27 --policy speculative:24:4 \
  | tee bench/out/smollm2/eval.md
