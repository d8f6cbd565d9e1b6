#!/usr/bin/env python3
"""Reference GGML block (de)quantization for ExitLens's quantized kernels (run by hand, never in CI).

    python training/quant_fixtures.py

For each block format the Swift side supports, a small matrix of 8 rows x 96 weights
(3 blocks per row) is built from
  - rows 0-4: random weights (normal, uniform, one row with a large outlier, a constant row,
    an all-zero row) quantized by `gguf.quants.quantize`, and
  - rows 5-7: random raw block bytes (finite f16 scales, subnormals included; for Q8_0 any
    int8, -128 included), i.e. blocks a quantizer would not produce but a file may hold.
The K-quants (Q4_K, Q6_K; 256-weight super-blocks) have no quantizer in the package, so their
4 x 512 matrices are random raw bytes only (finite f16 d and dmin).
The raw bytes and `gguf.quants.dequantize`'s float32 output are written to
Tests/KernelsTests/Resources/quant-<format>.bin / .f32 (little-endian); the Swift tests
require bit-exact equality. Also half.bin / half.f32 and bfloat16.bin / bfloat16.f32:
random 16-bit patterns (NaN excluded) widened by numpy.

With `--real MODEL.gguf --out DIR` it instead extracts a few real tensors (not committed: model
weights) for the opt-in `QuantizedRealWeightsTests` (EXITLENS_QUANT_REAL=DIR):

    python training/quant_fixtures.py --real SmolLM2-135M-Instruct.Q4_1.gguf --out /tmp/quant-real
"""
import argparse
import json
import os

import numpy as np
from gguf import GGMLQuantizationType, quants

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "KernelsTests", "Resources")
ROWS, COLS = 8, 96
FORMATS = {
    "q8_0": (GGMLQuantizationType.Q8_0, 34),
    "q4_0": (GGMLQuantizationType.Q4_0, 18),
    "q4_1": (GGMLQuantizationType.Q4_1, 20),
}
# K-quants: (type, bytes per 256-weight super-block, byte offsets of f16 scales)
K_FORMATS = {
    "q4_K": (GGMLQuantizationType.Q4_K, 144, (0, 2)),
    "q6_K": (GGMLQuantizationType.Q6_K, 210, (208,)),
}
K_ROWS, K_COLS = 4, 512


def random_half_bits(rng: np.random.Generator, n: int) -> np.ndarray:
    """Finite f16 values over a wide range, subnormals and negative scales included."""
    exponents = rng.uniform(-26, 4, n)
    values = np.sign(rng.uniform(-1, 1, n)) * np.exp2(exponents)
    return values.astype(np.float16).view(np.uint16)


def matrix(fmt: str, rng: np.random.Generator) -> np.ndarray:
    qtype, block_bytes = FORMATS[fmt]
    weights = np.zeros((5, COLS), dtype=np.float32)
    weights[0] = rng.normal(0, 0.05, COLS)
    weights[1] = rng.uniform(-3, 1, COLS)
    weights[2] = rng.normal(0, 0.02, COLS)
    weights[2, 7] = 4.0  # an outlier sets its block's scale
    weights[3] = 0.25    # constant: Q4_1's d is 0
    # row 4 stays zero
    quantized = quants.quantize(weights, qtype)
    assert quantized.shape == (5, COLS // 32 * block_bytes)

    raw = rng.integers(0, 256, (3, COLS // 32, block_bytes), dtype=np.uint8)
    scales = 2 if fmt == "q4_1" else 1
    for k in range(scales):
        bits = random_half_bits(rng, 3 * COLS // 32).reshape(3, COLS // 32)
        raw[:, :, 2 * k] = bits & 0xFF
        raw[:, :, 2 * k + 1] = bits >> 8
    return np.concatenate([quantized, raw.reshape(3, -1)], axis=0)


def k_matrix(fmt: str, rng: np.random.Generator) -> np.ndarray:
    _, block_bytes, offsets = K_FORMATS[fmt]
    blocks = K_ROWS * K_COLS // 256
    raw = rng.integers(0, 256, (blocks, block_bytes), dtype=np.uint8)
    for offset in offsets:
        bits = random_half_bits(rng, blocks)
        raw[:, offset] = bits & 0xFF
        raw[:, offset + 1] = bits >> 8
    return raw.reshape(K_ROWS, -1)


REAL_TENSORS = ["blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.ffn_down.weight", "blk.29.ffn_up.weight",
                "token_embd.weight"]


def extract_real(path: str, out: str) -> None:
    from gguf import GGUFReader

    reader = GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    os.makedirs(out, exist_ok=True)
    meta = []
    for name in REAL_TENSORS:
        t = tensors[name]
        data = np.asarray(t.data)
        if name == "token_embd.weight":
            data = data[:512]  # a slice of the 49152-row table keeps the files small
        in_count, out_count = int(t.shape[0]), data.shape[0]
        floats = quants.dequantize(data, t.tensor_type).astype("<f4")
        assert floats.shape == (out_count, in_count)
        data.astype(np.uint8).tofile(os.path.join(out, f"{name}.bin"))
        floats.tofile(os.path.join(out, f"{name}.f32"))
        meta.append({"name": name, "format": t.tensor_type.name.lower().replace("_k", "_K"),
                     "inCount": in_count, "outCount": out_count})
    with open(os.path.join(out, "real.json"), "w") as f:
        json.dump(meta, f, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", help="a GGUF file to extract real tensors from")
    parser.add_argument("--out", help="where --real writes them")
    args = parser.parse_args()
    if args.real:
        extract_real(args.real, args.out or "/tmp/quant-real")
        return
    rng = np.random.default_rng(10)
    os.makedirs(OUT, exist_ok=True)
    meta = {"formats": {}}
    for fmt, (qtype, _) in list(FORMATS.items()) + [(k, (v[0], v[1])) for k, v in K_FORMATS.items()]:
        data = matrix(fmt, rng) if fmt in FORMATS else k_matrix(fmt, rng)
        rows, cols = (ROWS, COLS) if fmt in FORMATS else (K_ROWS, K_COLS)
        floats = quants.dequantize(data, qtype).astype("<f4")
        assert floats.shape == (rows, cols) and np.isfinite(floats).all()
        meta["formats"][fmt] = [rows, cols]
        data.astype(np.uint8).tofile(os.path.join(OUT, f"quant-{fmt}.bin"))
        floats.tofile(os.path.join(OUT, f"quant-{fmt}.f32"))

    bits = rng.integers(0, 1 << 16, 4096, dtype=np.uint16)
    halves = bits[~np.isnan(bits.view(np.float16))]
    halves.astype("<u2").tofile(os.path.join(OUT, "half.bin"))
    halves.view(np.float16).astype("<f4").tofile(os.path.join(OUT, "half.f32"))
    bf = bits[(bits & 0x7F80) != 0x7F80]  # no NaN or infinity exponents
    bf.astype("<u2").tofile(os.path.join(OUT, "bfloat16.bin"))
    (bf.astype(np.uint32) << 16).view(np.float32).astype("<f4").tofile(os.path.join(OUT, "bfloat16.f32"))
    meta["half"] = int(halves.size)
    meta["bfloat16"] = int(bf.size)
    with open(os.path.join(OUT, "quant.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
