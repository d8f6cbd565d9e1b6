#!/usr/bin/env python3
"""The same decode benchmark through Hugging Face transformers + PyTorch on CPU.

Run by `make bench` (never in CI). Creates the benchmark model if missing:
a random GPT-2 (12 layers, d=256, 4 heads, vocab 8192, context 512, fp32),
saved in HF layout so `exitlens bench --model` reads the very same weights.

Protocol, identical to `exitlens bench`: for each context c, prefill c-k
random tokens, then decode k tokens one at a time with the KV cache
(`past_key_values`), timing each; repeats interleave thread counts.
Prints JSON on stdout.
"""
import argparse
import json
import os
import statistics
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def make_model(path: str) -> None:
    cfg = GPT2Config(n_layer=12, n_head=4, n_embd=256, n_positions=512, vocab_size=8192,
                     activation_function="gelu_new", bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(path, safe_serialization=True)


def quantile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bench/out/random-12x256")
    ap.add_argument("--contexts", default="64,256,512")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.model, "model.safetensors")):
        make_model(args.model)
    model = GPT2LMHeadModel.from_pretrained(args.model).eval()
    cfg = model.config
    g = torch.Generator().manual_seed(42)
    prompt = torch.randint(0, cfg.vocab_size, (cfg.n_positions,), generator=g)
    contexts = [int(c) for c in args.contexts.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    times = {(t, c): [] for t in threads for c in contexts}
    prefill = {t: [] for t in threads}
    with torch.inference_mode():
        for _ in range(args.repeats):
            for t in threads:
                torch.set_num_threads(t)
                start = time.perf_counter()
                model(prompt[None, :512])
                prefill[t].append(time.perf_counter() - start)
                for c in contexts:
                    k = min(args.tokens, c)
                    out = model(prompt[None, : c - k], use_cache=True)
                    past = out.past_key_values
                    for step in range(k):
                        tok = prompt[c - k + step].view(1, 1)
                        t0 = time.perf_counter()
                        out = model(tok, past_key_values=past, use_cache=True)
                        past = out.past_key_values
                        out.logits[0, -1].argmax().item()
                        times[(t, c)].append(time.perf_counter() - t0)
    report = {
        "torch": torch.__version__,
        "prefill": [{"threads": t, "tokens": 512, "tokensPerSecond": 512 / statistics.median(prefill[t])} for t in threads],
        "decode": [{"threads": t, "context": c, "msPerTokenMedian": statistics.median(v) * 1e3,
                    "msPerTokenP95": quantile(v, 0.95) * 1e3} for (t, c), v in times.items()],
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
