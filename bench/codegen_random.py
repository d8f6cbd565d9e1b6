#!/usr/bin/env python3
"""A random CodeGen with codegen-350M's shape, for benchmarks and a full-size parity check.

    python3 bench/codegen_random.py bench/out/codegen-350m-random

Writes a Hugging Face directory (config.json with codegen-350M-mono's numbers: 20 layers, d 1024,
16 heads, rotary_dim 32, vocabulary 51,200, n_positions 2048; model.safetensors in F16, as the
released checkpoint; the test fixtures' 384-token tokenizer) and expected.json: transformers'
greedy continuation of a fixed prompt (8 tokens, float32 on the F16 weights, full recomputation).
Real CodeGen weights cannot be fetched here; random weights have the same shapes and cost.

Compare with: exitlens complete --model DIR --max-tokens 8 --json "$(jq -r .prompt DIR/expected.json)"
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import CodeGenConfig, CodeGenForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "Tests", "ModelTests", "Resources", "tiny-f32", "tokenizer.json")
PROMPT = "def get_total(self, key):\n    return self.total[key]\n\nfor value in items:\n    value"


def main(out: str) -> None:
    torch.manual_seed(350)
    torch.set_num_threads(2)
    tok = Tokenizer.from_file(TOKENIZER)
    cfg = CodeGenConfig(vocab_size=51200, n_positions=2048, n_ctx=2048, n_embd=1024, n_layer=20, n_head=16,
                        rotary_dim=32, n_inner=None, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                        attn_pdrop=0.0, layer_norm_epsilon=1e-5, bos_token_id=1, eos_token_id=0, tie_word_embeddings=False)
    cfg._attn_implementation = "eager"
    model = CodeGenForCausalLM(cfg).eval()
    with torch.no_grad():  # HF's init (std 0.02) leaves every block nearly the identity; make them matter
        for name, p in model.named_parameters():
            if name.endswith(".weight") and p.dim() == 2:
                p.normal_(0, 1.5 / p.shape[1] ** 0.5)
            p.copy_(p.half().float())
    os.makedirs(out, exist_ok=True)
    cfg.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    ids = tok.encode(PROMPT).ids
    seq = list(ids)
    with torch.no_grad():
        for _ in range(8):
            seq.append(int(model(torch.tensor([seq])).logits[0, -1].argmax()))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"prompt": PROMPT, "ids": ids, "greedy": seq[len(ids):]}, f)
    print(out, "prompt tokens", len(ids), "greedy", seq[len(ids):])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "out", "codegen-350m-random"))
