#!/usr/bin/env python3
"""Build the model-parity fixtures for ExitLens's Swift tests.

Run by hand (never in CI) from the repository root:

    python -m venv .venv && .venv/bin/pip install torch transformers tokenizers safetensors
    .venv/bin/python training/fixtures.py

It builds two tiny random GPT-2 models with Hugging Face transformers and
writes, under Tests/ModelTests/Resources/:

  tiny-f32/   config.json, model.safetensors (F32, "transformer." names), tokenizer.json
  tiny-f16/   config.json, model.safetensors (F16, bare GPT2Model names, odd sizes), tokenizer.json
  expected-<name>.safetensors  logits for every position, residual stream after every block
  expected-<name>.json         prompts, greedy continuations, tolerances

The references are computed in float32 by PyTorch in eval mode; for the F16
model the weights are first rounded to float16 (exactly what the file holds).
The tokenizer is a byte-level BPE trained on text this script writes itself.
"""
import json
import os
import random

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ModelTests", "Resources")
GREEDY_STEPS = 24


def synthetic_corpus(seed: int) -> list[str]:
    """Small made-up Python-like lines: enough for BPE merges, nothing copied."""
    rng = random.Random(seed)
    names = ["value", "count", "index", "result", "items", "name", "total", "data", "node", "key"]
    lines = []
    for _ in range(600):
        a, b = rng.choice(names), rng.choice(names)
        lines.append(rng.choice([
            f"def get_{a}(self, {b}):\n    return self.{a}[{b}]\n",
            f"for {a} in {b}:\n    {a} += {rng.randint(0, 99)}\n",
            f"if {a} is None:\n    raise ValueError('{b} missing')\n",
            f"{a} = [{b} for {b} in range({rng.randint(1, 20)})]\n",
            f"class {a.title()}{b.title()}:\n    pass\n",
            f"print(f\"{a}: {{{b}}}\")  # é ü ß 数据 🙂\n",
        ]))
    return lines


def train_tokenizer(path: str) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(synthetic_corpus(1), trainer)
    tok.save(path)
    return tok


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Give every parameter (LayerNorm gains and biases too) non-trivial values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif "wte" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def build(name: str, cfg: GPT2Config, seed: int, dtype: torch.dtype, with_prefix: bool, tok: Tokenizer, prompts: list[str]):
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    lm = GPT2LMHeadModel(cfg).eval()
    randomize(lm, seed)
    if dtype != torch.float32:
        # Round weights to the stored precision, then compute the reference in float32.
        with torch.no_grad():
            for p in lm.parameters():
                p.copy_(p.to(dtype).to(torch.float32))
    cfg.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    if with_prefix:
        state = {k: v.to(dtype).contiguous() for k, v in lm.state_dict().items()
                 if k != "lm_head.weight" and not k.endswith(".attn.bias") and not k.endswith(".attn.masked_bias")}
    else:
        state = {k[len("transformer."):]: v.to(dtype).contiguous() for k, v in lm.state_dict().items()
                 if k.startswith("transformer.") and not k.endswith(".attn.bias") and not k.endswith(".attn.masked_bias")}
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})

    captured = []
    def keep(module, inputs, output):
        # Blocks return a tuple in older transformers and a tensor in newer ones.
        hidden = output[0] if isinstance(output, tuple) else output
        captured.append(hidden.detach().clone())
    hooks = [blk.register_forward_hook(keep) for blk in lm.transformer.h]
    tensors, meta = {}, {"prompts": [], "layers": cfg.n_layer,
                         "tolerance": {"logits": 1e-4, "hidden": 1e-4}}
    for pi, text in enumerate(prompts):
        ids = tok.encode(text).ids
        captured.clear()
        with torch.no_grad():
            logits = lm(torch.tensor([ids])).logits[0]
        tensors[f"prompt{pi}.logits"] = logits.contiguous()
        tensors[f"prompt{pi}.hidden"] = torch.stack([h[0] for h in captured]).contiguous()
        # Greedy continuation by full recomputation: no cache, the plainest reference.
        seq = list(ids)
        with torch.no_grad():
            for _ in range(GREEDY_STEPS):
                if len(seq) >= cfg.n_positions:
                    break
                seq.append(int(lm(torch.tensor([seq])).logits[0, -1].argmax()))
        meta["prompts"].append({"text": text, "ids": ids, "greedy": seq[len(ids):]})
    for h in hooks:
        h.remove()
    save_file(tensors, os.path.join(ROOT, f"expected-{name}.safetensors"))
    with open(os.path.join(ROOT, f"expected-{name}.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(name, "vocab", cfg.vocab_size, "prompts", [len(p["ids"]) for p in meta["prompts"]])


def main() -> None:
    os.makedirs(ROOT, exist_ok=True)
    tok = train_tokenizer(os.path.join(ROOT, "fixture-tokenizer.json"))
    os.remove(os.path.join(ROOT, "fixture-tokenizer.json"))
    vocab = tok.get_vocab_size()
    eos = tok.token_to_id("<|endoftext|>")
    prompts = [
        "def",
        "for value in items:\n    value",
        "class CountNode:\n    def get_total(self, key):\n        if key is None:\n            raise ValueError('key missing')\n        return self.total[key]\n",
        "print(f\"数据 🙂\")",
    ]
    f32 = GPT2Config(n_layer=4, n_head=4, n_embd=64, n_positions=128, vocab_size=vocab,
                     bos_token_id=eos, eos_token_id=eos, activation_function="gelu_new",
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, tie_word_embeddings=True)
    build("tiny-f32", f32, seed=7, dtype=torch.float32, with_prefix=True, tok=tok, prompts=prompts)
    # Odd sizes exercise the kernels' tails: d=40 (not a multiple of 16), head size 8, n_inner=100.
    f16 = GPT2Config(n_layer=3, n_head=5, n_embd=40, n_inner=100, n_positions=96, vocab_size=vocab,
                     bos_token_id=eos, eos_token_id=eos, activation_function="gelu_new",
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, tie_word_embeddings=True)
    build("tiny-f16", f16, seed=11, dtype=torch.float16, with_prefix=False, tok=tok, prompts=prompts)


if __name__ == "__main__":
    main()
