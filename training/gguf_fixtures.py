"""Writes small GGUF fixtures with the `gguf` package's writer, and what its reader reads back.

Run from the repository root:  python training/gguf_fixtures.py

Outputs (Tests/GGUFTests/Resources):
  types.gguf      v3, default alignment 32: every metadata value type, typed arrays, nested and
                  mixed nested arrays, unicode keys and strings; F32/F16/Q8_0/Q4_1 tensors of odd shapes.
  align64.gguf    v3, general.alignment = 64; 1-D to 4-D tensors including a single element.
  expected.json   per file: version, alignment, data offset, every metadata entry in file order
                  (rebuilt from the reader's parts, so nested arrays keep their structure), every
                  tensor's name, ne dims, type, absolute offset, sizes, FNV-1a 64 hash and first bytes
                  of its data as the reader sees them; plus the package's GGML_QUANT_SIZES.

Integers and float bit patterns are written as decimal strings so JSON number parsing cannot round them.
"""

import importlib.metadata
import json
import os
import struct

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType as VT, GGMLQuantizationType as QT

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGUFTests", "Resources")
SCALARS = {VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.UINT64, VT.INT64,
           VT.FLOAT32, VT.FLOAT64, VT.BOOL}


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def quantized(rng, shape, qtype):
    """Random weights quantised with the package's own quantiser (uint8 blocks)."""
    values = rng.standard_normal(shape).astype(np.float32)
    return gguf.quants.quantize(values, qtype)


def write_types(path):
    rng = np.random.default_rng(10)
    w = gguf.GGUFWriter(path, arch="llama")
    # One of each scalar type, at the edges of its range where that is interesting.
    w.add_uint8("t.uint8", 255)
    w.add_int8("t.int8", -128)
    w.add_uint16("t.uint16", 65535)
    w.add_int16("t.int16", -32768)
    w.add_uint32("t.uint32", 4294967295)
    w.add_int32("t.int32", -2147483648)
    w.add_float32("t.float32", 3.14159)
    w.add_bool("t.bool.true", True)
    w.add_bool("t.bool.false", False)
    w.add_string("t.string", "héllo, 世界 🦙\nsecond line")
    w.add_string("t.string.empty", "")
    w.add_uint64("t.uint64", 2**64 - 1)
    w.add_int64("t.int64", -(2**63))
    w.add_float64("t.float64", -1.0e-300)
    # Unicode keys.
    w.add_uint32("ключ.юникод", 7)
    w.add_string("emoji.🦙.name", "llama")
    # Arrays of each element type.
    for vt, vals in [
        (VT.UINT8, [0, 1, 255]), (VT.INT8, [-128, 0, 127]), (VT.UINT16, [0, 65535]),
        (VT.INT16, [-32768, 32767]), (VT.UINT32, [0, 4294967295]), (VT.INT32, [-1, 2, -3]),
        (VT.UINT64, [2**64 - 1, 0]), (VT.INT64, [-(2**63), 2**63 - 1]),
        (VT.FLOAT32, [0.5, -2.25, 1e-8]), (VT.FLOAT64, [1.0 / 3.0, -0.0]), (VT.BOOL, [True, False, True]),
    ]:
        w.add_key_value(f"a.{vt.name.lower()}", vals, VT.ARRAY, sub_type=vt)
    w.add_array("a.string", ["a", "", "Ġhello", "ü b", "<|endoftext|>"])
    # Nested arrays: the format allows them and each inner array carries its own element type.
    w.add_array("n.int32", [[1, 2, 3], [4]])
    w.add_array("n.string", [["x"], ["y", "z"]])
    w.add_array("n.depth3", [[[1.5]], [[2.5, 3.5], [4.5]]])
    w.add_array("n.mixed", [[1], ["one"], [True, False]])

    # numpy shapes are outermost-first; GGUF stores ne reversed ([5, 3] -> ne [3, 5]).
    w.add_tensor("f32.odd", rng.standard_normal((5, 3)).astype(np.float32))
    w.add_tensor("f16.vec", rng.standard_normal(7).astype(np.float16))
    w.add_tensor("q8_0.mat", quantized(rng, (3, 64), QT.Q8_0), raw_dtype=QT.Q8_0)
    w.add_tensor("q4_1.cube", quantized(rng, (2, 5, 32), QT.Q4_1), raw_dtype=QT.Q4_1)
    finish(w)


def write_align64(path):
    rng = np.random.default_rng(64)
    w = gguf.GGUFWriter(path, arch="test")
    w.add_custom_alignment(64)
    w.add_string("general.name", "alignment 64")
    w.add_uint32("test.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "a", "b"])
    w.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.0, -2.5])
    w.add_array("tokenizer.ggml.token_type", [3, 3, 1, 1])
    w.add_tensor("one", np.array([42.0], dtype=np.float32))
    w.add_tensor("q8_0.row", quantized(rng, (1, 32), QT.Q8_0), raw_dtype=QT.Q8_0)
    w.add_tensor("f32.4d", rng.standard_normal((2, 1, 3, 5)).astype(np.float32))
    w.add_tensor("q4_1.mat", quantized(rng, (4, 96), QT.Q4_1), raw_dtype=QT.Q4_1)
    w.add_tensor("f16.mat", rng.standard_normal((3, 9)).astype(np.float16))
    finish(w)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def encode_scalar(vt, part):
    v = part[0]
    if vt == VT.FLOAT32:
        return str(struct.unpack("<I", struct.pack("<f", float(v)))[0])
    if vt == VT.FLOAT64:
        return str(struct.unpack("<Q", struct.pack("<d", float(v)))[0])
    if vt == VT.BOOL:
        return bool(v)
    return str(int(v))


def walk(parts, i, vt):
    """Rebuilds one value from the reader's flat `parts`, returning (json value, next index)."""
    if vt == VT.STRING:
        return {"type": "string", "value": bytes(parts[i + 1]).decode("utf-8")}, i + 2
    if vt in SCALARS:
        return {"type": vt.name.lower(), "value": encode_scalar(vt, parts[i])}, i + 1
    assert vt == VT.ARRAY
    element_type, count = VT(int(parts[i][0])), int(parts[i + 1][0])
    i += 2
    elements = []
    for _ in range(count):
        e, i = walk(parts, i, element_type)
        elements.append(e)
    return {"type": "array", "element_type": element_type.name.lower(), "elements": elements}, i


def leaves(v):
    if v["type"] != "array":
        return [v]
    return [leaf for e in v["elements"] for leaf in leaves(e)]


def describe(path):
    r = GGUFReader(path)
    metadata = []
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue  # the reader's pseudo-fields for the header
        value, end = walk(field.parts, 3, field.types[0])
        assert end == len(field.parts), key
        # The walk must agree with the reader's own (flattening) view of the value.
        flat = field.contents()
        flat = flat if isinstance(flat, list) else [flat]
        decoded = []
        for leaf in leaves(value):
            if leaf["type"] == "string":
                decoded.append(leaf["value"])
            elif leaf["type"] == "float32":
                decoded.append(struct.unpack("<f", struct.pack("<I", int(leaf["value"])))[0])
            elif leaf["type"] == "float64":
                decoded.append(struct.unpack("<d", struct.pack("<Q", int(leaf["value"])))[0])
            elif leaf["type"] == "bool":
                decoded.append(leaf["value"])
            else:
                decoded.append(int(leaf["value"]))
        if len({leaf["type"] for leaf in leaves(value)}) == 1:  # contents() cannot describe mixed nesting
            assert [str(x) for x in decoded] == [str(x) for x in flat], (key, decoded, flat)
        metadata.append({"key": key, "value": value})
    tensors = []
    for t in r.tensors:
        raw = bytes(r.data[t.data_offset:t.data_offset + t.n_bytes])
        tensors.append({
            "name": t.name, "dims": [int(d) for d in t.shape], "type": t.tensor_type.name,
            "type_id": int(t.tensor_type), "offset": int(t.data_offset), "n_bytes": int(t.n_bytes),
            "n_elements": int(t.n_elements), "fnv1a64": fnv1a64(raw), "head": raw[:16].hex(),
        })
    return {
        "file": os.path.basename(path), "file_size": os.path.getsize(path),
        "version": int(r.fields["GGUF.version"].parts[0][0]), "alignment": int(r.alignment),
        "data_offset": int(r.data_offset), "metadata": metadata, "tensors": tensors,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {"types.gguf": write_types, "align64.gguf": write_align64}
    described = []
    for name, build in files.items():
        path = os.path.join(OUT, name)
        build(path)
        described.append(describe(path))
    sizes = {t.name: list(gguf.GGML_QUANT_SIZES[t]) for t in QT if t in gguf.GGML_QUANT_SIZES}
    ids = {t.name: int(t) for t in QT}
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"gguf_package": importlib.metadata.version("gguf"),
                   "files": described, "ggml_quant_sizes": sizes, "ggml_type_ids": ids},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    for name in files:
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
