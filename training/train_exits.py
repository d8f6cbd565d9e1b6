#!/usr/bin/env python3
"""Train intermediate exit heads, the paper's way, on ANY frozen HF GPT-2 checkpoint.

For every layer l = 1..L-1 a head reads the raw residual stream after block l (no ln_f):
  separate : own Linear(d, V, bias=False) per layer (the paper); initialised at the tied
             head folded with ln_f's gain and the layer's residual scale.
  shared   : per-layer LayerNorm (weight + bias, initialised from ln_f) feeding the tied wte.
Loss: the SUM over layers of next-token cross-entropy (paper); AdamW, backbone frozen,
bf16 autocast. Resumable: OUT/exits-<kind>.ckpt. Writes OUT/exits-<kind>.safetensors
(exitlens-exits-v1) and OUT/exits-<kind>.json (val loss / top-1 per layer).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from exitlib import ExitHeads, Residuals, load_backbone, random_batch, tokens, val_windows

HERE = os.path.dirname(os.path.abspath(__file__))


@torch.no_grad()
def eval_heads(model, heads, res, val, T, n_seq):
    L = model.config.n_layer
    loss = np.zeros(L - 1); acc = np.zeros(L - 1); n = 0
    for x, y in val_windows(val, T, n_seq):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hs = res(x)
            for l in heads.layers:
                lg = heads.logits(l, hs[l - 1]).float()[0]
                loss[l - 1] += F.cross_entropy(lg, y[0], reduction="sum").item()
                acc[l - 1] += (lg.argmax(-1) == y[0]).sum().item()
        n += y.numel()
    return (loss / n).tolist(), (acc / n).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF GPT-2 checkpoint directory")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--kind", default="shared", choices=["shared", "separate"])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=0, help="sequence length (0 = n_positions)")
    ap.add_argument("--lr", type=float, default=0)
    ap.add_argument("--time-budget", type=float, default=600.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--eval-seqs", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=4321)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    model = load_backbone(args.model)
    res = Residuals(model)
    T = args.seq or model.config.n_positions
    train, val = tokens(args.data, "train"), tokens(args.data, "val")
    heads = ExitHeads(args.kind, model)
    lr = args.lr or (1e-3 if args.kind == "separate" else 3e-3)
    params = [p for n, p in heads.named_parameters() if n.startswith("heads.")]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    ck_path = os.path.join(args.out, f"exits-{args.kind}.ckpt")
    step, elapsed = 0, 0.0
    if os.path.exists(ck_path):
        ck = torch.load(ck_path, weights_only=False)
        heads.heads.load_state_dict(ck["heads"]); opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed {args.kind} at step {step}")
    elif args.kind == "separate":
        x, _ = random_batch(train, args.batch, T, np.random.default_rng([args.seed, 999999]))
        with torch.no_grad():
            heads.init_separate(model, res(x))

    def save():
        torch.save({"heads": heads.heads.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed}, ck_path + ".tmp")
        os.replace(ck_path + ".tmp", ck_path)

    last = time.time()
    while elapsed < args.time_budget and (args.max_steps == 0 or step < args.max_steps):
        t0 = time.time()
        x, y = random_batch(train, args.batch, T, np.random.default_rng([args.seed, step]))
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            hs = [h.detach() for h in res(x)]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ls = [F.cross_entropy(heads.logits(l, hs[l - 1]).float().view(-1, heads.wte.shape[0]), y.reshape(-1))
                  for l in heads.layers]
        loss = sum(ls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        elapsed += time.time() - t0
        if step % 10 == 0 or step == 1:
            print(json.dumps({"kind": args.kind, "step": step, "elapsed": round(elapsed, 1),
                              "tok_s": round(x.numel() / (time.time() - t0)),
                              "loss": [round(v.item(), 3) for v in ls]}), flush=True)
        if time.time() - last > 120:
            save(); last = time.time()
    save()
    heads.save(os.path.join(args.out, f"exits-{args.kind}.safetensors"))
    vl, va = eval_heads(model, heads, res, val, T, args.eval_seqs)
    rep = {"kind": args.kind, "eval_seqs": args.eval_seqs, "steps": step, "tokens": step * args.batch * T, "elapsed": elapsed,
           "val_loss": vl, "val_acc": va, "bytes": os.path.getsize(os.path.join(args.out, f"exits-{args.kind}.safetensors"))}
    json.dump(rep, open(os.path.join(args.out, f"exits-{args.kind}.json"), "w"), indent=1)
    print(json.dumps(rep))


if __name__ == "__main__":
    main()
