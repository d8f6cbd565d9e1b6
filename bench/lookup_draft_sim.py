#!/usr/bin/env python3
"""What would prompt-lookup drafts (llama.cpp's "lookup" decoding) buy on code completion?

A simulation, not a benchmark: it asks `exitlens complete --policy full --json` for greedy
continuations of prompts cut from the test split, then replays each continuation with a drafter
that copies the tokens that followed the latest earlier occurrence of the context's last n tokens
(n from --ngram-max down to --ngram-min), up to k per round. Greedy verification accepts the
longest agreeing prefix plus one token of its own, as `SpeculativeDecoder` does, so the replay
gives exactly the tokens per round and rows verified per round a real run would have. Turning
that into time needs the cost of an r-row verification (BENCHMARKS.md).

    python3 bench/lookup_draft_sim.py --files training/data/test --count 40
"""
import argparse
import glob
import json
import os
import random
import subprocess
import sys


def continuations(args):
    files = sorted(glob.glob(os.path.join(args.files, "**", "*.py"), recursive=True))
    random.Random(args.seed).shuffle(files)
    rng = random.Random(args.seed)
    out = []
    for path in files[: args.count]:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        if len(lines) < 20:
            continue
        cut = rng.randint(10, len(lines) - 2)
        prompt = ("\n".join(lines[:cut]) + "\n")[-args.prompt_chars:]
        run = subprocess.run([args.exitlens, "complete", "--model", args.model, "--policy", "full",
                              "--max-tokens", str(args.max_tokens), "--json", prompt],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{path}: {run.stderr.strip()[:200]}", file=sys.stderr)
            continue
        result = json.loads(run.stdout)
        out.append((result["promptTokenIDs"], [t["id"] for t in result["tokens"]]))
    return out


def lookup(context, k, n_max, n_min):
    """The k tokens after the latest earlier occurrence of the context's last n tokens."""
    for n in range(n_max, n_min - 1, -1):
        if len(context) <= n:
            continue
        tail = context[-n:]
        for i in range(len(context) - n - 1, -1, -1):
            if context[i:i + n] == tail:
                return context[i + n:i + n + k]
    return []


def replay(examples, k, n_max, n_min):
    rounds = emitted = rows = drafted = accepted = 0
    for prompt, generated in examples:
        context, i = list(prompt), 0
        while i < len(generated):
            drafts = lookup(context, min(k, len(generated) - i - 1), n_max, n_min)
            m = 0
            while m < len(drafts) and drafts[m] == generated[i + m]:
                m += 1
            rounds += 1
            rows += len(drafts) + 1
            drafted += len(drafts)
            accepted += m
            context += generated[i:i + m + 1]
            i += m + 1
            emitted += m + 1
    return rounds, emitted, rows, drafted, accepted


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", required=True, help="directory of Python files (the test split)")
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--prompt-chars", type=int, default=3000)
    p.add_argument("--exitlens", default=".build/release/exitlens")
    p.add_argument("--model", default="models/smollm2-135m")
    args = p.parse_args()
    examples = continuations(args)
    print(f"{len(examples)} continuations of ≤ {args.max_tokens} greedy tokens ({args.model})")
    print("n-gram  k  tokens/round  rows verified/round  drafts accepted")
    for n_max, n_min in [(3, 1), (3, 2)]:
        for k in [2, 3, 4, 6]:
            rounds, emitted, rows, drafted, accepted = replay(examples, k, n_max, n_min)
            print(f"{n_max}..{n_min}  {k}  {emitted / rounds:12.2f}  {rows / rounds:19.2f}  "
                  f"{accepted}/{drafted} ({accepted / max(1, drafted):.0%})")


if __name__ == "__main__":
    main()
