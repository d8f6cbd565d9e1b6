"""Shared helpers: load any HF GPT-2 checkpoint frozen, read raw residual streams with
hooks, exit-head modules and their exitlens-exits-v1 / controller-v1 file formats."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from safetensors import safe_open

CLASSES = ("stop", "exit", "continue")


def load_backbone(path):
    from transformers import GPT2LMHeadModel
    m = GPT2LMHeadModel.from_pretrained(path, dtype=torch.float32)
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m


class Residuals:
    """Context: forward hooks capturing the raw residual stream after every block."""

    def __init__(self, model):
        self.model = model
        self.h = []
        self.handles = [b.register_forward_hook(self._hook) for b in model.transformer.h]

    def _hook(self, mod, inp, out):
        self.h.append(out[0] if isinstance(out, tuple) else out)

    def __call__(self, x):
        self.h = []
        self.model.transformer(input_ids=x, use_cache=False)
        return self.h

    def close(self):
        for hd in self.handles:
            hd.remove()


def final_logits(model, h_last):
    return model.lm_head(model.transformer.ln_f(h_last))


class ExitHeads(nn.Module):
    """Heads for layers 1..L-1 (1-based, "after block l"), on the raw residual stream."""

    def __init__(self, kind, model):
        super().__init__()
        cfg = model.config
        self.kind, self.L, d, V = kind, cfg.n_layer, cfg.n_embd, cfg.vocab_size
        self.layers = list(range(1, self.L))
        self.wte = model.transformer.wte.weight  # frozen, tied
        if kind == "separate":
            self.heads = nn.ModuleList(nn.Linear(d, V, bias=False) for _ in self.layers)
        elif kind == "shared":
            ln_f = model.transformer.ln_f
            self.heads = nn.ModuleList(nn.LayerNorm(d, eps=cfg.layer_norm_epsilon) for _ in self.layers)
            with torch.no_grad():
                for ln in self.heads:
                    ln.weight.copy_(ln_f.weight); ln.bias.copy_(ln_f.bias)
        else:
            raise ValueError(kind)

    @torch.no_grad()
    def init_separate(self, model, hs):
        """Start separate heads at the tied head folded with ln_f's gain and the layer's scale."""
        g = model.transformer.ln_f.weight
        for l, lin in zip(self.layers, self.heads):
            h = hs[l - 1].float()
            sigma = (h - h.mean(-1, keepdim=True)).pow(2).mean(-1).sqrt().mean()
            lin.weight.copy_(self.wte * g[None, :] / sigma)

    def logits(self, l, h):
        m = self.heads[l - 1]
        if self.kind == "separate":
            return m(h)
        return F.linear(m(h), self.wte)

    def save(self, path, dtype=torch.float16):
        sd = {}
        for l, m in zip(self.layers, self.heads):
            if self.kind == "separate":
                sd[f"exits.{l}.weight"] = m.weight.detach().to(dtype).contiguous()
            else:
                sd[f"exits.{l}.ln.weight"] = m.weight.detach().to(dtype).contiguous()
                sd[f"exits.{l}.ln.bias"] = m.bias.detach().to(dtype).contiguous()
        save_file(sd, path, metadata={"kind": self.kind, "layers": ",".join(map(str, self.layers)),
                                      "format": "exitlens-exits-v1"})


def load_exits(path, model):
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    heads = ExitHeads(meta["kind"], model)
    sd = load_file(path)
    with torch.no_grad():
        for l, m in zip(heads.layers, heads.heads):
            if heads.kind == "separate":
                m.weight.copy_(sd[f"exits.{l}.weight"].float())
            else:
                m.weight.copy_(sd[f"exits.{l}.ln.weight"].float()); m.bias.copy_(sd[f"exits.{l}.ln.bias"].float())
    heads.eval()
    for p in heads.parameters():
        p.requires_grad_(False)
    return heads


def save_controller(weight, path):
    save_file({"controller.weight": weight.detach().float().contiguous()}, path,
              metadata={"classes": ",".join(CLASSES), "format": "exitlens-controller-v1"})


def load_controller(path):
    return load_file(path)["controller.weight"].float()


def tokens(data_dir, split):
    return np.memmap(os.path.join(data_dir, "tokens", f"{split}.bin"), dtype=np.uint16, mode="r")


def random_batch(data, B, T, rng):
    ix = rng.integers(0, len(data) - T - 1, size=B)
    x = torch.from_numpy(np.stack([data[i:i + T + 1] for i in ix]).astype(np.int64))
    return x[:, :-1], x[:, 1:]


def val_windows(data, T, n):
    """n non-overlapping windows of T (+1) tokens spread evenly over a split (deterministic)."""
    stride = max(T + 1, (len(data) - T - 1) // max(1, n))
    for s in range(n):
        i = s * stride
        if i + T + 1 > len(data):
            return
        x = torch.from_numpy(data[i:i + T + 1].astype(np.int64))[None]
        yield x[:, :-1], x[:, 1:]


def first_correct(correct):
    """correct: bool [L, N] (layer 1..L). Returns f [N]: first correct layer (1-based) or 0."""
    L = correct.shape[0]
    idx = torch.arange(1, L + 1)[:, None].expand_as(correct)
    big = torch.where(correct, idx, torch.full_like(idx, L + 1))
    f = big.min(0).values
    return torch.where(f == L + 1, torch.zeros_like(f), f)


def controller_labels(f, L):
    """[L, N] labels (0 stop, 1 exit, 2 continue) for layers i = 1..L."""
    i = torch.arange(1, L + 1)[:, None]
    lab = torch.where(f[None] == 0, 0, torch.where(f[None] <= i, 1, 2))
    return lab.expand(L, f.shape[0])
