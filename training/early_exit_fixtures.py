#!/usr/bin/env python3
"""Build the early-exit fixtures for ExitLens's Swift tests (run by hand, never in CI).

    .venv/bin/python training/early_exit_fixtures.py

Writes under Tests/TestSupport/Resources/ (the test targets share them) two tiny
random 6-layer GPT-2s with exit heads and a Stop&Exit Controller in the
exitlens-exits-v1 / controller-v1 formats (see training/README.md):

  ee-shared/    heads of kind "shared" (per-layer LayerNorm + tied head)
  ee-separate/  heads of kind "separate" (own Linear(d, V) per layer)

and, per model, expected-<name>.safetensors with PyTorch's
  prompt{i}.exit_logits   [L-1, n, V]  head l (1-based) on the raw residual after block l
  prompt{i}.controller    [L, n, 3]    softmax(W h_l) for l = 1..L
  prompt{i}.decisions     [P, L-1, n]  the paper's rule for each (tau_exit, tau_stop) pair,
                                       0 = stop, 1 = exit, 2 = continue
plus expected-<name>.json with prompts, ids and the threshold pairs.
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import GPT2Config, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "Tests", "TestSupport", "Resources")
TOKENIZER = os.path.join(HERE, "..", "Tests", "ModelTests", "Resources", "tiny-f32", "tokenizer.json")
PAIRS = [(0.9, 0.8), (0.5, 0.5), (0.0, 0.0), (0.6, 2.0), (2.0, 0.4)]
PROMPTS = [
    "def get_value(self, key):\n    return self",
    "for index in range(10):\n    total += index",
    "class NodeData:\n    pass\n",
    "if name is None:\n    raise ValueError(",
]


def decide(p, tau_exit, tau_stop):
    """The reference decision rule: argmax (first on ties), strict threshold, stop first."""
    best = int(torch.argmax(p))
    if best == 0 and p[0] > tau_stop:
        return 0
    if best == 1 and p[1] > tau_exit:
        return 1
    return 2


def build(name, kind, seed):
    tok = Tokenizer.from_file(TOKENIZER)
    eos = tok.token_to_id("<|endoftext|>")
    cfg = GPT2Config(n_layer=6, n_head=2, n_embd=32, n_positions=64, vocab_size=tok.get_vocab_size(),
                     bos_token_id=eos, eos_token_id=eos, activation_function="gelu_new",
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
    torch.manual_seed(seed)
    lm = GPT2LMHeadModel(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in lm.named_parameters():
            if n.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif "wte" in n:
                p.copy_(0.6 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.12 * torch.randn(p.shape, generator=g))
    L, d, V = cfg.n_layer, cfg.n_embd, cfg.vocab_size
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    cfg.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    state = {k: v.contiguous() for k, v in lm.state_dict().items()
             if k != "lm_head.weight" and not k.endswith((".attn.bias", ".attn.masked_bias"))}
    save_file(state, os.path.join(out, "model.safetensors"))

    # Exit heads: shared = per-layer LayerNorm near ln_f; separate = wte scaled plus noise, so
    # intermediate layers sometimes agree with the last one (speculative tests need both outcomes).
    heads = {}
    with torch.no_grad():
        for l in range(1, L):
            if kind == "shared":
                heads[f"exits.{l}.ln.weight"] = lm.transformer.ln_f.weight * (1 + 0.1 * torch.randn(d, generator=g))
                heads[f"exits.{l}.ln.bias"] = lm.transformer.ln_f.bias + 0.1 * torch.randn(d, generator=g)
            else:
                heads[f"exits.{l}.weight"] = 0.3 * lm.transformer.wte.weight + 0.05 * torch.randn(V, d, generator=g)
    save_file({k: v.contiguous() for k, v in heads.items()}, os.path.join(out, "exits.safetensors"),
              metadata={"kind": kind, "layers": ",".join(str(l) for l in range(1, L)), "format": "exitlens-exits-v1"})
    controller = 0.25 * torch.randn(3, d, generator=g)
    save_file({"controller.weight": controller.contiguous()}, os.path.join(out, "controller.safetensors"),
              metadata={"classes": "stop,exit,continue", "format": "exitlens-controller-v1"})

    def head_logits(l, h):
        if kind == "shared":
            hn = F.layer_norm(h, (d,), heads[f"exits.{l}.ln.weight"], heads[f"exits.{l}.ln.bias"], cfg.layer_norm_epsilon)
            return hn @ lm.transformer.wte.weight.T
        return h @ heads[f"exits.{l}.weight"].T

    captured = []

    def keep(module, inputs, output):
        captured.append((output[0] if isinstance(output, tuple) else output).detach())
    hooks = [b.register_forward_hook(keep) for b in lm.transformer.h]
    tensors, meta = {}, {"prompts": [], "pairs": PAIRS, "layers": L}
    study_first, study_correct = [0] * (L + 1), [0] * L
    for i, text in enumerate(PROMPTS):
        ids = tok.encode(text).ids
        captured.clear()
        with torch.no_grad():
            lm(torch.tensor([ids]))
            hs = [c[0] for c in captured]  # L × [n, d]
            tensors[f"prompt{i}.exit_logits"] = torch.stack([head_logits(l, hs[l - 1]) for l in range(1, L)]).contiguous()
            probs = torch.stack([torch.softmax(h @ controller.T, -1) for h in hs])  # [L, n, 3]
            tensors[f"prompt{i}.controller"] = probs.contiguous()
            decisions = torch.tensor([[[decide(probs[l - 1, t], te, ts) for t in range(len(ids))]
                                       for l in range(1, L)] for te, ts in PAIRS], dtype=torch.float32)
            tensors[f"prompt{i}.decisions"] = decisions.contiguous()
        meta["prompts"].append({"text": text, "ids": ids})
        # The study, teacher-forced: first layer (1-based) whose head predicts the next token, 0 = never.
        for t in range(len(ids) - 1):
            first = 0
            for l in range(1, L + 1):
                logits = head_logits(l, hs[l - 1][t]) if l < L else lm.lm_head(lm.transformer.ln_f(hs[L - 1][t]))
                correct = int(torch.argmax(logits)) == ids[t + 1]
                study_correct[l - 1] += int(correct)
                if correct and first == 0:
                    first = l
            study_first[first] += 1
    for h in hooks:
        h.remove()
    meta["study"] = {"firstCorrect": study_first, "correct": study_correct}
    save_file(tensors, os.path.join(ROOT, f"expected-{name}.safetensors"))
    with open(os.path.join(ROOT, f"expected-{name}.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(name, kind, "L", L, "vocab", V, [len(p["ids"]) for p in meta["prompts"]])


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    build("ee-shared", "shared", seed=21)
    build("ee-separate", "separate", seed=22)
