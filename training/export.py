#!/usr/bin/env python3
"""Export a backbone checkpoint (RUN/ckpt.pt) to an HF GPT-2 directory (F16 by default)
and check that GPT2LMHeadModel.from_pretrained(OUT) gives the training model's logits."""
import argparse
import json
import os

import torch

from model import GPT, save_hf

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    args = ap.parse_args()
    ck = torch.load(os.path.join(args.run, "ckpt.pt"), weights_only=False)
    model = GPT(ck["cfg"])
    model.load_state_dict(ck["model"])
    dtype = getattr(torch, args.dtype)
    save_hf(model, args.out, args.tokenizer, dtype=dtype)
    # parity: the training module with the exported (rounded) weights vs HF transformers
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).float())
    model.eval()
    from transformers import GPT2LMHeadModel
    hf = GPT2LMHeadModel.from_pretrained(args.out, dtype=torch.float32).eval()
    T = min(ck["cfg"]["n_positions"], 512)
    x = torch.randint(0, ck["cfg"]["vocab_size"], (2, T), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = model.head(model.residuals(x)[-1])
        b = hf(input_ids=x).logits
    diff = (a - b).abs().max().item()
    rep = {"max_abs_logit_diff": diff, "logit_scale": a.abs().max().item(), "dtype": args.dtype,
           "step": ck["step"], "tokens": ck["tokens"], "elapsed": ck["elapsed"]}
    print(json.dumps(rep))
    json.dump(rep, open(os.path.join(args.out, "..", os.path.basename(args.out.rstrip("/")) + "-export.json"), "w"), indent=1)
    assert diff < 1e-3 * max(1.0, rep["logit_scale"]), f"HF parity failed: {diff}"


if __name__ == "__main__":
    main()
