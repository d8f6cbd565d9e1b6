#!/usr/bin/env python3
"""Evaluate an exported ExitLens model directory on the val split (teacher forced, F32):
per-layer loss / top-1 through ln_f + head and through the exit heads, first-correct-layer
distribution, controller precision / recall / F1 for stop and exit per threshold, a
teacher-forced simulation of the SEC decision rule, and greedy samples from test prompts
(HF transformers generate). Writes JSON to --out."""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from exitlib import (Residuals, controller_labels, final_logits, first_correct, load_backbone,
                     load_controller, load_exits, tokens, val_windows)

HERE = os.path.dirname(os.path.abspath(__file__))
TAUS = (0.0, 0.5, 0.8, 0.9, 0.95)
SEC = ((0.95, 0.9), (0.9, 0.7), (0.8, 0.6))  # (tau_exit, tau_stop), the paper's GPT-2 Python settings


def prf(pred, gold):
    tp = (pred & gold).sum().item(); fp = (pred & ~gold).sum().item(); fn = (~pred & gold).sum().item()
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "predicted": tp + fp, "gold": tp + fn}


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval-seqs", type=int, default=64)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--samples-only", action="store_true", help="only redo the samples of an existing --out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_backbone(args.model)
    if args.samples_only:
        rep = json.load(open(args.out))
        rep["samples"] = samples(args, model)
        json.dump(rep, open(args.out, "w"), indent=1)
        return
    heads = load_exits(os.path.join(args.model, "exits.safetensors"), model)
    W = load_controller(os.path.join(args.model, "controller.safetensors"))
    res = Residuals(model)
    L, T = model.config.n_layer, model.config.n_positions
    val = tokens(args.data, "val")
    bb_loss = np.zeros(L); bb_acc = np.zeros(L); ex_loss = np.zeros(L); ex_acc = np.zeros(L)
    fs, probs, labs, exit_correct = [], [], [], []
    n = 0
    for x, y in val_windows(val, T, args.eval_seqs):
        hs = res(x)
        yf = y.reshape(-1)
        correct = []
        for l in range(1, L + 1):
            h = hs[l - 1][0]
            lg_b = final_logits(model, h)
            bb_loss[l - 1] += F.cross_entropy(lg_b, yf, reduction="sum").item()
            bb_acc[l - 1] += (lg_b.argmax(-1) == yf).sum().item()
            lg = heads.logits(l, h) if l < L else lg_b
            ex_loss[l - 1] += F.cross_entropy(lg, yf, reduction="sum").item()
            c = lg.argmax(-1) == yf
            ex_acc[l - 1] += c.sum().item()
            correct.append(c)
        correct = torch.stack(correct)
        f = first_correct(correct)
        fs.append(f)
        exit_correct.append(correct)
        H = torch.stack([h[0] for h in hs])
        probs.append(torch.softmax(torch.einsum("lnd,cd->lnc", H, W), -1))
        labs.append(controller_labels(f, L))
        n += yf.numel()
    f = torch.cat(fs); P = torch.cat(probs, 1); lab = torch.cat(labs, 1); C = torch.cat(exit_correct, 1)
    hist = torch.bincount(f, minlength=L + 1).float() / f.numel()
    am = P.argmax(-1)
    ctrl = {}
    for tau in TAUS:
        ctrl[str(tau)] = {
            "stop": prf((am == 0) & (P[..., 0] > tau), lab == 0),
            "exit": prf((am == 1) & (P[..., 1] > tau), lab == 1),
        }
    ctrl_acc = (am == lab).float().mean().item()
    # teacher-forced SEC rule: first layer where stop or exit fires (layer L always exits)
    sim = {}
    N = f.numel()
    for te, ts in SEC:
        stop = (am == 0) & (P[..., 0] > ts)
        ex = (am == 1) & (P[..., 1] > te)
        ex[L - 1] = True
        fire = stop | ex
        first = fire.float().argmax(0)  # 0-based layer where a decision fires
        idx = torch.arange(N)
        stopped = stop[first, idx]
        layer = first + 1
        corr = C[first, idx] & ~stopped
        sim[f"{te},{ts}"] = {
            "mean_exit_layer": layer[~stopped].float().mean().item() if (~stopped).any() else None,
            "stop_rate": stopped.float().mean().item(),
            "top1_emitted": corr.float().sum().item() / max(1, (~stopped).sum().item()),
            "stopped_on_never_correct": (stopped & (f == 0)).float().sum().item() / max(1, stopped.sum().item()),
        }
    rep = {
        "tokens": n,
        "backbone_lnf_head": {"loss": (bb_loss / n).tolist(), "acc": (bb_acc / n).tolist()},
        "exit_heads": {"kind": heads.kind, "loss": (ex_loss / n).tolist(), "acc": (ex_acc / n).tolist()},
        "first_correct": {"hist": hist.tolist(), "layer1": hist[1].item(), "never": hist[0].item(),
                          "mean_f_when_correct": f[f > 0].float().mean().item()},
        "controller": ctrl, "controller_argmax_acc": ctrl_acc, "sec_teacher_forced": sim,
    }
    res.close()
    rep["samples"] = samples(args, model)
    json.dump(rep, open(args.out, "w"), indent=1)
    print(json.dumps({k: rep[k] for k in ("tokens", "first_correct", "controller_argmax_acc")}, indent=1))


def samples(args, model):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    man = json.load(open(os.path.join(args.data, "manifest.json")))
    out = []
    rng = np.random.default_rng(2024)
    files = [f for f in man["splits"]["test"]]
    order = rng.permutation(len(files))
    for j in order:
        if len(out) >= args.samples:
            break
        text = open(os.path.join(args.data, "test", files[j]), encoding="utf-8").read()
        lines = text.splitlines(keepends=True)
        defs = [i for i, l in enumerate(lines) if l.lstrip().startswith("def ") and i + 3 < len(lines)]
        if not defs:
            continue
        i = defs[int(rng.integers(len(defs)))]
        # end the prompt at the end of a line's text (no trailing newline): a lone "\n" token at the end
        # would be out of distribution for byte-level BPE, which merges a newline with the next indentation
        prompt = "".join(lines[max(0, i - 20): i + 2]).rstrip("\n")
        ids = tok.encode(prompt).ids[-min(400, model.config.n_positions - 49):]
        g = model.generate(torch.tensor([ids]), max_new_tokens=48, do_sample=False,
                           pad_token_id=model.config.eos_token_id, eos_token_id=model.config.eos_token_id)
        comp = tok.decode(g[0, len(ids):].tolist())
        out.append({"file": files[j], "prompt_tail": "".join(lines[max(0, i - 3): i + 2]).rstrip("\n"), "completion": comp,
                    "truth": "".join(lines[i + 2: i + 6])})
    return out


if __name__ == "__main__":
    main()
