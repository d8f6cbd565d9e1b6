#!/usr/bin/env python3
"""Build the Llama / Qwen2 parity fixtures for ExitLens's Swift tests.

Run by hand (never in CI) from the repository root:

    python training/llama_fixtures.py      # torch, transformers, gguf, tokenizers, safetensors

It builds three tiny RANDOM models with Hugging Face transformers and writes, under
Tests/ModelTests/Resources/:

  tiny-llama/        LlamaForCausalLM, untied head, GQA (4 heads / 2 KV heads), RoPE base 10000
  tiny-llama-tied/   LlamaForCausalLM, tied head, MHA (4 / 4), RoPE base 100000
  tiny-qwen2/        Qwen2ForCausalLM (q/k/v biases), tied head, GQA (4 / 2), RMSNorm eps 1e-6
      each: config.json, model.safetensors (F32, HF names), tokenizer.json (byte-level BPE)
  <model>.<type>.gguf          the same weights the way llama.cpp's convert_hf_to_gguf.py writes them
  expected-<model>[.<type>].{json,safetensors}
                               logits at every position, residual stream after every block, greedy ids

The reference for a quantised GGUF is transformers run on the weights dequantised back from the
exact bytes in that file (gguf.quants.dequantize, Q/K rows un-permuted), so the only thing a Swift
engine can get wrong is its own arithmetic. `expected-<model>` (no type) is the F32 reference: it holds
for both `<model>/` and `<model>.f32.gguf`. See training/README.md for the conventions.
"""
import glob
import json
import os
import sys
from dataclasses import dataclass, field

import gguf
import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import synthetic_corpus  # noqa: E402  (the GPT-2 fixtures' made-up corpus)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ModelTests", "Resources")
GREEDY_STEPS = 12
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB = 320  # 3 specials + 256 byte tokens + 61 merges
Q = gguf.GGMLQuantizationType

# File type -> (type of the block matrices, type of token_embd / output, general.file_type).
# Like llama.cpp: Q8_0 files keep the embedding in Q8_0 too; Q4_x files keep token_embd (and an
# untied output) in Q8_0, as SmolLM2-135M-Instruct.Q4_1.gguf does. Norms and biases stay F32.
GGUF_TYPES = {
    "f32": (Q.F32, Q.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (Q.F16, Q.F16, gguf.LlamaFileType.MOSTLY_F16),
    "q8_0": (Q.Q8_0, Q.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "q4_0": (Q.Q4_0, Q.Q8_0, gguf.LlamaFileType.MOSTLY_Q4_0),
    "q4_1": (Q.Q4_1, Q.Q8_0, gguf.LlamaFileType.MOSTLY_Q4_1),
}

# Qwen2's pre-tokenizer regex (its tokenizer.json; llama.cpp's "qwen2" pre-tokenizer is the same
# pattern with the contractions spelled case-insensitively by hand).
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

PROMPTS = [
    "def",
    "for value in items:\n    value += 1207",
    "<|im_start|>user\nclass Node:<|im_end|>\n",
    "s = \"é 数\"",
]


@dataclass
class Spec:
    name: str
    arch: str          # general.architecture: "llama" or "qwen2"
    heads: int
    kv_heads: int
    rope_theta: float
    eps: float
    tied: bool
    seed: int
    hub_config: bool   # config.json with a top-level rope_theta (Hub checkpoints) instead of transformers 5's rope_parameters
    types: list[str] = field(default_factory=lambda: list(GGUF_TYPES))
    hidden: int = 64
    head_dim: int = 16
    ffn: int = 96
    layers: int = 3
    context: int = 128


# Every GGUF type on the main model; the other two get F32 (exact) plus the layout that matters
# for them (SmolLM2's Q4_1 blocks + Q8_0 tied embedding; Qwen2's F32 biases beside Q8_0 blocks).
# All types on all three models would be ~6.5 MB of fixtures instead of ~4.5 MB.
SPECS = [
    Spec("tiny-llama", "llama", heads=4, kv_heads=2, rope_theta=10000.0, eps=1e-5, tied=False, seed=21,
         hub_config=False),
    Spec("tiny-llama-tied", "llama", heads=4, kv_heads=4, rope_theta=100000.0, eps=1e-5, tied=True, seed=22,
         hub_config=True, types=["f32", "q4_1"]),
    Spec("tiny-qwen2", "qwen2", heads=4, kv_heads=2, rope_theta=10000.0, eps=1e-6, tied=True, seed=23,
         hub_config=True, types=["f32", "q8_0"]),
]


# ---------------------------------------------------------------- tokenizer

def smollm_pre_tokenizer():
    """llama.cpp's "smollm" pre-tokenizer: every digit alone, then GPT-2's regex."""
    return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])


def qwen2_pre_tokenizer():
    return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def train_bpe() -> tuple[list[str], list[str]]:
    """Byte-level BPE on the made-up corpus: (non-special tokens in id order, merges as "a b")."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = smollm_pre_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(synthetic_corpus(1), trainer)
    model = json.loads(tok.to_str())["model"]
    tokens = [t for t in sorted(model["vocab"], key=model["vocab"].get) if t not in SPECIALS]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    assert len(tokens) + len(SPECIALS) == VOCAB and len(tokens) == 256 + len(merges), (len(tokens), len(merges))
    return tokens, merges


@dataclass
class Vocab:
    tokens: list[str]      # id -> byte-level spelling
    types: list[int]       # GGUF token types: 1 normal, 3 control
    merges: list[str]
    bos: int
    eos: int
    pre: str               # tokenizer.ggml.pre
    hf: Tokenizer


def vocab_for(arch: str, tokens: list[str], merges: list[str]) -> Vocab:
    # SmolLM2 puts its specials first (0 endoftext, 1 im_start = BOS, 2 im_end = EOS); Qwen2 puts
    # them after the merges and uses <|endoftext|> as BOS and EOS. Both layouts are exercised.
    if arch == "llama":
        order, pre, pre_tok = SPECIALS + tokens, "smollm", smollm_pre_tokenizer()
        bos, eos = order.index("<|im_start|>"), order.index("<|im_end|>")
    else:
        order, pre, pre_tok = tokens + SPECIALS, "qwen2", qwen2_pre_tokenizer()
        bos = eos = order.index("<|endoftext|>")
    hf = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(order)},
                              merges=[tuple(m.split(" ")) for m in merges]))
    hf.pre_tokenizer = pre_tok
    hf.decoder = decoders.ByteLevel()
    hf.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    types = [3 if t in SPECIALS else 1 for t in order]
    return Vocab(order, types, merges, bos, eos, pre, hf)


# ---------------------------------------------------------------- model

def make_config(spec: Spec, vocab: Vocab):
    common = dict(vocab_size=len(vocab.tokens), hidden_size=spec.hidden, intermediate_size=spec.ffn,
                  num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.kv_heads,
                  max_position_embeddings=spec.context, rms_norm_eps=spec.eps, rope_theta=spec.rope_theta,
                  tie_word_embeddings=spec.tied, bos_token_id=vocab.bos, eos_token_id=vocab.eos,
                  attention_dropout=0.0)
    if spec.arch == "llama":
        cfg = LlamaConfig(head_dim=spec.head_dim, **common)
    else:
        cfg = Qwen2Config(**common)
        assert spec.hidden // spec.heads == spec.head_dim
    cfg._attn_implementation = "eager"
    return cfg


def model_class(arch: str):
    return LlamaForCausalLM if arch == "llama" else Qwen2ForCausalLM


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Weights big enough that every block moves the residual stream and the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name == "lm_head.weight":
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "q_proj" in name or "k_proj" in name:
                # Softer attention than the other matrices: at 0.25 an 8-bit rounding of the
                # activations (what llama.cpp-style kernels do) moves the logits twice as much.
                p.copy_(0.15 * torch.randn(p.shape, generator=g))
            else:
                # At 0.15 the tied models fall into repeating one token within a few greedy steps.
                p.copy_(0.25 * torch.randn(p.shape, generator=g))


def hf_state(model: torch.nn.Module, tied: bool) -> dict[str, torch.Tensor]:
    """HF checkpoint tensors ("model.layers.N...", "lm_head.weight" only when untied)."""
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
            if not (tied and k == "lm_head.weight")}


def write_hf(spec: Spec, cfg, model, vocab: Vocab) -> str:
    out = os.path.join(ROOT, spec.name)
    os.makedirs(out, exist_ok=True)
    cfg.save_pretrained(out)
    if spec.hub_config:
        # Hub checkpoints (SmolLM2, Qwen2.5) carry a top-level rope_theta; transformers 5 writes
        # rope_parameters. The fixtures carry both spellings, one per model, so a loader must read both.
        path = os.path.join(out, "config.json")
        with open(path) as f:
            c = json.load(f)
        c["rope_theta"] = c.pop("rope_parameters")["rope_theta"]
        with open(path, "w") as f:
            json.dump(c, f, indent=2, sort_keys=True)
            f.write("\n")
    save_file(hf_state(model, spec.tied), os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)  # save_file creates 0600
    vocab.hf.save(os.path.join(out, "tokenizer.json"))
    return out


# ---------------------------------------------------------------- GGUF

def rope_interleave(w: np.ndarray, n_heads: int) -> np.ndarray:
    """llama.cpp's converter permutation of Q/K rows for the `llama` architecture.

    HF rotates row i of a head with row i + head_dim/2 (rotate_half); llama.cpp rotates adjacent
    rows (2i, 2i+1). Within each head, rows [a0..a7, b0..b7] become [a0 b0 a1 b1 ...]. Applied to
    attn_q with the query head count and to attn_k with the KV head count.
    """
    rows = w.shape[0]
    return w.reshape(n_heads, 2, rows // n_heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def rope_deinterleave(w: np.ndarray, n_heads: int) -> np.ndarray:
    rows = w.shape[0]
    return w.reshape(n_heads, rows // n_heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_TO_GGUF_BLOCK = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf_name: str) -> str:
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    _, _, n, rest = hf_name.split(".", 3)  # model.layers.N.rest
    return f"blk.{n}.{HF_TO_GGUF_BLOCK[rest]}"


def hf_name_of(gguf_tensor_name: str) -> str:
    for hf in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"):
        if gguf_name(hf) == gguf_tensor_name:
            return hf
    _, n, rest = gguf_tensor_name.split(".", 2)
    inverse = {v: k for k, v in HF_TO_GGUF_BLOCK.items()}
    return f"model.layers.{n}.{inverse[rest]}"


def tensor_type(hf_name: str, data: np.ndarray, ftype: str) -> Q:
    block_type, embed_type, _ = GGUF_TYPES[ftype]
    if data.ndim == 1:
        return Q.F32
    if hf_name in ("model.embed_tokens.weight", "lm_head.weight"):
        return embed_type
    return block_type


def encode(data: np.ndarray, qtype: Q) -> np.ndarray:
    if qtype == Q.F32:
        return data.astype(np.float32)
    if qtype == Q.F16:
        return data.astype(np.float16)
    return gguf.quants.quantize(data.astype(np.float32), qtype)


def write_gguf(path: str, spec: Spec, state: dict[str, torch.Tensor], vocab: Vocab, ftype: str) -> None:
    arch = spec.arch
    w = gguf.GGUFWriter(path, arch)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(f"ExitLens {spec.name} (random weights, test fixture)")
    w.add_block_count(spec.layers)
    w.add_context_length(spec.context)
    w.add_embedding_length(spec.hidden)
    w.add_feed_forward_length(spec.ffn)
    w.add_head_count(spec.heads)
    w.add_head_count_kv(spec.kv_heads)
    w.add_rope_freq_base(spec.rope_theta)
    w.add_layer_norm_rms_eps(spec.eps)
    w.add_file_type(GGUF_TYPES[ftype][2])
    if arch == "llama":
        # The converter's Llama class adds these two (SmolLM2's file has them); Qwen2 files lack
        # them, so a loader must derive head size = embedding_length / head_count.
        w.add_vocab_size(len(vocab.tokens))
        w.add_rope_dimension_count(spec.head_dim)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(vocab.pre)
    w.add_token_list(vocab.tokens)
    w.add_token_types(vocab.types)
    w.add_token_merges(vocab.merges)
    w.add_bos_token_id(vocab.bos)
    w.add_eos_token_id(vocab.eos)
    w.add_pad_token_id(vocab.eos)
    w.add_add_bos_token(False)
    if GGUF_TYPES[ftype][0] not in (Q.F32, Q.F16):
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for hf, t in state.items():
        data = t.numpy()
        if arch == "llama" and hf.endswith("self_attn.q_proj.weight"):
            data = rope_interleave(data, spec.heads)
        elif arch == "llama" and hf.endswith("self_attn.k_proj.weight"):
            data = rope_interleave(data, spec.kv_heads)
        qtype = tensor_type(hf, data, ftype)
        w.add_tensor(gguf_name(hf), encode(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_gguf_as_hf(path: str, spec: Spec) -> dict[str, torch.Tensor]:
    """Dequantise every tensor of a GGUF file back into an HF state dict (Q/K un-permuted)."""
    out = {}
    for t in gguf.GGUFReader(path).tensors:
        data = gguf.quants.dequantize(np.array(t.data), t.tensor_type).astype(np.float32)
        data = data.reshape([int(d) for d in reversed(t.shape)])
        hf = hf_name_of(t.name)
        if spec.arch == "llama" and hf.endswith("self_attn.q_proj.weight"):
            data = rope_deinterleave(data, spec.heads)
        elif spec.arch == "llama" and hf.endswith("self_attn.k_proj.weight"):
            data = rope_deinterleave(data, spec.kv_heads)
        out[hf] = torch.from_numpy(np.ascontiguousarray(data))
    return out


# ---------------------------------------------------------------- references

def run(model, ids: list[int]):
    """(logits [n, V], raw residual after every block [L, n, d]) for one prompt."""
    captured = []

    def keep(module, inputs, output):
        captured.append((output[0] if isinstance(output, tuple) else output)[0].detach().clone())

    hooks = [layer.register_forward_hook(keep) for layer in model.model.layers]
    try:
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_hidden_states=True)
    finally:
        for h in hooks:
            h.remove()
    hidden = torch.stack(captured)
    # HF's hidden_states[l + 1] is the residual after block l, except the last one, which HF
    # returns after the final norm; the hooks give the raw residual for every block.
    hs = out.hidden_states
    for l in range(len(captured) - 1):
        assert torch.equal(hs[l + 1][0], hidden[l]), l
    assert torch.allclose(hs[-1][0], model.model.norm(hidden[-1]), atol=1e-6)
    return out.logits[0].detach().clone(), hidden


def greedy(model, ids: list[int], steps: int, context: int) -> tuple[list[int], list[float]]:
    """Greedy continuation by full recomputation (no cache): the plainest reference.

    Also returns, per step, the gap between the best and second-best logit, so a test can tell a
    genuine mismatch from a near-tie flipped by rounding.
    """
    seq, margins = list(ids), []
    with torch.no_grad():
        for _ in range(steps):
            if len(seq) >= context:
                break
            top = model(torch.tensor([seq])).logits[0, -1].topk(2)
            seq.append(int(top.indices[0]))
            margins.append(round(float(top.values[0] - top.values[1]), 5))
    return seq[len(ids):], margins


def expected(name: str, spec: Spec, model, vocab: Vocab, sources: list[str], extra: dict) -> dict:
    tensors, prompts = {}, []
    for pi, text in enumerate(PROMPTS):
        ids = vocab.hf.encode(text, add_special_tokens=False).ids
        logits, hidden = run(model, ids)
        tensors[f"prompt{pi}.logits"] = logits.contiguous()
        tensors[f"prompt{pi}.hidden"] = hidden.contiguous()
        continuation, margins = greedy(model, ids, GREEDY_STEPS, spec.context)
        prompts.append({"text": text, "ids": ids, "greedy": continuation, "greedy_margin": margins})
    meta = {
        "sources": sources,
        "layers": spec.layers, "hidden_size": spec.hidden, "vocab_size": len(vocab.tokens),
        "tensors": {"prompt{i}.logits": "[n, vocab] F32", "prompt{i}.hidden": "[layers, n, hidden] F32, "
                    "raw residual after block l (0-based), no final norm"},
        "prompts": prompts,
        **extra,
    }
    save_file(tensors, os.path.join(ROOT, f"expected-{name}.safetensors"))
    os.chmod(os.path.join(ROOT, f"expected-{name}.safetensors"), 0o644)
    with open(os.path.join(ROOT, f"expected-{name}.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return {"meta": meta, "tensors": tensors}


def q8_activations(x: torch.Tensor) -> torch.Tensor:
    """Round activations the way llama.cpp's quantised matmuls do: blocks of 32, scale = amax / 127."""
    blocks = x.reshape(*x.shape[:-1], x.shape[-1] // 32, 32)
    d = blocks.abs().amax(-1, keepdim=True) / 127
    q = torch.round(blocks / torch.where(d > 0, d, 1))
    return (q * d).reshape(x.shape)


def q8_activation_drift(model, prompt_ids: list[list[int]]) -> dict:
    """How far 8-bit activations alone move this reference's logits (a guide for the tolerance)."""
    worst, ratio = 0.0, 0.0
    for ids in prompt_ids:
        with torch.no_grad():
            exact = model(torch.tensor([ids])).logits[0]
        hooks = [m.register_forward_pre_hook(lambda m, inp: (q8_activations(inp[0]),))
                 for m in model.modules() if isinstance(m, torch.nn.Linear)]
        try:
            with torch.no_grad():
                rounded = model(torch.tensor([ids])).logits[0]
        finally:
            for h in hooks:
                h.remove()
        worst = max(worst, float((rounded - exact).abs().max()))
        ratio = max(ratio, float((rounded - exact).pow(2).mean().sqrt() / exact.pow(2).mean().sqrt()))
    return {"max_abs_logit_diff": round(worst, 4), "max_rms_ratio": round(ratio, 4),
            "note": "transformers on these weights with every Linear input rounded to Q8_0 blocks vs exact; "
                    "not a tolerance, an estimate of what activation quantisation alone costs"}


def load_into(spec: Spec, cfg, state: dict[str, torch.Tensor]):
    model = model_class(spec.arch)(cfg).eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    if spec.tied:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    return model


# ---------------------------------------------------------------- checks

def check_layers_matter(spec: Spec, model, ref: dict) -> None:
    """The residual must change a lot in every block, or a test comparing layers could not fail."""
    steps, gaps = [], []
    for pi in range(len(PROMPTS)):
        hidden = ref["tensors"][f"prompt{pi}.hidden"]
        logits = ref["tensors"][f"prompt{pi}.logits"]
        with torch.no_grad():
            lens = [model.lm_head(model.model.norm(h)) for h in hidden]
        for l in range(spec.layers - 1):
            step = (hidden[l + 1] - hidden[l]).norm() / hidden[l].norm()
            gap = (lens[l] - logits).abs().max()
            assert step > 0.3 and gap > 1.0, (spec.name, pi, l, float(step), float(gap))
            steps.append(float(step))
            gaps.append(float(gap))
    # A continuation stuck on one token would not exercise the KV cache.
    distinct = [len(set(p["greedy"])) for p in ref["meta"]["prompts"]]
    assert min(distinct) >= 4, (spec.name, distinct)
    print(f"  {spec.name}: min residual change per block {min(steps):.2f} (relative), min max|logit-lens - final| "
          f"{min(gaps):.2f}, distinct greedy tokens per prompt {distinct}")


def check_conventions_matter(spec: Spec, cfg, state: dict[str, torch.Tensor], logits: torch.Tensor, ids: list[int]) -> None:
    """Wrong RoPE pairing (llama) or dropped biases (qwen2) must move the logits by a lot."""
    wrong = dict(state)
    if spec.arch == "llama":
        for k in list(wrong):
            if k.endswith("q_proj.weight"):
                wrong[k] = torch.from_numpy(rope_interleave(wrong[k].numpy(), spec.heads))
            elif k.endswith("k_proj.weight"):
                wrong[k] = torch.from_numpy(rope_interleave(wrong[k].numpy(), spec.kv_heads))
    else:
        for k in list(wrong):
            if k.endswith("_proj.bias"):
                wrong[k] = torch.zeros_like(wrong[k])
    with torch.no_grad():
        bad = load_into(spec, cfg, wrong)(torch.tensor([ids])).logits[0]
    gap = float((bad - logits).abs().max())
    assert gap > 1.0, (spec.name, gap)
    print(f"  {spec.name}: {'unpermuted Q/K' if spec.arch == 'llama' else 'no QKV biases'} moves logits by {gap:.2f}")


def check_transformers_gguf(spec: Spec, ftype: str, model, ids: list[int]) -> float:
    """transformers' own GGUF loader (its reverse permutation, its dequantiser) must agree."""
    other = AutoModelForCausalLM.from_pretrained(ROOT, gguf_file=f"{spec.name}.{ftype}.gguf",
                                                 dtype=torch.float32, attn_implementation="eager").eval()
    assert other.config.model_type == spec.arch
    with torch.no_grad():
        a = model(torch.tensor([ids])).logits[0]
        b = other(torch.tensor([ids])).logits[0]
    return float((a - b).abs().max())


# ---------------------------------------------------------------- main

def main() -> None:
    os.makedirs(ROOT, exist_ok=True)
    torch.set_num_threads(2)
    tokens, merges = train_bpe()
    for spec in SPECS:
        # Files of a type dropped from a spec must not linger.
        for stale in glob.glob(os.path.join(ROOT, f"{spec.name}.*.gguf")) + \
                glob.glob(os.path.join(ROOT, f"expected-{spec.name}.*")):
            os.remove(stale)
        vocab = vocab_for(spec.arch, tokens, merges)
        cfg = make_config(spec, vocab)
        torch.manual_seed(spec.seed)
        model = model_class(spec.arch)(cfg).eval()
        randomize(model, spec.seed)
        out = write_hf(spec, cfg, model, vocab)
        state = hf_state(model, spec.tied)

        # The HF directory must load back (both config spellings) to the same model.
        reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
        probe = vocab.hf.encode(PROMPTS[1]).ids
        with torch.no_grad():
            assert torch.equal(reloaded(torch.tensor([probe])).logits, model(torch.tensor([probe])).logits), spec.name

        f32_ref = expected(spec.name, spec, model, vocab, [f"{spec.name}/", f"{spec.name}.f32.gguf"],
                           {"tolerance": {"logits": 1e-4, "hidden": 1e-4}})
        check_layers_matter(spec, model, f32_ref)
        check_conventions_matter(spec, cfg, state, f32_ref["tensors"]["prompt1.logits"], probe)

        for ftype in spec.types:
            path = os.path.join(ROOT, f"{spec.name}.{ftype}.gguf")
            write_gguf(path, spec, state, vocab, ftype)
            back = read_gguf_as_hf(path, spec)
            assert set(back) == set(state), set(back) ^ set(state)
            qmodel = load_into(spec, cfg, back)
            tf_gap = check_transformers_gguf(spec, ftype, qmodel, probe)
            assert tf_gap < 1e-5, (spec.name, ftype, tf_gap)
            if ftype == "f32":
                assert all(torch.equal(back[k], state[k]) for k in state), "F32 GGUF must round-trip exactly"
                print(f"  {spec.name}.f32.gguf: exact round trip; transformers' GGUF loader max |dlogit| {tf_gap:.1e}")
                continue
            greedy_f32 = [p["greedy"] for p in f32_ref["meta"]["prompts"]]
            if ftype == "f16":  # F16 weights are exact in F32 arithmetic: same tolerance as F32
                extra = {"tolerance": {"logits": 1e-4, "hidden": 1e-4}}
            else:
                extra = {"q8_activation_drift": q8_activation_drift(qmodel, [vocab.hf.encode(t).ids for t in PROMPTS])}
            ref = expected(f"{spec.name}.{ftype}", spec, qmodel, vocab, [f"{spec.name}.{ftype}.gguf"], extra)
            diffs = [float((ref["tensors"][f"prompt{i}.logits"] - f32_ref["tensors"][f"prompt{i}.logits"]).abs().max())
                     for i in range(len(PROMPTS))]
            same = sum(a == b for p, q in zip(ref["meta"]["prompts"], greedy_f32) for a, b in zip(p["greedy"], q))
            print(f"  {spec.name}.{ftype}.gguf: vs F32 max |dlogit| {max(diffs):.3f}, greedy tokens equal to F32 "
                  f"{same}/{sum(map(len, greedy_f32))}; transformers' GGUF loader max |dlogit| {tf_gap:.1e}; {extra}")
        print(spec.name, "vocab", len(vocab.tokens), "prompt tokens", [len(p["ids"]) for p in f32_ref["meta"]["prompts"]])


if __name__ == "__main__":
    main()
