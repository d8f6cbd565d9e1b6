#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/corpus (run with any
Python with numpy, torch and safetensors). Seeds are small valid (and a few invalid) inputs;
libFuzzer mutates from them. Rerunning rewrites the same files."""
import json
import os
import struct

import numpy as np
import torch
from safetensors.numpy import save
from safetensors.torch import save as torch_save

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus"))
for d in ("safetensors", "config", "tokenizer-json", "vocab-merges", "bpe", "editor", "gguf"):
    os.makedirs(d, exist_ok=True)


def w(path, data):
    with open(path, "wb") as f:
        f.write(data)


# safetensors: F32, F16/I64/empty with metadata, BF16, and a hand-written header.
w("safetensors/two-f32", save({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, dtype=np.float32)}))
w("safetensors/mixed", save({"h": np.ones((2, 2), dtype=np.float16), "i": np.arange(3, dtype=np.int64),
                             "e": np.zeros((0, 5), dtype=np.float32)}, metadata={"format": "pt"}))
w("safetensors/bf16", torch_save({"x": torch.ones(3, dtype=torch.bfloat16), "y": torch.zeros(2, 2)}))
header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
w("safetensors/handmade", struct.pack("<Q", len(header)) + header + b"\0" * 8)

# config.json: the tiny fixture, n_ctx instead of n_positions, and issue #13's reproducers.
base = json.load(open("../../Tests/ModelTests/Resources/tiny-f32/config.json"))
w("config/tiny-f32.json", json.dumps(base).encode())
c = dict(base); c.pop("n_positions"); c["n_ctx"] = 64; c["n_inner"] = 128
w("config/n_ctx.json", json.dumps(c).encode())
c = dict(base); c["n_embd"] = 2**62
w("config/huge-embd.json", json.dumps(c).encode())
c = dict(base); c["layer_norm_epsilon"] = None; c["bos_token_id"] = -100
w("config/null-eps.json", json.dumps(c).encode())
w("config/minimal.json", b'{"n_layer":1,"n_head":1,"n_embd":4,"n_positions":8,"vocab_size":8}')

# Tokenizers: the 256 byte tokens in GPT-2's byte-level spelling plus a few merges.
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
spelling = {b: chr(c) for b, c in zip(bs, cs)}
vocab = {spelling[b]: b for b in range(256)}
extra = ["in", "Ġt", "Ġa", "he", "Ġth", "Ġthe"]
for i, t in enumerate(extra):
    vocab[t] = 256 + i
vocab["<|endoftext|>"] = 256 + len(extra)
merges = ["i n", "Ġ t", "Ġ a", "h e", "Ġt h", "Ġth e"]
tok = {"version": "1.0", "added_tokens": [{"id": vocab["<|endoftext|>"], "content": "<|endoftext|>", "special": True}],
       "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
       "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": vocab, "merges": merges}}
w("tokenizer-json/byte-level.json", json.dumps(tok, ensure_ascii=False).encode())
tok["model"] = dict(tok["model"], merges=[m.split(" ") for m in merges])
w("tokenizer-json/pair-merges.json", json.dumps(tok, ensure_ascii=False).encode())
# vocab.json, a NUL byte, merges.txt.
w("vocab-merges/gpt2-style", json.dumps(vocab, ensure_ascii=False).encode() + b"\0"
  + ("#version: 0.2\n" + "\n".join(merges) + "\n").encode())

# BPE round trip: code, Unicode with a special token, invalid UTF-8, a BOM.
w("bpe/code", b"def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n")
w("bpe/unicode", "héllo 漢字 🙂 <|endoftext|> \u200d\r\n\t".encode())
w("bpe/invalid", bytes([0xFF, 0xFE, 0xC3, 0x28, 0xE2, 0x82, 0, 0x20, 0x20, 0x0A]))
w("bpe/bom", b"\xef\xbb\xbfx = 1\n")

# Editor: file bytes, 0xFF, then keys (0xFE w h resize, 0xFD pause, 0xFC save and reload).
P, R, S = b"\xfd", b"\xfe", b"\xfc"
w("editor/typing", b"def f(x):\n    return x\n" + b"\xff" + b"\x1b[B\x1b[Fabc\r\tz\x7f\x1a\x19" + S + R + b"\x0a\x05"
  + b"\x1b[5~\x1b[6~" + R + b"\xff\xff" + b"\x1b[H\x1b[3~" + S)
w("editor/bom-crlf", b"\xef\xbb\xbfa\r\nb\r\n" + b"\xff" + b"x\r\x1bOB\x1bOQy" + S)
w("editor/escapes", b"x\n" + b"\xff" + b"\x1b" + P + b"a\x1b[" + P + b"b\x1b[1;5C\x1b[99~\x1b\x1bq\x1b\r"
  + "漢é".encode() + b"\x00" + S)
w("editor/combining", "e\n".encode() + b"\xff" + b"\x1b[F" + "\u0301\u0301".encode() + b"\x7f\r\r\x1a\x1a\x1a\x19" + S)
w("editor/mixed-endings", b"a\r\nb\n\tc\rd\n" + b"\xff" + b"\x1b[B\x1b[F\r" + S)

# GGUF: the reader's own fixtures, then whole tiny models (gpt2, llama F32, qwen2 Q8_0 with biases)
# with a byte-level tokenizer in tokenizer.ggml.*, so mutations reach the tokenizer and the loader.
import shutil
import tempfile

import gguf
from gguf.quants import quantize

for name in ("align64", "types"):
    shutil.copyfile(f"../../Tests/GGUFTests/Resources/{name}.gguf", f"gguf/{name}.gguf")


def gguf_model(path, arch, d, heads, kv_heads, inner, context, tensors, quant=None, **extra):
    """tensors: name → numpy shape (rows, columns), as llama.cpp names and shapes them."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.gguf")
        g = gguf.GGUFWriter(out, arch)
        g.add_block_count(1)
        g.add_context_length(context)
        g.add_embedding_length(d)
        g.add_feed_forward_length(inner)
        g.add_head_count(heads)
        if arch == "gpt2":
            g.add_layer_norm_eps(1e-5)
        else:
            g.add_head_count_kv(kv_heads)
            g.add_layer_norm_rms_eps(1e-6)
            g.add_rope_freq_base(10000.0)
        tokens = [spelling[b] for b in range(256)][:extra.get("byte_tokens", 256)] + extra.get("more", [])
        g.add_tokenizer_model("gpt2")
        g.add_tokenizer_pre(extra.get("pre", "gpt-2"))
        g.add_token_list(tokens)
        g.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])
        g.add_token_merges(extra.get("merges", []))
        g.add_bos_token_id(len(tokens) - 1)
        g.add_eos_token_id(len(tokens) - 1)
        for name, shape in tensors.items():
            x = (rng.standard_normal(shape) * 0.1).astype(np.float32)
            if name.endswith("norm.weight"):
                x += 1
            if quant is not None and len(shape) == 2 and shape[1] % 32 == 0:
                g.add_tensor(name, quantize(x, quant), raw_dtype=quant)
            else:
                g.add_tensor(name, x)
        g.write_header_to_file()
        g.write_kv_data_to_file()
        g.write_tensors_to_file()
        g.close()
        w(f"gguf/{path}", open(out, "rb").read())


# GPT-2 with 16 tokens: the first 15 byte tokens and an end token; d 8, 2 heads, context 4.
d, inner, V = 8, 16, 16
gguf_model("gpt2.gguf", "gpt2", d, 2, 2, inner, 4, {
    "token_embd.weight": (V, d), "position_embd.weight": (4, d), "output_norm.weight": (d,), "output_norm.bias": (d,),
    "blk.0.attn_norm.weight": (d,), "blk.0.attn_norm.bias": (d,), "blk.0.attn_qkv.weight": (3 * d, d),
    "blk.0.attn_qkv.bias": (3 * d,), "blk.0.attn_output.weight": (d, d), "blk.0.attn_output.bias": (d,),
    "blk.0.ffn_norm.weight": (d,), "blk.0.ffn_norm.bias": (d,), "blk.0.ffn_up.weight": (inner, d),
    "blk.0.ffn_up.bias": (inner,), "blk.0.ffn_down.weight": (d, inner), "blk.0.ffn_down.bias": (d,),
}, byte_tokens=15, more=["<|endoftext|>"])


def llama_tensors(d, q, kv, inner, V, bias=False, untied=False):
    t = {"token_embd.weight": (V, d), "output_norm.weight": (d,), "blk.0.attn_norm.weight": (d,),
         "blk.0.attn_q.weight": (q, d), "blk.0.attn_k.weight": (kv, d), "blk.0.attn_v.weight": (kv, d),
         "blk.0.attn_output.weight": (d, q), "blk.0.ffn_norm.weight": (d,), "blk.0.ffn_gate.weight": (inner, d),
         "blk.0.ffn_up.weight": (inner, d), "blk.0.ffn_down.weight": (d, inner)}
    if bias:
        t.update({"blk.0.attn_q.bias": (q,), "blk.0.attn_k.bias": (kv,), "blk.0.attn_v.bias": (kv,)})
    if untied:
        t["output.weight"] = (V, d)
    return t


# Llama, F32, untied head, grouped-query attention (2 heads, 1 key/value head of 4), with merges.
gguf_model("llama.gguf", "llama", 8, 2, 1, 16, 8, llama_tensors(8, 8, 4, 16, 20, untied=True),
           byte_tokens=16, more=["in", "Ġt", "<|endoftext|>", "he"], merges=["i n", "Ġ t", "h e"], pre="llama-bpe")
# Qwen2, Q8_0 matrices (rows of 32), attention biases, tied embedding.
gguf_model("qwen2-q8_0.gguf", "qwen2", 32, 4, 2, 32, 8, llama_tensors(32, 32, 16, 32, 12, bias=True),
           quant=gguf.GGMLQuantizationType.Q8_0, byte_tokens=11, more=["<|im_start|>"], pre="qwen2")
