#!/usr/bin/env python3
"""llama.cpp's answers on the real SmolLM2 GGUF, for ExitLens's opt-in parity test.

Run by hand in the scratch venv (never in CI), from the repository root:

    make smollm2 llamacpp-venv
    bench/out/llamacpp-venv/bin/python bench/llamacpp_reference.py

Writes Tests/ModelTests/Resources/smollm2-llamacpp.json (committed):

  tokenize.cases  >= 1,000 snippets (seeded sample of this Python's standard library, plus
                  hand-written edge cases) with llama.cpp's ids from
                  llm.tokenize(text.encode(), add_bos=False, special=True)
  greedy.cases    >= 50 Python code prompts (seeded sample of the standard library, cut mid-line
                  or at a line end, plus hand-written ones) with llama.cpp's 16 greedy tokens and,
                  per generated position, the gap between its best and second-best logit

The margins are there because llama.cpp multiplies Q4_1 weights by 8-bit activations: a float
engine may honestly pick the other token where the gap is tiny, and a test should only demand
equality up to the first step whose margin is below its tolerance. Greedy runs 16 tokens and does
not stop at EOS (id 2); a test that stops there compares the prefix.
"""
import argparse
import hashlib
import json
import os
import platform
import random
import sys
import sysconfig

import llama_cpp
import numpy as np
from llama_cpp import Llama

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEFAULT_MODEL = os.path.join(ROOT, "models", "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_OUT = os.path.join(ROOT, "Tests", "ModelTests", "Resources", "smollm2-llamacpp.json")
GGML_TYPE_F32 = 0
GREEDY_STEPS = 16

# Written for this file: what a byte-level BPE with digit splitting and control tokens must get right.
EDGE_CASES = [
    "", " ", "  ", "\n", "\n\n", "\t", "\r\n", " \n ", "a", "A", "é", "ß", "数据", "🙂", "👩‍💻", "Ωmega",
    "x = 1234567890", "3.14159e-10", "0x1F 0b1010 0o17", "1,000,000", "v2.0.1", "2026-11-30T07:30:00Z",
    "don't", "I'll", "we've", "THEY'RE", "she'd", "it's 's 'S", "naïve café résumé", "e\u0301", "\u200b",
    "ℕ ① ٣ ½ Ⅻ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "日本語のテキスト", "한국어", "Привет, мир", "مرحبا", "שלום",
    "<|endoftext|>", "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<repo_name>exitlens<file_sep>main.py\n", "<|im_start|><|im_end|><|endoftext|>", "<|im_start", "im_end|>",
    "    return x", "        if not self:\n            pass", "\t\tfoo\t\tbar", "a  b   c    d",
    "trailing   ", "   leading", "line\r\nline\rline\n", "print('hello, world')", 'f"{x!r:>10}"',
    "lambda x: x ** 2", "# comment with URL https://example.com/a?b=c&d=e", "@dataclass(frozen=True)",
    "def f(*args, **kwargs) -> None: ...", "x[1:-1:2]", "a != b <= c >= d", "x //= 3; y **= 2; z @= w",
    "''' docstring '''", '"""\nMulti-line\n"""', "\\n\\t\\\\", "0123456789" * 3, "aaaaaaaaaaaaaaaaaaaaaaaa",
    "____init____", "CamelCaseName snake_case_name SCREAMING_CASE", "über_straße = 1", "π = 3.14",
]

EDGE_PROMPTS = [
    "import os\nimport sys\n\n\ndef read_file(path):\n    with open(path",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return ",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        ",
    "for i in range(10):\n    if i % 2 == 0:\n        print(",
    "def is_prime(n: int) -> bool:\n    \"\"\"Return True if n is prime.\"\"\"\n",
    "import json\n\nwith open(\"data.json\") as f:\n    data = ",
    "numbers = [3, 1, 4, 1, 5, 9, 2, 6]\nsorted_numbers = ",
    "try:\n    value = int(text)\nexcept ValueError:\n    ",
]


def stdlib_files() -> tuple[str, list[str]]:
    base = sysconfig.get_paths()["stdlib"]
    out = []
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if x not in ("site-packages", "__pycache__"))
        out += [os.path.relpath(os.path.join(d, f), base) for f in sorted(files) if f.endswith(".py")]
    return base, sorted(out)


def read_lines(base: str, rel: str) -> list[str]:
    try:
        with open(os.path.join(base, rel), encoding="utf-8") as f:
            return f.read().splitlines(keepends=True)
    except (UnicodeDecodeError, OSError):
        return []


def tokenizer_snippets(rng: random.Random, base: str, files: list[str], count: int) -> list[dict]:
    cases, seen = [{"text": t, "source": "hand-written"} for t in EDGE_CASES], set(EDGE_CASES)
    while len(cases) < count:
        rel = rng.choice(files)
        lines = read_lines(base, rel)
        if not lines:
            continue
        i = rng.randrange(len(lines))
        if rng.random() < 0.7:  # a few whole lines
            n = rng.randint(1, 6)
            text, where = "".join(lines[i:i + n]), f"{i + 1}-{min(i + n, len(lines))}"
        else:  # a piece of one line, cut anywhere (mid-word, mid-indent)
            line = lines[i]
            a = rng.randrange(len(line))
            b = rng.randint(a + 1, len(line))
            text, where = line[a:b], f"{i + 1}[{a}:{b}]"
        text = text[:400]
        if text in seen:
            continue
        seen.add(text)
        cases.append({"text": text, "source": f"stdlib/{rel}:{where}"})
    return cases


def code_prompts(rng: random.Random, base: str, files: list[str], count: int) -> list[dict]:
    cases = [{"text": t, "source": "hand-written"} for t in EDGE_PROMPTS]
    while len(cases) < count:
        rel = rng.choice(files)
        if rel.startswith("test/"):  # prefer ordinary library code over test tables
            continue
        lines = read_lines(base, rel)
        if len(lines) < 20:
            continue
        i = rng.randrange(10, len(lines))
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        body = line.rstrip("\n")
        cut = rng.randint(indent, len(body)) if rng.random() < 0.7 else len(line)  # mid-line, or after the newline
        start = max(0, i - rng.randint(4, 24))
        text = "".join(lines[start:i]) + line[:cut]
        while len(text) > 900 and start < i:  # keep prompts short: drop lines from the front
            start += 1
            text = "".join(lines[start:i]) + line[:cut]
        if len(text) > 900 or not text.strip():
            continue
        cases.append({"text": text, "source": f"stdlib/{rel}:{start + 1}-{i + 1}[:{cut}]"})
    return cases


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def greedy(llm: Llama, ids: list[int], steps: int) -> tuple[list[int], list[float]]:
    llm.reset()
    llm.eval(ids)
    out, margins = [], []
    for _ in range(steps):
        row = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top2 = np.argpartition(row, -2)[-2:]
        best, second = (top2[0], top2[1]) if row[top2[0]] >= row[top2[1]] else (top2[1], top2[0])
        out.append(int(best))
        margins.append(round(float(row[best] - row[second]), 4))
        llm.eval([int(best)])
    return out, margins


def dump(doc: dict, path: str) -> None:
    """Readable but compact: one case per line."""
    def cases_block(cases):
        return "[\n" + ",\n".join("   " + json.dumps(c, ensure_ascii=False) for c in cases) + "\n  ]"
    parts = []
    for key, value in doc.items():
        if isinstance(value, dict) and "cases" in value:
            inner = [f'  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}' for k, v in value.items() if k != "cases"]
            inner.append(f'  "cases": {cases_block(value["cases"])}')
            parts.append(f' {json.dumps(key)}: {{\n' + ",\n".join(inner) + "\n }")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")
    json.load(open(path, encoding="utf-8"))  # what we wrote must parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--snippets", type=int, default=1200)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not os.path.isfile(args.model):
        sys.exit(f"llamacpp_reference: {args.model} not found (run `make smollm2`)")

    rng = random.Random(args.seed)
    base, files = stdlib_files()
    snippets = tokenizer_snippets(rng, base, files, args.snippets)
    prompts = code_prompts(rng, base, files, args.prompts)

    # F32 KV cache: one rounding fewer than llama.cpp's default F16 cache, so the reference is
    # closer to exact arithmetic on these weights; the weights and activations are as llama.cpp runs them.
    n_ctx = 1024
    llm = Llama(model_path=args.model, n_ctx=n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                logits_all=True, type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32, seed=0, verbose=False)

    for c in snippets:
        c["ids"] = llm.tokenize(c["text"].encode("utf-8"), add_bos=False, special=True)
    for i, c in enumerate(prompts):
        c["ids"] = llm.tokenize(c["text"].encode("utf-8"), add_bos=False, special=True)
        assert len(c["ids"]) + GREEDY_STEPS <= n_ctx, c["source"]
        c["greedy"], c["margin"] = greedy(llm, c["ids"], GREEDY_STEPS)
        print(f"\r{i + 1}/{len(prompts)} prompts", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    doc = {
        "generator": "bench/llamacpp_reference.py",
        "model": {"file": os.path.basename(args.model), "sha256": sha256(args.model)},
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "settings": {"n_ctx": n_ctx, "kv_cache": "f32", "flash_attn": False, "threads": args.threads,
                     "seed": args.seed},
        "python": platform.python_version(),
        "stdlib_files": len(files),
        "tokenize": {"call": "llm.tokenize(text.encode('utf-8'), add_bos=False, special=True)", "cases": snippets},
        "greedy": {"steps": GREEDY_STEPS, "eos": llm.token_eos(), "stops_at_eos": False,
                   "margin": "top-1 minus top-2 logit of llama.cpp at each generated position", "cases": prompts},
    }
    dump(doc, args.out)
    near = sum(m < 0.5 for c in prompts for m in c["margin"])
    print(f"{args.out}: {len(snippets)} tokenizer cases, {len(prompts)} greedy prompts "
          f"({near} of {len(prompts) * GREEDY_STEPS} steps with margin < 0.5), {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
