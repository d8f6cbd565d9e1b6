#!/usr/bin/env python3
"""Train the early-exit-aware GPT-2 backbone on CPU (bf16 autocast), resumably.

Loss (LayerSkip-style early-exit loss through the shared ln_f + tied head):
    loss = (CE_L + s * sum_{l<L} (l/L) * CE_l) / (1 + s * sum_{l<L} l/L)
CE_L uses every position; the intermediate CE_l use a random fraction `--ee-frac` of the
positions of the batch (the same ones for every layer; unbiased, and 1/frac cheaper).
s = --ee-scale (0 disables the early-exit loss: the ablation).

Schedule: progress p = max(tokens/token_budget, elapsed/time_budget); linear warmup, then
cosine from lr to lr/10 at p = 1; training stops at p >= 1. Checkpoint (model, optimizer,
step, tokens, elapsed) every --ckpt-every seconds to RUN/ckpt.pt; rerunning resumes it.
Batches are drawn at random offsets from a generator seeded by (seed, step): resumable and
deterministic. Writes RUN/log.jsonl and, at the end, RUN/hf/ (HF GPT-2 checkpoint, F32).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from exitlib import val_windows
from model import GPT, gpt2_config_dict, save_hf

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = {
    "full": dict(n_layer=12, n_embd=256, n_head=4, n_positions=512),
    "smoke": dict(n_layer=4, n_embd=64, n_head=2, n_positions=128),
}


def get_batch(data, B, T, rng):
    ix = rng.integers(0, len(data) - T - 1, size=B)
    x = np.stack([data[i:i + T + 1] for i in ix]).astype(np.int64)
    x = torch.from_numpy(x)
    return x[:, :-1], x[:, 1:]


def losses_per_layer(model, x, y, ee_frac, gen):
    """CE at every layer through ln_f + head; intermediate layers on a position subset."""
    hs = model.residuals(x)
    L = len(hs)
    d = hs[0].shape[-1]
    yf = y.reshape(-1)
    out = [None] * L
    out[-1] = F.cross_entropy(model.head(hs[-1]).float().view(-1, model.cfg["vocab_size"]), yf)
    if ee_frac > 0:
        n = yf.numel()
        k = max(1, int(n * ee_frac))
        sel = torch.randperm(n, generator=gen)[:k]
        for l in range(L - 1):
            h = hs[l].reshape(-1, d)[sel]
            out[l] = F.cross_entropy(model.head(h).float(), yf[sel])
    return out


@torch.no_grad()
def evaluate(model, val, T, n_seq, bf16):
    """Mean loss / top-1 at every layer (ln_f + head) over n_seq val windows spread over the split."""
    model.eval()
    L = model.cfg["n_layer"]
    tot_loss = np.zeros(L); tot_acc = np.zeros(L); n = 0
    for x, _ in val_windows(val, T, n_seq):
        x = torch.cat([x, _[:, -1:]], 1)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hs = model.residuals(x[:, :-1])
            for l, h in enumerate(hs):
                lg = model.head(h).float()[0]
                tot_loss[l] += F.cross_entropy(lg, x[0, 1:], reduction="sum").item()
                tot_acc[l] += (lg.argmax(-1) == x[0, 1:]).sum().item()
        n += T
    model.train()
    return (tot_loss / n).tolist(), (tot_acc / n).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--run", default=os.path.join(HERE, "runs", "backbone"))
    ap.add_argument("--config", default="full", choices=sorted(CONFIGS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--ee-scale", type=float, default=0.1)
    ap.add_argument("--ee-frac", type=float, default=0.25)
    ap.add_argument("--time-budget", type=float, default=7200.0, help="seconds of training")
    ap.add_argument("--token-budget", type=float, default=0, help="tokens (0 = time only)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--ckpt-every", type=float, default=300.0)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-seqs", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--compile", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.run, exist_ok=True)
    meta = json.load(open(os.path.join(args.data, "tokens", "meta.json")))
    train = np.memmap(os.path.join(args.data, "tokens", "train.bin"), dtype=np.uint16, mode="r")
    val = np.memmap(os.path.join(args.data, "tokens", "val.bin"), dtype=np.uint16, mode="r")
    c = CONFIGS[args.config]
    cfg = gpt2_config_dict(c["n_layer"], c["n_embd"], c["n_head"], c["n_positions"], meta["vocab_size"], meta["eot"])
    T, B, L = c["n_positions"], args.batch, c["n_layer"]
    bf16 = not args.no_bf16
    model = GPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    step, tokens, elapsed = 0, 0, 0.0
    ckpt_path = os.path.join(args.run, "ckpt.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
        step, tokens, elapsed = ck["step"], ck["tokens"], ck["elapsed"]
        print(f"resumed at step {step}, {tokens} tokens, {elapsed:.0f}s")
    json.dump(vars(args) | {"model": cfg}, open(os.path.join(args.run, "args.json"), "w"), indent=1)
    fwd = torch.compile(losses_per_layer) if args.compile else losses_per_layer
    w = [(l + 1) / L for l in range(L - 1)]
    s = args.ee_scale
    norm = 1 + s * sum(w)
    log = open(os.path.join(args.run, "log.jsonl"), "a")

    def progress():
        p = elapsed / args.time_budget if args.time_budget > 0 else 0.0
        if args.token_budget > 0:
            p = max(p, tokens / args.token_budget)
        if args.max_steps > 0:
            p = max(p, step / args.max_steps)
        return p

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "tokens": tokens, "elapsed": elapsed, "cfg": cfg}, tmp)
        os.replace(tmp, ckpt_path)

    last_ckpt = time.time()
    t_log, tok_log = time.time(), 0
    model.train()
    while progress() < 1.0:
        t0 = time.time()
        p = progress()
        lr = args.lr * min(1.0, (step + 1) / args.warmup)
        if step >= args.warmup:
            lr = args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))
        for g in opt.param_groups:
            g["lr"] = lr
        rng = np.random.default_rng([args.seed, step])
        gen = torch.Generator().manual_seed(args.seed * 1000003 + step)
        x, y = get_batch(train, B, T, rng)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            ls = fwd(model, x, y, args.ee_frac if s > 0 else 0.0, gen)
        loss = ls[-1]
        if s > 0:
            loss = (ls[-1] + s * sum(wi * li for wi, li in zip(w, ls[:-1]))) / norm
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += B * T
        tok_log += B * T
        elapsed += time.time() - t0
        if step % 10 == 0 or step == 1:
            dt = time.time() - t_log
            rec = {"step": step, "tokens": tokens, "elapsed": round(elapsed, 1), "lr": lr,
                   "loss_L": round(ls[-1].item(), 4), "tok_s": round(tok_log / dt, 1)}
            if s > 0:
                rec["loss_ee"] = [round(v.item(), 3) for v in ls[:-1]]
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n"); log.flush()
            t_log, tok_log = time.time(), 0
        if args.eval_every and step % args.eval_every == 0:
            vl, va = evaluate(model, val, T, args.eval_seqs, bf16)
            rec = {"step": step, "tokens": tokens, "val_loss": vl, "val_acc": va}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n"); log.flush()
        if time.time() - last_ckpt > args.ckpt_every:
            save(); last_ckpt = time.time()
    save()
    vl, va = evaluate(model, val, T, args.eval_seqs, bf16)
    rec = {"final": True, "step": step, "tokens": tokens, "elapsed": elapsed, "val_loss": vl, "val_acc": va}
    print(json.dumps(rec), flush=True)
    log.write(json.dumps(rec) + "\n"); log.flush()
    json.dump(rec, open(os.path.join(args.run, "final.json"), "w"), indent=1)
    save_hf(model, os.path.join(args.run, "hf"), os.path.join(args.data, "tokenizer.json"), dtype=torch.float32)


if __name__ == "__main__":
    main()
