#!/usr/bin/env python3
"""Train the Stop&Exit Controller (the paper's shared Linear(d, 3, bias=False)).

Teacher-forced labels on the train split: head l = exit head l for l < L (from --exits),
lm_head(ln_f(h_L)) at L; f = first layer whose argmax is the next token (0 = none).
Label at layer i (1..L): stop if f = 0, exit if 1 <= f <= i, continue if f > i.
Loss: cross-entropy on the raw residual after block i at every i = 1..L, averaged with
weight i. AdamW; resumable (OUT/controller.ckpt). Writes OUT/controller.safetensors.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from exitlib import (Residuals, controller_labels, final_logits, first_correct, load_backbone,
                     load_exits, random_batch, save_controller, tokens)

HERE = os.path.dirname(os.path.abspath(__file__))


@torch.no_grad()
def features(model, heads, res, x, y):
    """Raw residuals [L, N, d] (float32) and first-correct f [N]."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hs = res(x)
        L = len(hs)
        yf = y.reshape(-1)
        correct = []
        for l in range(1, L + 1):
            h = hs[l - 1]
            lg = heads.logits(l, h) if l < L else final_logits(model, h)
            correct.append(lg.argmax(-1).reshape(-1) == yf)
    H = torch.stack([h.float().reshape(-1, h.shape[-1]) for h in hs])
    return H, first_correct(torch.stack(correct))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--exits", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--inner", type=int, default=4, help="optimizer steps per feature batch")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--time-budget", type=float, default=300.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    model = load_backbone(args.model)
    heads = load_exits(args.exits, model)
    res = Residuals(model)
    L, d, T = model.config.n_layer, model.config.n_embd, model.config.n_positions
    train = tokens(args.data, "train")
    W = torch.nn.Parameter(torch.zeros(3, d))
    opt = torch.optim.AdamW([W], lr=args.lr, weight_decay=0.0)
    wl = torch.arange(1, L + 1, dtype=torch.float32)
    ck = os.path.join(args.out, "controller.ckpt")
    step, elapsed = 0, 0.0
    if os.path.exists(ck):
        s = torch.load(ck, weights_only=False)
        W.data.copy_(s["W"]); opt.load_state_dict(s["opt"]); step, elapsed = s["step"], s["elapsed"]
        print("resumed controller at step", step)
    last = time.time()
    while elapsed < args.time_budget and (args.max_steps == 0 or step < args.max_steps):
        t0 = time.time()
        x, y = random_batch(train, args.batch, T, np.random.default_rng([args.seed, step]))
        H, f = features(model, heads, res, x, y)
        lab = controller_labels(f, L)  # [L, N]
        for _ in range(args.inner):
            logits = torch.einsum("lnd,cd->lnc", H, W)
            ce = F.cross_entropy(logits.reshape(-1, 3), lab.reshape(-1), reduction="none").view(L, -1).mean(1)
            loss = (wl * ce).sum() / wl.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        step += 1
        elapsed += time.time() - t0
        if step % 5 == 0 or step == 1:
            print(json.dumps({"step": step, "elapsed": round(elapsed, 1), "loss": round(loss.item(), 4),
                              "f0": round((f == 0).float().mean().item(), 3),
                              "f1": round((f == 1).float().mean().item(), 3)}), flush=True)
        if time.time() - last > 60:
            torch.save({"W": W.data, "opt": opt.state_dict(), "step": step, "elapsed": elapsed}, ck + ".tmp")
            os.replace(ck + ".tmp", ck); last = time.time()
    torch.save({"W": W.data, "opt": opt.state_dict(), "step": step, "elapsed": elapsed}, ck + ".tmp")
    os.replace(ck + ".tmp", ck)
    save_controller(W.data, os.path.join(args.out, "controller.safetensors"))
    json.dump({"steps": step, "tokens": step * args.batch * T, "elapsed": elapsed},
              open(os.path.join(args.out, "controller.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
