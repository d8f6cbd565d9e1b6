#!/usr/bin/env python3
"""Controller variants on a finished `smollm2_exits.py` run (the #11 study; the shipped controller is
"paper"): the paper's labels with and without inverse-share class weights, and an "own-head" exit label
(exit at i only where head i itself is right). Each is trained like stage_controller on the run's stored
labels and scored by the same teacher-forced tau sweep on the same val positions; for each budget of
changed tokens (vs full depth) it prints the cheapest setting, stop allowed (on) or not (off), as
(tau_exit, tau_stop, blocks/full, stop share, changed share). Writes RUN/variants/."""
import os
import sys
import json
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smollm2_exits as S
torch.set_num_threads(2)
run = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "smollm2")
os.makedirs(f"{run}/variants", exist_ok=True)
train = S.load_cache(run + "/cache_train.pt")
perm = torch.randperm(train["H"].shape[0], generator=torch.Generator().manual_seed(11))
held = 1200
Hh = train["H"][perm[:held]]
val = S.load_cache(run + "/cache_val.pt")
pick = torch.randperm(val["H"].shape[0], generator=torch.Generator().manual_seed(11))[:600]
Hv, Yv = val["H"][pick], val["Y"][pick]
pv = torch.load(run + "/val_preds_hard.pt"); P_tr = pv["P_tr"]
lab = torch.load(run + "/labels_hard.pt")
L = 30
f = lab["f"]; Ptrain = lab["P"]; Ytrain = lab["Y"]
assert torch.equal(Ytrain, train["Y"][perm[:held]])
X = Hh[:, :L - 1].float()
scale = X.pow(2).mean().sqrt().item()
Xs = (X / scale).reshape(-1, X.shape[-1])
def labels(kind):
    lb = S.controller_labels(f, L)[:, :L - 1]
    if kind == "own":  # exit only where this layer's own head is right
        own = (Ptrain[:, :L - 1] == Ytrain[:, None])
        lb = torch.where(lb == 1, torch.where(own, 1, 2), lb)
    return lb
def train_ctl(lb, balance, steps=600):
    shares = torch.stack([(lb == c).float().mean() for c in range(3)])
    cw = (1 / shares) / (1 / shares).sum() * 3 if balance else torch.ones(3)
    w = (torch.arange(1, L).float()[None].expand_as(lb) * cw[lb]).reshape(-1)
    torch.manual_seed(11)
    lin = torch.nn.Linear(576, 3, bias=False); torch.nn.init.zeros_(lin.weight)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    lf = lb.reshape(-1)
    for s in range(steps):
        ce = F.cross_entropy(lin(Xs), lf, reduction="none"); loss = (ce * w).sum() / w.sum()
        opt.zero_grad(); loss.backward(); opt.step()
    return (lin.weight.detach() / scale).contiguous()
grid = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.1)
out = {}
for name, kind, bal in (("paper", "paper", False), ("paper+balance", "paper", True), ("own-head", "own", False), ("own-head+balance", "own", True)):
    W = train_ctl(labels(kind), bal)
    probs = F.softmax(Hv.float() @ W.T, -1)
    sw = [dict(tau_exit=te, tau_stop=ts, **S.simulate(probs, P_tr, Yv, L, te, ts)) for te in grid for ts in grid]
    best = {}
    for lim in (0.02, 0.05, 0.10, 0.2):
        for stop in ("on", "off"):
            c = [r for r in sw if r["changed_share"] <= lim and ((r["tau_stop"] <= 1) == (stop == "on"))]
            if c:
                r = min(c, key=lambda r: r["blocks_ratio"])
                best[f"{lim}/{stop}"] = (r["tau_exit"], r["tau_stop"], round(r["blocks_ratio"], 3), round(r["stop_share"], 3), round(r["changed_share"], 3))
    out[name] = {"sweep": sw, "best": best}
    torch.save(W, f"{run}/variants/controller_{name}.pt")
    print(name, json.dumps(best), flush=True)
json.dump(out, open(f"{run}/variants/variants.json", "w"))
