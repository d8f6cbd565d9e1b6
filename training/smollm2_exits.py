#!/usr/bin/env python3
"""Exit translators and the Stop&Exit Controller for the frozen SmolLM2-135M GGUF backbone.

Stages (each skipped when its output exists, so running again resumes):
  check       load the GGUF in PyTorch (dequantised, frozen); greedy continuations of a few prompts,
              compared with the Swift engine's (`--exitlens PATH`) when that binary is given
  cache       run the backbone over ~256-token windows of the TRAIN split (and a little of VAL) once;
              keep, per position, the raw residual after every block (fp16) and the next token. The
              windows are a seeded sequence stored in part files (cache_train.pt, cache_train.1.pt, ...),
              so raising --train-windows extends an existing cache instead of recomputing it
  translators per-layer rank-r translators for layers 1..L-1, trained with KL(final || layer)
  hard-negatives a second phase whose softmax also holds the junk tokens the translators rank high
  labels      the paper's labels (first-correct layer vs the true next token) on held-out train
              positions (full-vocabulary argmax at every layer: the costly part, stored in labels*.pt)
  controller  Linear(d, 3) without bias on layers 1..L-1, CE weighted by layer index
  eval        per-layer agreement with the final top-1, accuracy, KL and loss on VAL, trained vs logit
              lens; controller precision/recall; a (tau_exit, tau_stop) sweep over the paper's grid,
              teacher-forced; the oracle bound; everything into report*.json
  export      ../models/smollm2-135m/{exits,controller}.safetensors and the report as exits_report.json

Why the loss is restricted to a vocabulary subset: the tied head is 49,152 x 576, and on a shared
2-core CPU one full-vocabulary projection of 512 rows takes ~1.5 s. So training uses the softmax over
a fixed set C of the tokens the final layer actually predicts on the train cache (most frequent in its
top-8), plus fresh random "negatives" from outside C every step, which teach each translator to keep
mass off tokens the final layer never wants. Evaluation and labels always use the full vocabulary.
"""
import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = [
    "import os\nimport sys\n\n\ndef read_file(path):\n    with open(path",
    "def fibonacci(n):\n    if n",
    "class Stack:\n    def __init__(self):\n        self.",
    "for i in range(10):\n    print(",
]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def load_backbone(gguf):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    d, f = os.path.split(os.path.abspath(gguf))
    t = time.time()
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    model.eval().requires_grad_(False)
    log(f"loaded {f} in {time.time() - t:.1f} s: {model.config.num_hidden_layers} layers, d {model.config.hidden_size}")
    return tok, model


class Frozen:
    """What the exits need from the backbone: its final RMSNorm and tied head (fp32, frozen)."""

    def __init__(self, g, eps, W, L):
        self.g, self.eps, self.W, self.L = g, eps, W, L

    @staticmethod
    def of_model(model):
        return Frozen(model.model.norm.weight.detach().float().clone(), model.model.norm.variance_epsilon,
                      model.lm_head.weight.detach().float().contiguous(), model.config.num_hidden_layers)

    @staticmethod
    def of_gguf(path):
        """The same tensors read straight from the GGUF (a few seconds on a quiet machine, where building
        the whole transformers model takes minutes): once the caches exist nothing else is needed."""
        import gguf
        r = gguf.GGUFReader(path)
        arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
        t = {x.name: x for x in r.tensors}
        head = t.get("output.weight", t["token_embd.weight"])  # tied when there is no output.weight
        W = torch.from_numpy(gguf.quants.dequantize(head.data, head.tensor_type).astype(np.float32).copy())
        g = torch.from_numpy(gguf.quants.dequantize(t["output_norm.weight"].data, t["output_norm.weight"].tensor_type).astype(np.float32).copy())
        eps = float(r.fields[f"{arch}.attention.layer_norm_rms_epsilon"].parts[-1][0])
        L = int(r.fields[f"{arch}.block_count"].parts[-1][0])
        log(f"read the final norm and head from {os.path.basename(path)}: W {tuple(W.shape)}, {L} layers")
        return Frozen(g, eps, W.contiguous(), L)

    def norm(self, h):
        return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps) * self.g

    def argmax_full(self, n, chunk=256):
        """Full-vocabulary argmax of W·n for rows of n (chunked to bound memory)."""
        out = []
        for i in range(0, n.shape[0], chunk):
            out.append((n[i:i + chunk] @ self.W.T).argmax(-1))
        return torch.cat(out)


# ---------------------------------------------------------------- check

def stage_check(args, tok, model, out):
    rows = []
    for p in PROMPTS:
        ids = tok(p, add_special_tokens=False, return_tensors="pt").input_ids
        gen = model.generate(ids, max_new_tokens=6, do_sample=False)
        text = tok.decode(gen[0, ids.shape[1]:])
        first = tok.decode(gen[0, ids.shape[1]:ids.shape[1] + 1])
        row = {"prompt": p, "torch": text, "torch_first": first}
        if args.exitlens and os.path.exists(args.exitlens):
            r = subprocess.run([args.exitlens, "complete", "--model", args.gguf, "--max-tokens", "6", p],
                               capture_output=True, text=True, timeout=300)
            row["engine"] = r.stdout
            row["first_token_equal"] = r.stdout.startswith(first)
        rows.append(row)
        log(json.dumps(row))
    json.dump(rows, open(out, "w"), indent=1)


# ---------------------------------------------------------------- cache

def split_files(data, split):
    root = os.path.join(data, split)
    files = []
    for dp, _, fs in os.walk(root):
        files += [os.path.join(dp, f) for f in fs if f.endswith(".py")]
    return sorted(files)


def windows(tok, files, rng, n_win, T):
    """n_win windows of T+1 tokens: from the file start a quarter of the time (imports, headers),
    else at a random offset; files shorter than T+1 tokens are skipped."""
    order = list(range(len(files)))
    rng.shuffle(order)
    got = []
    for i in order:
        if len(got) == n_win:
            break
        text = open(files[i], encoding="utf-8").read()[:40000]
        ids = tok(text, add_special_tokens=False).input_ids
        if len(ids) < T + 1:
            continue
        off = 0 if rng.random() < 0.25 else rng.randrange(0, len(ids) - T)
        got.append(ids[off:off + T + 1])
    return torch.tensor(got)


def cache_parts(path):
    """The cache's part files in order: PATH, then PATH with .1, .2, ... before the extension."""
    base, ext = os.path.splitext(path)
    parts, k = [], 0
    while True:
        p = path if k == 0 else f"{base}.{k}{ext}"
        if not os.path.exists(p):
            return parts, p
        parts.append(p)
        k += 1


def stage_cache(args, tok, model, split, path, seconds, n_windows):
    """Residuals after every block (1..L, raw, fp16) for positions >= args.min_ctx of each window.

    The windows are a seeded sequence, so a cache can be extended: the windows already stored in the
    part files are skipped and new parts (every `--part-windows` windows) are appended until
    `n_windows` are stored or `seconds` have passed. The backbone forward is the expensive part."""
    rng = random.Random(args.seed + (0 if split == "train" else 1))
    parts, nxt = cache_parts(path)
    done = sum(torch.load(p, mmap=True)["windows"] for p in parts)
    if done >= n_windows:
        return
    files = split_files(args.data, split)
    raw_final = {}
    hook = model.model.norm.register_forward_pre_hook(lambda m, a: raw_final.__setitem__("h", a[0]))
    T, B, lo = args.window, args.batch_windows, args.min_ctx
    allw = windows(tok, files, rng, n_windows, T)
    log(f"cache {split}: {done} windows stored, computing {allw.shape[0] - done} more")
    H, Y = [], []
    t0 = t_part = time.time()
    w0 = done

    def flush():
        nonlocal H, Y, w0, t_part, parts, nxt
        if not H:
            return
        Hc, Yc = torch.cat(H), torch.cat(Y)
        torch.save({"H": Hc, "Y": Yc, "windows": done - w0, "first_window": w0, "tokens": (done - w0) * T,
                    "seconds": time.time() - t_part, "files": len(files)}, nxt)
        log(f"cache {split}: saved {tuple(Hc.shape)} to {nxt}")
        parts, nxt = cache_parts(path)
        H, Y, w0, t_part = [], [], done, time.time()

    with torch.no_grad():
        for b in range(done, allw.shape[0], B):
            w = allw[b:b + B]
            o = model.model(input_ids=w[:, :T], output_hidden_states=True)
            assert len(o.hidden_states) == model.config.num_hidden_layers + 1, "expected embeddings + one state per block"
            hs = list(o.hidden_states[1:model.config.num_hidden_layers]) + [raw_final["h"]]  # after block 1..L
            H.append(torch.stack(hs, 2)[:, lo:].reshape(-1, len(hs), hs[0].shape[-1]).half())
            Y.append(w[:, lo + 1:T + 1].reshape(-1))
            done = b + w.shape[0]
            el = time.time() - t0
            log(f"cache {split}: {done} windows, {(done - w0) * (T - lo)} positions in this part, "
                f"{(done - w0) * T / max(time.time() - t_part, 1e-9):.0f} tok/s")
            if done - w0 >= args.part_windows:
                flush()
            if el > seconds:
                break
    flush()
    hook.remove()


def load_cache(path):
    """All part files of a cache, concatenated in window order."""
    parts, _ = cache_parts(path)
    cs = [torch.load(p) for p in parts]
    out = {"H": torch.cat([c["H"] for c in cs]), "Y": torch.cat([c["Y"] for c in cs]),
           "windows": sum(c["windows"] for c in cs), "tokens": sum(c["tokens"] for c in cs),
           "seconds": sum(c["seconds"] for c in cs), "files": cs[0]["files"], "parts": len(cs)}
    return out


# ---------------------------------------------------------------- translators

class Translators(torch.nn.Module):
    """h + up·(down·h) + bias for every layer at once (layer index = first dim)."""

    def __init__(self, layers, d, r, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        # up starts at zero: every translator starts as the plain logit lens
        self.down = torch.nn.Parameter(torch.randn(layers, r, d, generator=g) / math.sqrt(d))
        self.up = torch.nn.Parameter(torch.zeros(layers, d, r))
        self.bias = torch.nn.Parameter(torch.zeros(layers, d))

    def forward(self, x):  # x [layers, N, d]
        return x + torch.bmm(torch.bmm(x, self.down.transpose(1, 2)), self.up.transpose(1, 2)) + self.bias[:, None]


def candidate_vocab(fr, H, k_top, size, seed):
    """The `size` tokens most often in the final layer's top-k on a sample of the train cache."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(H.shape[0], generator=g)[:3000]
    counts = torch.zeros(fr.W.shape[0])
    with torch.no_grad():
        for i in range(0, idx.numel(), 250):
            n = fr.norm(H[idx[i:i + 250], -1].float())
            top = (n @ fr.W.T).topk(k_top, -1).indices.reshape(-1)
            counts += torch.bincount(top, minlength=counts.numel()).float()
    C = counts.argsort(descending=True)[:size]
    covered = counts[C].sum() / counts.sum()
    log(f"candidate vocabulary: {size} tokens hold {covered:.1%} of the final top-{k_top} slots")
    return C.sort().values


def stage_translators(args, fr, train, ckpt, held_out):
    H = train["H"]
    L, d = fr.L, fr.W.shape[1]
    pool = torch.arange(H.shape[0])[held_out:]  # the first `held_out` positions are kept for the controller
    torch.manual_seed(args.seed)
    net = Translators(L - 1, d, args.rank, args.seed)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    state = {"step": 0, "total": None, "seconds": 0.0, "log": []}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        net.load_state_dict(c["net"]); opt.load_state_dict(c["opt"]); state = c["state"]; C = c["C"]
        log(f"resumed at step {state['step']} / {state['total']} ({state['seconds']:.0f} s done)")
        if state.get("done"):
            return net
    else:
        C = candidate_vocab(fr, H[pool], 8, args.vocab, args.seed)
    inC = torch.zeros(fr.W.shape[0], dtype=torch.bool); inC[C] = True
    outside = (~inC).nonzero().squeeze(1)
    gen = torch.Generator().manual_seed(args.seed + state["step"])
    t_last = time.time(); t_ck = time.time()
    while state["total"] is None or state["step"] < state["total"]:
        t = time.time()
        idx = pool[torch.randint(pool.numel(), (args.batch,), generator=gen)]
        neg = outside[torch.randint(outside.numel(), (args.negatives,), generator=gen)]
        Wc = fr.W[torch.cat([C, neg])]
        x = H[idx].float()  # [B, L, d]
        with torch.no_grad():
            p_log = F.log_softmax(fr.norm(x[:, -1]) @ Wc.T, -1)  # teacher over C ∪ negatives
        s = net(x[:, :L - 1].transpose(0, 1))  # [L-1, B, d]
        q_log = F.log_softmax(fr.norm(s) @ Wc.T, -1)
        kl = (p_log.exp() * (p_log - q_log)).sum(-1).mean(1)  # per layer
        loss = kl.sum()
        if state["total"] is not None:
            frac = state["step"] / state["total"]
            for gr in opt.param_groups:
                gr["lr"] = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        opt.zero_grad(); loss.backward(); opt.step()
        state["step"] += 1
        dt = time.time() - t
        state["seconds"] += dt
        if state["total"] is None and args.train_steps > 0 and state["step"] == 5:
            state["total"] = args.train_steps  # fixed where a timed run fixes it: the same lr at every step
        if state["total"] is None and state["step"] == 5:
            # fix the schedule's length from the measured speed, once (stored, so a resume keeps it)
            state["total"] = max(10, int(args.train_seconds / (state["seconds"] / 5)))
            log(f"{state['seconds'] / 5:.2f} s/step -> {state['total']} steps in ~{args.train_seconds} s")
        if state["step"] % 20 == 0 or time.time() - t_last > 60:
            t_last = time.time()
            row = {"step": state["step"], "seconds": round(state["seconds"]), "kl_mean": round(kl.mean().item(), 4),
                   "kl": [round(v, 3) for v in kl.tolist()[::4]]}
            state["log"].append(row)
            log(f"step {state['step']}/{state['total']} {state['seconds']:.0f}s KL mean {row['kl_mean']} "
                f"(layers 1,5,..: {row['kl']})")
        if time.time() - t_ck > 120:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "state": state, "C": C}, ckpt)
            t_ck = time.time()
    state["done"] = True
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "state": state, "C": C}, ckpt)
    return net


def stage_hard_negatives(args, fr, train, base_ckpt, ckpt, held_out):
    """A second, short phase: tokens outside C that the translators themselves rank high (mined on
    train positions with the full vocabulary) join every step's softmax, so each head learns to push
    down exactly the junk it produces; the first run showed such tokens surfacing once exits feed
    the model its own prefixes."""
    H = train["H"]
    L, d = fr.L, fr.W.shape[1]
    pool = torch.arange(H.shape[0])[held_out:]
    net = Translators(L - 1, d, args.rank, args.seed)
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        net.load_state_dict(c["net"])
        if c["state"].get("done"):
            return net
    base = torch.load(base_ckpt)
    net.load_state_dict(base["net"]); C = base["C"]
    inC = torch.zeros(fr.W.shape[0], dtype=torch.bool); inC[C] = True
    gen = torch.Generator().manual_seed(args.seed + 1)
    t = time.time()
    with torch.no_grad():
        idx = pool[torch.randperm(pool.numel(), generator=gen)[:args.mine_positions]]
        x = net(H[idx, :L - 1].float().transpose(0, 1))  # [L-1, N, d]
        hits = torch.zeros(fr.W.shape[0])
        for l in range(L - 1):
            for i in range(0, x.shape[1], 256):
                top = (fr.norm(x[l, i:i + 256]) @ fr.W.T).topk(10, -1).indices.reshape(-1)
                hits += torch.bincount(top, minlength=hits.numel()).float()
    hard = ((hits > 0) & ~inC).nonzero().squeeze(1)
    log(f"mined {hard.numel()} tokens outside C in the translators' top-10 ({time.time() - t:.0f} s)")
    outside = (~inC).nonzero().squeeze(1)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr * 0.3)
    state = {"step": 0, "seconds": 0.0, "hard": hard.numel(), "log": []}
    t_ck = time.time()
    while (state["step"] < args.hard_steps) if args.hard_steps > 0 else (state["seconds"] < args.hard_seconds):
        t = time.time()
        idx = pool[torch.randint(pool.numel(), (args.batch,), generator=gen)]
        neg = outside[torch.randint(outside.numel(), (args.negatives,), generator=gen)]
        Wc = fr.W[torch.unique(torch.cat([C, hard, neg]))]
        x = H[idx].float()
        with torch.no_grad():
            p_log = F.log_softmax(fr.norm(x[:, -1]) @ Wc.T, -1)
        q_log = F.log_softmax(fr.norm(net(x[:, :L - 1].transpose(0, 1))) @ Wc.T, -1)
        kl = (p_log.exp() * (p_log - q_log)).sum(-1).mean(1)
        opt.zero_grad(); kl.sum().backward(); opt.step()
        state["step"] += 1; state["seconds"] += time.time() - t
        if state["step"] % 10 == 0:
            state["log"].append({"step": state["step"], "seconds": round(state["seconds"]), "kl_mean": round(kl.mean().item(), 4)})
            log(f"hard-negative step {state['step']} {state['seconds']:.0f}s KL mean {kl.mean().item():.4f}")
        if time.time() - t_ck > 120:
            torch.save({"net": net.state_dict(), "state": state}, ckpt); t_ck = time.time()
    state["done"] = True
    torch.save({"net": net.state_dict(), "state": state}, ckpt)
    return net


def exported(net):
    """The translators as they will be shipped (F16), back in fp32: evaluate what the engine reads."""
    return {k: v.detach().half().float() for k, v in net.state_dict().items()}


def translate(sd, l, h):  # l 1-based layer
    i = l - 1
    return h + (h @ sd["down"][i].T) @ sd["up"][i].T + sd["bias"][i]


def layer_predictions(fr, sd, H, lens):
    """Full-vocabulary argmax at layers 1..L for every position: [N, L] (layer L = the model's head)."""
    L = fr.L
    P = torch.empty(H.shape[0], L, dtype=torch.long)
    with torch.no_grad():
        for l in range(1, L + 1):
            h = H[:, l - 1].float()
            if l < L and not lens:
                h = translate(sd, l, h)
            P[:, l - 1] = fr.argmax_full(fr.norm(h))
    return P


def first_correct(P, Y):
    """The paper's f: smallest 1-based layer whose argmax is the true next token, 0 when none is."""
    ok = P == Y[:, None]
    f = torch.where(ok.any(1), ok.float().argmax(1) + 1, torch.zeros_like(Y))
    return f


def controller_labels(f, L):
    """Per position and layer i = 1..L: 0 stop (f = 0), 1 exit (1 <= f <= i), 2 continue (f > i)."""
    i = torch.arange(1, L + 1)[None]
    lab = torch.full((f.numel(), L), 2, dtype=torch.long)
    lab[(f[:, None] >= 1) & (f[:, None] <= i)] = 1
    lab[f == 0] = 0
    return lab


def stage_labels(args, fr, sd, train, held_out, path):
    """The paper's labels on the held-out train positions (full-vocabulary argmax at every layer,
    the expensive part, so stored: controller variants retrain from this file in seconds)."""
    H, Y = train["H"][:held_out], train["Y"][:held_out]
    t = time.time()
    P = layer_predictions(fr, sd, H, lens=False)
    f = first_correct(P, Y)
    log(f"controller labels on {held_out} held-out train positions in {time.time() - t:.0f} s: "
        f"stop {(f == 0).float().mean():.3f}, first-correct at layer 1 {(f == 1).float().mean():.3f}")
    torch.save({"P": P, "Y": Y, "f": f, "seconds": time.time() - t}, path)


def stage_controller(args, fr, train, labels, held_out, path):
    """Linear(d, 3) without bias on the raw residual, CE weighted by the layer index (the paper's), on
    the candidate layers 1..L-1 only: the engine decides after those, never after layer L (the original
    recipe also trained on layer L, where the weight L made it the largest term of a loss that never
    acts). `--ctl-balance` additionally weights each class by its inverse share."""
    L = fr.L
    X = train["H"][:held_out, :L - 1].float()  # [N, L-1, d]
    lab = controller_labels(labels["f"], L)[:, :L - 1]
    t = time.time()
    shares = torch.stack([(lab == c).float().mean() for c in range(3)])
    cw = (1.0 / shares) / (1.0 / shares).sum() * 3 if args.ctl_balance else torch.ones(3)
    w = torch.arange(1, L).float()[None].expand_as(lab) * cw[lab]
    # raw residuals grow with depth; scale inputs once so Adam's steps suit every layer,
    # then fold the scale back into the weight (the engine applies W to the raw h)
    scale = X.pow(2).mean().sqrt().item()
    torch.manual_seed(args.seed)
    lin = torch.nn.Linear(X.shape[-1], 3, bias=False)
    torch.nn.init.zeros_(lin.weight)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    Xs = (X / scale).reshape(-1, X.shape[-1])
    labf, wf = lab.reshape(-1), w.reshape(-1)
    for step in range(args.controller_steps):
        ce = F.cross_entropy(lin(Xs), labf, reduction="none")
        loss = (ce * wf).sum() / wf.sum()
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 100 == 0 or step == args.controller_steps - 1:
            log(f"controller step {step} weighted CE {loss.item():.4f}")
    W = (lin.weight.detach() / scale).contiguous()
    per_layer = [[round((lab[:, i] == c).float().mean().item(), 4) for c in range(3)] for i in range(L - 1)]
    torch.save({"W": W, "label_shares": {"stop": shares[0].item(), "exit": shares[1].item(), "continue": shares[2].item()},
                "label_shares_by_layer": per_layer, "class_weights": cw.tolist(), "layers_trained": f"1..{L - 1}",
                "positions": held_out, "steps": args.controller_steps, "seconds": time.time() - t + labels["seconds"]}, path)
    return W


# ---------------------------------------------------------------- eval

def decide(p, tau_exit, tau_stop):
    """The engine's rule: argmax (first on ties), and strictly above its threshold; 0 stop 1 exit 2 continue."""
    best = p.argmax(-1)
    d = torch.full_like(best, 2)
    d[(best == 0) & (p[..., 0] > tau_stop)] = 0
    d[(best == 1) & (p[..., 1] > tau_exit)] = 1
    return d


def simulate(probs, P, Y, L, tau_exit, tau_stop):
    """The policy teacher-forced per position: the first layer < L where it exits or stops, else the
    model's head at L. Cost counts the blocks run (an exit at l runs l of L; a stop at l also ran l)."""
    dec = decide(probs, tau_exit, tau_stop)[:, :L - 1]
    acted = dec != 2
    n = torch.arange(len(Y))
    first = torch.where(acted.any(1), acted.float().argmax(1) + 1, torch.full_like(Y, L))
    kind = torch.where(first < L, dec[n, (first - 1).clamp(max=L - 2)], torch.ones_like(Y))
    tok = P[n, first - 1]
    final = P[:, -1]
    ex = kind == 1
    return {"stop_share": (kind == 0).float().mean().item(),
            "mean_layer": first.float().mean().item(),
            "blocks_ratio": (first.float() / L).mean().item(),
            "mean_exit_layer": first[ex].float().mean().item() if ex.any() else None,
            # the proxy for quality: tokens that would differ from full depth's (stops count as differing)
            "changed_share": ((kind == 0) | (tok != final)).float().mean().item(),
            "exit_token_equals_final": (tok[ex] == final[ex]).float().mean().item() if ex.any() else None,
            "exit_token_correct": (tok[ex] == Y[ex]).float().mean().item() if ex.any() else None,
            "stopped_final_wrong": ((kind == 0) & (final != Y)).float().sum().item() / max((kind == 0).sum().item(), 1)}


def stage_eval(args, fr, sd, val, Wc, report_path, preds_path, extra):
    # a seeded sample of positions spread over all val windows
    pick = torch.randperm(val["H"].shape[0], generator=torch.Generator().manual_seed(args.seed))[:args.val_positions]
    H, Y = val["H"][pick], val["Y"][pick]
    L = fr.L
    t = time.time()
    key = {"val_positions": args.val_positions, "kl_positions": args.kl_positions, "seed": args.seed}
    c = torch.load(preds_path) if os.path.exists(preds_path) else None
    if c is not None and c.get("key") == key:  # the per-layer predictions depend only on the translators: reuse
        P_tr, P_ln, kl_tr, kl_ln, ce_tr, ce_ln = (c[k] for k in ("P_tr", "P_ln", "kl_tr", "kl_ln", "ce_tr", "ce_ln"))
    else:
        P_tr = layer_predictions(fr, sd, H, lens=False)
        P_ln = layer_predictions(fr, sd, H, lens=True)
        with torch.no_grad():  # val KL(final || layer) and CE vs the true token, full vocabulary, on a subset
            sub, ysub = H[:args.kl_positions].float(), Y[:args.kl_positions]
            pf = F.log_softmax(fr.norm(sub[:, -1]) @ fr.W.T, -1)
            kl_tr, kl_ln, ce_tr, ce_ln = [], [], [], []
            for l in range(1, L):
                for lens, kl, ce in ((False, kl_tr, ce_tr), (True, kl_ln, ce_ln)):
                    h = sub[:, l - 1] if lens else translate(sd, l, sub[:, l - 1])
                    q = F.log_softmax(fr.norm(h) @ fr.W.T, -1)
                    kl.append((pf.exp() * (pf - q)).sum(-1).mean().item())
                    ce.append(-q.gather(1, ysub[:, None]).mean().item())
            for ce in (ce_tr, ce_ln):
                ce.append(-pf.gather(1, ysub[:, None]).mean().item())
        torch.save({"key": key, "P_tr": P_tr, "P_ln": P_ln, "kl_tr": kl_tr, "kl_ln": kl_ln, "ce_tr": ce_tr, "ce_ln": ce_ln}, preds_path)
    final = P_tr[:, -1]
    rows = []
    for l in range(1, L + 1):
        rows.append({"layer": l,
                     "agree_trained": (P_tr[:, l - 1] == final).float().mean().item(),
                     "agree_lens": (P_ln[:, l - 1] == final).float().mean().item(),
                     "acc_trained": (P_tr[:, l - 1] == Y).float().mean().item(),
                     "acc_lens": (P_ln[:, l - 1] == Y).float().mean().item(),
                     "kl_trained": kl_tr[l - 1] if l < L else 0.0, "kl_lens": kl_ln[l - 1] if l < L else 0.0,
                     "loss_trained": ce_tr[l - 1], "loss_lens": ce_ln[l - 1]})

    def settled(P):  # earliest layer from which the prediction stays equal to the final one
        same = (P == final[:, None]).flip(1).cumprod(1).flip(1)
        return (L - same.sum(1) + 1).float().mean().item()

    f_tr, f_ln = first_correct(P_tr, Y), first_correct(P_ln, Y)
    lab = controller_labels(f_tr, L)
    with torch.no_grad():
        probs = F.softmax(H.float() @ Wc.float().T, -1)  # [N, L, 3]
    ctrl = {}
    for tau_exit, tau_stop in ((0.0, 0.0), (0.9, 0.8), (0.95, 0.9), (0.8, 0.6), (0.9, 1.1)):
        dec = decide(probs, tau_exit, tau_stop)[:, :L - 1]  # decisions happen after layers 1..L-1
        per = {}
        for c, name in enumerate(("stop", "exit", "continue")):
            tp = ((dec == c) & (lab[:, :L - 1] == c)).sum().item()
            pp, ap = (dec == c).sum().item(), (lab[:, :L - 1] == c).sum().item()
            per[name] = {"precision": tp / pp if pp else None, "recall": tp / ap if ap else None}
        per["simulated"] = simulate(probs, P_tr, Y, L, tau_exit, tau_stop)
        ctrl[f"tau_exit={tau_exit},tau_stop={tau_stop}"] = per
    # the paper's threshold grid (and "off", > 1) for both actions, teacher-forced per position
    grid = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.1)
    sweep = [dict(tau_exit=te, tau_stop=ts, **simulate(probs, P_tr, Y, L, te, ts)) for te in grid for ts in grid]
    # what no controller can beat with these heads: exit at the first layer whose top-1 already equals
    # the final one (the same token, so zero quality change, teacher-forced)
    agree = P_tr == final[:, None]
    oracle_layer = (agree.float().argmax(1) + 1).float()
    report = {"val_positions": len(Y), "final_top1_accuracy": (final == Y).float().mean().item(),
              "mean_settled_layer": {"trained": settled(P_tr), "lens": settled(P_ln)},
              "first_correct_layer1": {"trained": (f_tr == 1).float().mean().item(), "lens": (f_ln == 1).float().mean().item()},
              "never_correct": (f_tr == 0).float().mean().item(),
              "oracle_first_agree_layer": oracle_layer.mean().item(),
              "oracle_flops_ratio": (oracle_layer / L).mean().item(),
              "tau_sweep": sweep,
              "val_label_shares": {"stop": (lab == 0).float().mean().item(), "exit": (lab == 1).float().mean().item(),
                                   "continue": (lab == 2).float().mean().item()},
              "layers": rows, "controller": ctrl, "eval_seconds": time.time() - t}
    report.update(extra)
    json.dump(report, open(report_path, "w"), indent=1)
    log(f"eval in {time.time() - t:.0f} s; settled layer trained {report['mean_settled_layer']['trained']:.1f} "
        f"lens {report['mean_settled_layer']['lens']:.1f}")
    for r in rows:
        log(f"L{r['layer']:2d} agree {r['agree_trained']:.3f} (lens {r['agree_lens']:.3f})  acc {r['acc_trained']:.3f} "
            f"(lens {r['acc_lens']:.3f})  KL {r['kl_trained']:.2f} (lens {r['kl_lens']:.2f})  "
            f"loss {r['loss_trained']:.2f} (lens {r['loss_lens']:.2f})")
    log(json.dumps(ctrl, indent=1))
    log(f"oracle first-agree layer {report['oracle_first_agree_layer']:.2f} (cost {report['oracle_flops_ratio']:.3f} of full)")
    for r in sweep:
        if r["tau_exit"] in (0.8, 0.9, 0.95, 0.99) and r["tau_stop"] in (0.9, 0.99, 0.999, 1.1):
            log("sweep " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}))
    return report


def stage_export(args, fr, sd, Wc, out_dir):
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    L = fr.L
    t = {}
    for l in range(1, L):
        t[f"exits.{l}.translator.down"] = sd["down"][l - 1].half().contiguous()
        t[f"exits.{l}.translator.up"] = sd["up"][l - 1].half().contiguous()
        t[f"exits.{l}.translator.bias"] = sd["bias"][l - 1].half().contiguous()
    save_file(t, os.path.join(out_dir, "exits.safetensors"),
              metadata={"format": "exitlens-exits-v1", "kind": "translator",
                        "layers": ",".join(str(l) for l in range(1, L)), "rank": str(args.rank)})
    save_file({"controller.weight": Wc.float().contiguous()}, os.path.join(out_dir, "controller.safetensors"),
              metadata={"format": "exitlens-controller-v1", "classes": "stop,exit,continue",
                        # The thresholds `exitlens play`/`complete` use with this controller unless told
                        # otherwise: EVALUATION.md's Pareto choice (stop on but rare).
                        "tau_exit": "0.99", "tau_stop": "0.999"})
    log(f"wrote {out_dir}/exits.safetensors and controller.safetensors")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=os.path.join(HERE, "..", "models", "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--run", default=os.path.join(HERE, "runs", "smollm2"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "models", "smollm2-135m"))
    ap.add_argument("--exitlens", default="", help="engine binary for the parity check (optional)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--min-ctx", type=int, default=16, help="positions before this in a window are not kept")
    ap.add_argument("--batch-windows", type=int, default=4)
    ap.add_argument("--cache-seconds", type=float, default=36000, help="time bound per invocation (it resumes)")
    ap.add_argument("--train-windows", type=int, default=196)
    ap.add_argument("--val-windows", type=int, default=16)
    ap.add_argument("--part-windows", type=int, default=48, help="windows per cache part file")
    ap.add_argument("--check-head", action="store_true", help="compare the GGUF reader's head with the model's")
    ap.add_argument("--stop-after", default="", choices=["", "cache"], help="end after this stage")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=3072)
    ap.add_argument("--negatives", type=int, default=512)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--train-seconds", type=float, default=1200)
    ap.add_argument("--train-steps", type=int, default=346, help="phase-1 steps (0: as many as fit --train-seconds)")
    ap.add_argument("--hard-seconds", type=float, default=420, help="second phase with mined hard negatives (0: off)")
    ap.add_argument("--hard-steps", type=int, default=140, help="phase-2 steps (0: as many as fit --hard-seconds)")
    ap.add_argument("--mine-positions", type=int, default=512)
    ap.add_argument("--held-out", type=int, default=1200, help="train positions kept for the controller's labels")
    ap.add_argument("--controller-steps", type=int, default=600)
    ap.add_argument("--ctl-balance", action=argparse.BooleanOptionalAction, default=False,
                    help="weight the controller's classes by inverse share (on top of the layer index)")
    ap.add_argument("--val-positions", type=int, default=600)
    ap.add_argument("--kl-positions", type=int, default=100, help="val positions for the full-vocabulary KL")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    t_all = time.time()

    p = os.path.join(args.run, "check.json")
    ctrain, cval = os.path.join(args.run, "cache_train.pt"), os.path.join(args.run, "cache_val.pt")

    def stored(path):
        return sum(torch.load(q, mmap=True)["windows"] for q in cache_parts(path)[0])
    if not os.path.exists(p) or stored(ctrain) < args.train_windows or stored(cval) < args.val_windows:
        tok, model = load_backbone(args.gguf)
        if not os.path.exists(p):
            stage_check(args, tok, model, p)
        stage_cache(args, tok, model, "train", ctrain, args.cache_seconds, args.train_windows)
        stage_cache(args, tok, model, "val", cval, 1e9, args.val_windows)
        if args.check_head:  # the GGUF reader's head and norm must be the model's
            a, b = Frozen.of_model(model), Frozen.of_gguf(args.gguf)
            assert torch.equal(a.W, b.W) and torch.equal(a.g, b.g) and a.eps == b.eps and a.L == b.L, "GGUF head differs"
            log("the GGUF reader's head and norm equal the transformers model's")
        del model
    if args.stop_after == "cache":
        return
    fr = Frozen.of_gguf(args.gguf)
    train, val = load_cache(ctrain), load_cache(cval)
    # windows are stored in order; shuffle positions once (seeded) so the held-out slice spans windows
    perm = torch.randperm(train["H"].shape[0], generator=torch.Generator().manual_seed(args.seed))
    train["H"], train["Y"] = train["H"][perm], train["Y"][perm]
    net = stage_translators(args, fr, train, os.path.join(args.run, "translators.pt"), args.held_out)
    suffix = ""
    if args.hard_seconds > 0:
        net = stage_hard_negatives(args, fr, train, os.path.join(args.run, "translators.pt"),
                                   os.path.join(args.run, "translators_hard.pt"), args.held_out)
        suffix = "_hard"
    sd = exported(net)
    lpath = os.path.join(args.run, f"labels{suffix}.pt")
    if not os.path.exists(lpath):
        stage_labels(args, fr, sd, train, args.held_out, lpath)
    cpath = os.path.join(args.run, f"controller{suffix}.pt")
    if not os.path.exists(cpath):
        stage_controller(args, fr, train, torch.load(lpath), args.held_out, cpath)
    ctl = torch.load(cpath)
    tstate = torch.load(os.path.join(args.run, "translators.pt"))["state"]
    extra = {"train_cache": {k: train[k] for k in ("windows", "tokens", "seconds", "files")},
             "train_positions": int(train["H"].shape[0]), "val_cache": {k: val[k] for k in ("windows", "tokens", "seconds")},
             "translator_steps": tstate["step"], "translator_seconds": tstate["seconds"], "batch": args.batch,
             "rank": args.rank, "vocab_subset": args.vocab, "negatives": args.negatives,
             "controller_training": {k: ctl[k] for k in ("positions", "seconds", "label_shares", "label_shares_by_layer",
                                                          "class_weights", "layers_trained", "steps") if k in ctl},
             "threads": args.threads, "translator_log": tstate["log"]}
    if suffix:
        extra["hard_negatives"] = torch.load(os.path.join(args.run, "translators_hard.pt"))["state"]
    stage_eval(args, fr, sd, val, ctl["W"], os.path.join(args.run, f"report{suffix}.json"),
               os.path.join(args.run, f"val_preds{suffix}.pt"), extra)
    stage_export(args, fr, sd, ctl["W"], args.out)
    shutil.copyfile(os.path.join(args.run, f"report{suffix}.json"), os.path.join(args.out, "exits_report.json"))
    log(f"done in {time.time() - t_all:.0f} s (this invocation)")


if __name__ == "__main__":
    main()
