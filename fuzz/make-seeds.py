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
for d in ("safetensors", "config", "tokenizer-json", "vocab-merges", "bpe", "editor"):
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
