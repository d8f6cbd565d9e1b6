"""Writes Tests/ModelTests/Resources/tiny-f32.gguf: the tiny GPT-2 of training/fixtures.py in
llama.cpp's `gpt2` GGUF layout (names and metadata as convert_hf_to_gguf.py writes them: Conv1D
weights transposed to [out, in], F32), so the engine's GGUF GPT-2 path is checked against the same
transformers reference as the safetensors one (expected-tiny-f32.*).

Run: python training/gpt2_gguf_fixture.py   (needs numpy, safetensors, gguf)
"""
import json
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

RES = Path(__file__).resolve().parent.parent / "Tests" / "ModelTests" / "Resources"


def main() -> None:
    src = RES / "tiny-f32"
    config = json.loads((src / "config.json").read_text())
    tensors = load_file(str(src / "model.safetensors"))
    get = lambda n: tensors.get("transformer." + n, tensors.get(n))
    tok = json.loads((src / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    for added in tok.get("added_tokens", []):
        if added["id"] >= len(tokens):
            tokens += [""] * (added["id"] + 1 - len(tokens))
        tokens[added["id"]] = added["content"]
    types = [3 if any(a["id"] == i for a in tok.get("added_tokens", [])) else 1 for i in range(len(tokens))]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]

    w = gguf.GGUFWriter(str(RES / "tiny-f32.gguf"), "gpt2")
    w.add_context_length(config["n_positions"])
    w.add_embedding_length(config["n_embd"])
    w.add_feed_forward_length(config.get("n_inner") or 4 * config["n_embd"])
    w.add_block_count(config["n_layer"])
    w.add_head_count(config["n_head"])
    w.add_layer_norm_eps(config.get("layer_norm_epsilon", 1e-5))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    w.add_tensor("token_embd.weight", f32(get("wte.weight")))
    w.add_tensor("position_embd.weight", f32(get("wpe.weight")))
    for i in range(config["n_layer"]):
        p, q = f"h.{i}.", f"blk.{i}."
        w.add_tensor(q + "attn_norm.weight", f32(get(p + "ln_1.weight")))
        w.add_tensor(q + "attn_norm.bias", f32(get(p + "ln_1.bias")))
        w.add_tensor(q + "attn_qkv.weight", f32(get(p + "attn.c_attn.weight").T))
        w.add_tensor(q + "attn_qkv.bias", f32(get(p + "attn.c_attn.bias")))
        w.add_tensor(q + "attn_output.weight", f32(get(p + "attn.c_proj.weight").T))
        w.add_tensor(q + "attn_output.bias", f32(get(p + "attn.c_proj.bias")))
        w.add_tensor(q + "ffn_norm.weight", f32(get(p + "ln_2.weight")))
        w.add_tensor(q + "ffn_norm.bias", f32(get(p + "ln_2.bias")))
        w.add_tensor(q + "ffn_up.weight", f32(get(p + "mlp.c_fc.weight").T))
        w.add_tensor(q + "ffn_up.bias", f32(get(p + "mlp.c_fc.bias")))
        w.add_tensor(q + "ffn_down.weight", f32(get(p + "mlp.c_proj.weight").T))
        w.add_tensor(q + "ffn_down.bias", f32(get(p + "mlp.c_proj.bias")))
    w.add_tensor("output_norm.weight", f32(get("ln_f.weight")))
    w.add_tensor("output_norm.bias", f32(get("ln_f.bias")))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", RES / "tiny-f32.gguf")


if __name__ == "__main__":
    main()
