#!/usr/bin/env python3
"""Checks the shipped SmolLM2 exit files against the engine, layer by layer, on one position.

Reads the engine's `exitlens complete --json --trace-top-k 1` output (a policy that visits every layer,
e.g. `--policy sec --tau-exit 1.1 --tau-stop 1.1 --max-tokens 2`), recomputes in PyTorch — from the
.safetensors files alone — each layer's top-1 token and the controller's probabilities for the second
generated token, and prints both. The engine multiplies 4-bit weights by float activations on its own
path, so near-ties may flip, and the controller (a linear map on the raw residual, whose entries reach
the hundreds) amplifies those differences: on the read_file prompt 28 of 29 exit layers and layer 30
agreed, the one miss a near-tie, and controller probabilities differed by at most 0.08.
"""
import argparse
import json
import os

import torch
from safetensors.torch import load_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default="models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--dir", default="models/smollm2-135m")
    ap.add_argument("--engine-json", required=True)
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM
    d, f = os.path.split(os.path.abspath(args.gguf))
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    j = json.load(open(args.engine_json))
    ids = torch.tensor([j["promptTokenIDs"] + [j["tokens"][0]["id"]]])
    raw = {}
    model.model.norm.register_forward_pre_hook(lambda m, a: raw.__setitem__("h", a[0]))
    with torch.no_grad():
        hs = model.model(input_ids=ids, output_hidden_states=True).hidden_states
    L = model.config.num_hidden_layers
    h_last = raw["h"][0, -1].clone()  # taken now: the norm calls below run the hook again
    ex = {k: v.float() for k, v in load_file(os.path.join(args.dir, "exits.safetensors")).items()}
    W = load_file(os.path.join(args.dir, "controller.safetensors"))["controller.weight"].float()
    norm, head = model.model.norm, model.lm_head
    same, dmax = 0, 0.0
    for row in j["tokens"][1]["trace"]["layers"]:
        l = row["layer"]
        h = hs[l][0, -1] if l < L else h_last
        x = h
        if l < L:
            p = f"exits.{l}.translator."
            x = h + ex[p + "up"] @ (ex[p + "down"] @ h) + ex[p + "bias"]
        with torch.no_grad():
            top = head(norm(x)).argmax().item()
            c = torch.softmax(W @ h, -1).tolist()
        e = row.get("controller")  # the engine makes no decision at layer L
        diff = max(abs(c[0] - e["stop"]), abs(c[1] - e["exit"]), abs(c[2] - e["continue"])) if e else 0.0
        dmax = max(dmax, diff)
        eng = row["topTokens"][0]["id"]
        same += eng == top
        print(f"layer {l:2d}: top-1 engine {eng:6d} torch {top:6d} {'=' if eng == top else '≠'}   "
              f"controller |Δp| {diff:.4f}")
    print(f"top-1 equal at {same}/{len(j['tokens'][1]['trace']['layers'])} layers; max controller |Δp| {dmax:.4f}")


if __name__ == "__main__":
    main()
