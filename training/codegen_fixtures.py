#!/usr/bin/env python3
"""Build the CodeGen parity and early-exit fixtures for ExitLens's Swift tests.

Run by hand (never in CI) from the repository root:

    python3 training/codegen_fixtures.py   # torch, transformers, tokenizers, safetensors

Three tiny RANDOM CodeGenForCausalLM models (Salesforce CodeGen's block: one LayerNorm feeding
attention and MLP in parallel, fused qkv_proj in the mp_num = 4 interleaved layout, partial
GPT-J-style rotary embeddings, gelu_new MLP, untied lm_head with a bias). All reuse the GPT-2
fixtures' byte-level BPE tokenizer (384 tokens) with a LARGER model vocabulary, as CodeGen pads
50,295 tokens to 51,200: ids past the tokenizer have logits and are run like any other.

Under Tests/ModelTests/Resources/:
  tiny-codegen/       F32; d 40, 5 heads of 8 (mp chunks of 10 cut through heads), rotary_dim 6,
                      n_inner 72, 3 layers, vocab 400
  tiny-codegen-f16/   F16 (the reference runs in float32 on the F16-rounded weights); d 48, 3 heads
                      of 16, rotary_dim 10, n_inner 4d, 4 layers, vocab 392
  expected-<name>.{json,safetensors}   logits at every position, raw residual after every block,
                                       greedy continuations (full recomputation, no cache)
Under Tests/TestSupport/Resources/:
  ee-codegen/         F32, 8 layers, exit heads (kind separate) only at layers 1, 4, 7 (the paper's
                      interval 3; `layers` metadata), a Stop&Exit Controller; exits and
                      controller in the exitlens-exits-v1 / controller-v1 formats
  expected-ee-codegen.{json,safetensors}   exit-head logits at layers 1, 4, 7 and greedy ids

Under Tests/TokenizerTests/Resources/:
  hf_tiny_added_tokens.json   transformers' CodeGenTokenizer ids for hf_tiny's vocab.json + merges.txt
                              with an added_tokens.json of space and tab runs (as CodeGen ships)

Tolerances: 1e-4 on logits and hidden states (F16 weights are exact in float32 arithmetic).
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import CodeGenConfig, CodeGenForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_ROOT = os.path.join(HERE, "..", "Tests", "ModelTests", "Resources")
SUPPORT_ROOT = os.path.join(HERE, "..", "Tests", "TestSupport", "Resources")
TOKENIZER = os.path.join(MODEL_ROOT, "tiny-f32", "tokenizer.json")
GREEDY_STEPS = 16
PROMPTS = [
    "def",
    "for value in items:\n    value",
    "class CountNode:\n    def get_total(self, key):\n        return self.total[key]\n",
    "print(f\"数据 🙂\")",
]
MP_NUM = 4  # HF CodeGenAttention.mp_num: the fused projection's model-parallel interleave


def save(tensors, path, metadata=None):
    save_file(tensors, path, metadata=metadata)
    os.chmod(path, 0o644)  # save_file creates 0600


def make(vocab_size, n_embd, n_head, rotary_dim, n_layer, n_inner, n_positions, eos):
    cfg = CodeGenConfig(vocab_size=vocab_size, n_positions=n_positions, n_ctx=n_positions, n_embd=n_embd,
                        n_layer=n_layer, n_head=n_head, rotary_dim=rotary_dim, n_inner=n_inner,
                        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        layer_norm_epsilon=1e-5, bos_token_id=eos, eos_token_id=eos, tie_word_embeddings=False)
    cfg._attn_implementation = "eager"
    return cfg


def randomize(model, seed, tokenizer_size):
    """Weights big enough that every block moves the residual stream and the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_f.weight")):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif "wte" in name:
                p.copy_(0.6 * torch.randn(p.shape, generator=g))
            elif name == "lm_head.weight":
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
        # The padding rows (ids the tokenizer cannot spell) get a lift so greedy decoding emits some:
        # a Swift test must see what happens to them, as a real CodeGen could emit one.
        model.lm_head.bias[tokenizer_size:] += 1.5


def round_to(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def state_of(model, dtype):
    # HF's CodeGen checkpoints name tensors "transformer.…" and keep lm_head (untied, with bias).
    return {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()
            if not k.endswith((".attn.causal_mask", ".attn.masked_bias"))}


def run(model, ids):
    """(logits [n, V], raw residual after every block [L, n, d])."""
    captured = []

    def keep(module, inputs, output):
        captured.append((output[0] if isinstance(output, tuple) else output)[0].detach().clone())

    hooks = [b.register_forward_hook(keep) for b in model.transformer.h]
    try:
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
    finally:
        for h in hooks:
            h.remove()
    return logits.detach().clone(), torch.stack(captured)


def greedy(model, ids, steps, context):
    seq = list(ids)
    with torch.no_grad():
        for _ in range(steps):
            if len(seq) >= context:
                break
            seq.append(int(model(torch.tensor([seq])).logits[0, -1].argmax()))
    return seq[len(ids):]


def reference_forward(state, cfg, ids, qkv_order="qvk", rotation="interleaved"):
    """A from-scratch CodeGen forward pass in torch (no transformers), to pin down the conventions
    the Swift engine implements — and to show that the wrong ones move the logits."""
    d, H = cfg.n_embd, cfg.n_head
    hs, rd, L, eps = d // H, cfg.rotary_dim, cfg.n_layer, cfg.layer_norm_epsilon
    n = len(ids)
    x = state["transformer.wte.weight"].float()[torch.tensor(ids)]
    inv = 1.0 / (10000 ** (torch.arange(0, rd, 2, dtype=torch.int64) / rd))
    ang = torch.arange(n, dtype=torch.int64).float()[:, None] * inv  # [n, rd/2]
    cos, sin = torch.cos(ang), torch.sin(ang)

    def rope(t):  # t [n, H, hs]
        r = t[..., :rd].clone()
        if rotation == "interleaved":  # GPT-J: pairs (0,1), (2,3), ...
            a, b = r[..., 0::2], r[..., 1::2]
            c, s = cos[:, None, :], sin[:, None, :]
            r[..., 0::2], r[..., 1::2] = a * c - b * s, b * c + a * s
        else:  # Llama's rotate_half: i with i + rd/2
            a, b = r[..., : rd // 2], r[..., rd // 2:]
            c, s = cos[:, None, :], sin[:, None, :]
            r = torch.cat([a * c - b * s, b * c + a * s], -1)
        return torch.cat([r, t[..., rd:]], -1)

    for l in range(L):
        p = f"transformer.h.{l}."
        h = F.layer_norm(x, (d,), state[p + "ln_1.weight"].float(), state[p + "ln_1.bias"].float(), eps)
        qkv = (h @ state[p + "attn.qkv_proj.weight"].float().T).view(n, MP_NUM, 3, d // MP_NUM)
        parts = {name: qkv[:, :, i].reshape(n, H, hs) for i, name in enumerate(qkv_order)}
        q, k, v = rope(parts["q"]), rope(parts["k"]), parts["v"]
        att = torch.einsum("ihd,jhd->hij", q, k) / hs ** 0.5
        att = att.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        a = torch.einsum("hij,jhd->ihd", att, v).reshape(n, d) @ state[p + "attn.out_proj.weight"].float().T
        m = F.gelu(h @ state[p + "mlp.fc_in.weight"].float().T + state[p + "mlp.fc_in.bias"].float(), approximate="tanh")
        m = m @ state[p + "mlp.fc_out.weight"].float().T + state[p + "mlp.fc_out.bias"].float()
        x = x + a + m
    x = F.layer_norm(x, (d,), state["transformer.ln_f.weight"].float(), state["transformer.ln_f.bias"].float(), eps)
    return x @ state["lm_head.weight"].float().T + state["lm_head.bias"].float()


def check_conventions(name, cfg, state, logits, ids):
    """The from-scratch pass must agree with transformers, and each wrong convention must not."""
    ours = reference_forward(state, cfg, ids)
    gap = float((ours - logits).abs().max())
    assert gap < 1e-4, (name, gap)
    for label, kwargs in [("q,k,v order inside each mp chunk", {"qkv_order": "qkv"}),
                          ("half-split rotation", {"rotation": "half"})]:
        wrong = float((reference_forward(state, cfg, ids, **kwargs) - logits).abs().max())
        assert wrong > 0.5, (name, label, wrong)
        print(f"  {name}: {label} moves logits by {wrong:.2f} (reference pass vs transformers {gap:.1e})")


def check_layers_matter(name, hidden_by_prompt, tokenizer_size, prompts):
    steps = []
    for hidden in hidden_by_prompt:
        for l in range(hidden.shape[0] - 1):
            step = float((hidden[l + 1] - hidden[l]).norm() / hidden[l].norm())
            assert step > 0.3, (name, l, step)
            steps.append(step)
    distinct = [len(set(p["greedy"])) for p in prompts]
    assert min(distinct) >= 4, (name, distinct)
    padded = sum(t >= tokenizer_size for p in prompts for t in p["greedy"])
    print(f"  {name}: min residual change per block {min(steps):.2f}, distinct greedy tokens {distinct}, "
          f"greedy ids past the tokenizer {padded}")
    return padded


def build_parity(name, cfg, seed, dtype, tok):
    torch.manual_seed(seed)
    model = CodeGenForCausalLM(cfg).eval()
    randomize(model, seed, tok.get_vocab_size())
    if dtype != torch.float32:
        round_to(model, dtype)
    out = os.path.join(MODEL_ROOT, name)
    os.makedirs(out, exist_ok=True)
    cfg.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    state = state_of(model, dtype)
    save(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})

    tensors, prompts, hiddens = {}, [], []
    for pi, text in enumerate(PROMPTS):
        ids = tok.encode(text).ids
        logits, hidden = run(model, ids)
        tensors[f"prompt{pi}.logits"] = logits.contiguous()
        tensors[f"prompt{pi}.hidden"] = hidden.contiguous()
        hiddens.append(hidden)
        prompts.append({"text": text, "ids": ids, "greedy": greedy(model, ids, GREEDY_STEPS, cfg.n_positions)})
        if pi == 1:
            check_conventions(name, cfg, state, logits, ids)
    padded = check_layers_matter(name, hiddens, tok.get_vocab_size(), prompts)
    meta = {"prompts": prompts, "layers": cfg.n_layer, "hidden_size": cfg.n_embd, "vocab_size": cfg.vocab_size,
            "tokenizer_size": tok.get_vocab_size(), "greedy_ids_past_tokenizer": padded,
            "tolerance": {"logits": 1e-4, "hidden": 1e-4}}
    save(tensors, os.path.join(MODEL_ROOT, f"expected-{name}.safetensors"))
    with open(os.path.join(MODEL_ROOT, f"expected-{name}.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(name, "vocab", cfg.vocab_size, "prompt tokens", [len(p["ids"]) for p in prompts])


def build_early_exit(tok):
    """ee-codegen: 8 layers, heads only at 1, 4, 7 (every third layer, as the paper's CodeGen)."""
    name, seed, heads_at = "ee-codegen", 31, [1, 4, 7]
    eos = tok.token_to_id("<|endoftext|>")
    cfg = make(vocab_size=400, n_embd=32, n_head=4, rotary_dim=4, n_layer=8, n_inner=64, n_positions=64, eos=eos)
    torch.manual_seed(seed)
    model = CodeGenForCausalLM(cfg).eval()
    randomize(model, seed, tok.get_vocab_size())
    with torch.no_grad():  # softer blocks so shallow heads sometimes agree with the last layer
        for n, p in model.named_parameters():
            if n.startswith("transformer.h.") and n.endswith(".weight") and "ln_1" not in n:
                p.mul_(0.6)
    out = os.path.join(SUPPORT_ROOT, name)
    os.makedirs(out, exist_ok=True)
    cfg.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    save(state_of(model, torch.float32), os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    g = torch.Generator().manual_seed(seed)
    V, d = cfg.vocab_size, cfg.n_embd
    with torch.no_grad():
        # Separate heads near lm_head folded with ln_f's gain, plus noise.
        fold = model.lm_head.weight * model.transformer.ln_f.weight
        heads = {f"exits.{l}.weight": (0.5 * fold + 0.05 * torch.randn(V, d, generator=g)).contiguous() for l in heads_at}
    save(heads, os.path.join(out, "exits.safetensors"),
              metadata={"kind": "separate", "layers": ",".join(map(str, heads_at)), "format": "exitlens-exits-v1"})
    controller = 0.25 * torch.randn(3, d, generator=g)
    save({"controller.weight": controller.contiguous()}, os.path.join(out, "controller.safetensors"),
              metadata={"classes": "stop,exit,continue", "format": "exitlens-controller-v1"})

    tensors, meta = {}, {"prompts": [], "layers": cfg.n_layer, "exit_layers": heads_at}
    for i, text in enumerate(PROMPTS[:3]):
        ids = tok.encode(text).ids
        _, hidden = run(model, ids)
        with torch.no_grad():
            tensors[f"prompt{i}.exit_logits"] = torch.stack(
                [hidden[l - 1] @ heads[f"exits.{l}.weight"].T for l in heads_at]).contiguous()
        meta["prompts"].append({"text": text, "ids": ids, "greedy": greedy(model, ids, GREEDY_STEPS, cfg.n_positions)})
    save(tensors, os.path.join(SUPPORT_ROOT, f"expected-{name}.safetensors"))
    with open(os.path.join(SUPPORT_ROOT, f"expected-{name}.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(name, "L", cfg.n_layer, "heads at", heads_at, [len(p["ids"]) for p in meta["prompts"]])


def build_added_tokens():
    """CodeGen's tokenizer ships vocab.json + merges.txt + added_tokens.json (runs of spaces and tabs
    as single tokens past GPT-2's 50,257). transformers' CodeGenTokenizer on the hf_tiny BPE plus
    such a file gives the ids a Swift loader of that directory must give."""
    import shutil
    import tempfile
    from transformers import CodeGenTokenizer
    source = os.path.join(HERE, "..", "Tests", "TokenizerTests", "Resources", "hf_tiny")
    added = {"        ": 1000, "    ": 1001, "\t\t": 1002, "\t\t\t": 1003}
    texts = ["def f(x):\n        return x\n    pass", "\t\tif a:\n\t\t\tb\n\t\t\t\tc", "a    b         c  d",
             "class A:\n    def g(self):\n        return self.items[0]  # 8\n"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(source, name), tmp)
        with open(os.path.join(tmp, "added_tokens.json"), "w") as f:
            json.dump(added, f)
        tok = CodeGenTokenizer.from_pretrained(tmp)
        cases = [{"text": t, "ids": tok.encode(t)} for t in texts]
        assert all(tok.decode(c["ids"]) == c["text"] for c in cases)
        assert any(i >= 1000 for c in cases for i in c["ids"])
    out = os.path.join(HERE, "..", "Tests", "TokenizerTests", "Resources", "hf_tiny_added_tokens.json")
    with open(out, "w") as f:
        json.dump({"description": "transformers' CodeGenTokenizer on hf_tiny/vocab.json + merges.txt + these "
                   "added_tokens; made by training/codegen_fixtures.py", "added_tokens": added, "cases": cases},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("added tokens:", [c["ids"] for c in cases])


def main():
    torch.set_num_threads(1)
    build_added_tokens()
    tok = Tokenizer.from_file(TOKENIZER)
    eos = tok.token_to_id("<|endoftext|>")
    build_parity("tiny-codegen", make(vocab_size=400, n_embd=40, n_head=5, rotary_dim=6, n_layer=3, n_inner=72,
                                      n_positions=96, eos=eos), seed=41, dtype=torch.float32, tok=tok)
    build_parity("tiny-codegen-f16", make(vocab_size=392, n_embd=48, n_head=3, rotary_dim=10, n_layer=4, n_inner=None,
                                          n_positions=96, eos=eos), seed=42, dtype=torch.float16, tok=tok)
    build_early_exit(tok)


if __name__ == "__main__":
    main()
