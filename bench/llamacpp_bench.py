#!/usr/bin/env python3
"""llama.cpp's prefill throughput and decode latency, measured the way `exitlens bench` measures ExitLens.

Run by hand in the scratch venv, from the repository root:

    make smollm2 llamacpp-venv
    bench/out/llamacpp-venv/bin/python bench/llamacpp_bench.py > bench/out/llamacpp.json

The protocol is Sources/Evaluation/DecodeBenchmark.swift's: a prompt of random token ids
(SplitMix64, seed 42, modulo the vocabulary); per repeat and per thread count, interleaved
(1, 2, 1, 2, ...) so a noisy neighbour hits both alike: time the prefill of `--prefill-length`
tokens into an empty cache, then for each context c empty the cache, prefill c - k tokens and
time k single-token decodes one by one (k = min(--tokens, c)), so the last one sees c tokens.
Reported: median prefill tokens/s, and median and p95 ms/token for each context (nearest rank).

llama.cpp runs with its defaults (F16 KV cache, batch 512, no flash attention) through
llama-cpp-python's `Llama.eval`, which adds a few microseconds of Python per call.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import sys
import time

import llama_cpp
from llama_cpp import Llama

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEFAULT_MODEL = os.path.join(ROOT, "models", "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")
MASK = (1 << 64) - 1


def splitmix64(seed: int):
    """The same generator as Sources/Model/Sampling.swift, so both engines see the same prompt."""
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def quantile(values: list[float], q: float) -> float:
    """Nearest rank, as Sources/Evaluation/Machine.swift."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(max(round(q * (len(s) - 1)), 0), len(s) - 1)]


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def parse_list(text: str, flag: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        sys.exit(f"llamacpp_bench: {flag} wants comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        sys.exit(f"llamacpp_bench: {flag} wants positive integers, got {text!r}")
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--contexts", default="64,256,1024")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--tokens", type=int, default=32, help="decoded tokens per measurement")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--prefill-length", type=int, default=512)
    args = ap.parse_args()
    if not os.path.isfile(args.model):
        sys.exit(f"llamacpp_bench: {args.model} not found (run `make smollm2`)")
    contexts, threads = parse_list(args.contexts, "--contexts"), parse_list(args.threads, "--threads")
    tokens, repeats = max(1, args.tokens), max(1, args.repeats)

    n_ctx = max(max(contexts), args.prefill_length)
    models = [Llama(model_path=args.model, n_ctx=n_ctx, n_threads=t, n_threads_batch=t, logits_all=False,
                    seed=0, verbose=False) for t in threads]
    vocab = models[0].n_vocab()
    meta = models[0].metadata
    train_ctx = int(meta.get(f"{meta.get('general.architecture', 'llama')}.context_length", n_ctx))
    if n_ctx > train_ctx:
        sys.exit(f"llamacpp_bench: context {n_ctx} exceeds the model's {train_ctx}")
    rng = splitmix64(42)
    prompt = [next(rng) % vocab for _ in range(n_ctx)]

    prefill_times = [[] for _ in models]
    decode_times = [[[] for _ in contexts] for _ in models]
    for r in range(repeats):
        print(f"repeat {r + 1}/{repeats}", file=sys.stderr, flush=True)
        for m, llm in enumerate(models):
            llm.reset()
            t0 = time.perf_counter()
            llm.eval(prompt[:args.prefill_length])
            prefill_times[m].append(time.perf_counter() - t0)
            for c, context in enumerate(contexts):
                steps = min(tokens, context)
                llm.reset()
                llm.eval(prompt[:context - steps])
                for step in range(steps):
                    t0 = time.perf_counter()
                    llm.eval([prompt[context - steps + step]])
                    decode_times[m][c].append(time.perf_counter() - t0)

    report = {
        "engine": "llama.cpp",
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(),
                    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "model": os.path.basename(args.model),
        "settings": {"kv_cache": "f16 (default)", "n_batch": 512, "n_ctx": n_ctx, "repeats": repeats,
                     "decode_tokens": tokens, "prompt": "SplitMix64(42) % vocabulary"},
        "prefill": [{"threads": t, "tokens": args.prefill_length,
                     "tokensPerSecond": args.prefill_length / quantile(prefill_times[m], 0.5)}
                    for m, t in enumerate(threads)],
        "decode": [{"threads": t, "context": context,
                    "msPerTokenMedian": quantile(decode_times[m][c], 0.5) * 1e3,
                    "msPerTokenP95": quantile(decode_times[m][c], 0.95) * 1e3}
                   for m, t in enumerate(threads) for c, context in enumerate(contexts)],
        "peakRSSBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
