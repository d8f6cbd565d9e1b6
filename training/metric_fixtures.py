#!/usr/bin/env python3
"""Reference outputs for ExitLens's completion metrics (run by hand, never in CI).

    .venv/bin/pip install rouge-score && .venv/bin/python training/metric_fixtures.py

ROUGE-L over token ids is computed with Google's `rouge-score` package on the ids
written as space-separated words (its tokenizer keeps digits), as the paper's
artifact does; edit similarity with a plain Levenshtein over characters.
Writes Tests/EvaluationTests/Resources/metrics.json.
"""
import json
import os
import random

from rouge_score import rouge_scorer


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def main() -> None:
    rng = random.Random(5)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    cases = []
    for _ in range(300):
        n, m = rng.randint(0, 12), rng.randint(1, 12)
        vocab = rng.choice([3, 8, 50])
        cand = [rng.randrange(vocab) for _ in range(n)]
        ref = [rng.randrange(vocab) for _ in range(m)]
        if rng.random() < 0.3:
            cand = ref[: rng.randint(0, m)]
        score = scorer.score(" ".join(map(str, ref)), " ".join(map(str, cand)))["rougeL"].fmeasure
        cases.append({"candidate": cand, "reference": ref, "rougeL": score})
    words = ["return", "self", ".", "value", "(", ")", " ", "\n", "x", "é", "数"]
    edits = []
    for _ in range(200):
        a = "".join(rng.choice(words) for _ in range(rng.randint(0, 8)))
        b = "".join(rng.choice(words) for _ in range(rng.randint(0, 8)))
        edits.append({"a": a, "b": b, "distance": levenshtein(a, b)})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "EvaluationTests", "Resources", "metrics.json")
    with open(out, "w") as f:
        json.dump({"rouge": cases, "edit": edits}, f)
    print(len(cases), "rouge cases,", len(edits), "edit cases")


if __name__ == "__main__":
    main()
