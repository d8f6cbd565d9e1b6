"""GPT-2 backbone for ExitLens training: a nanoGPT-style module whose parameter names,
shapes (Conv1D [in, out]) and semantics are exactly Hugging Face GPT-2's, so its
state_dict exports as-is to a `GPT2LMHeadModel` checkpoint (tied head, no lm_head)."""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

EOT = "<|endoftext|>"


def gpt2_config_dict(n_layer, n_embd, n_head, n_positions, vocab_size, eot_id, eps=1e-5):
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "n_layer": n_layer, "n_head": n_head, "n_embd": n_embd,
        "n_positions": n_positions, "n_ctx": n_positions, "n_inner": None,
        "vocab_size": vocab_size, "layer_norm_epsilon": eps,
        "activation_function": "gelu_new",
        "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "initializer_range": 0.02, "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "bos_token_id": eot_id, "eos_token_id": eot_id,
        "tie_word_embeddings": True, "use_cache": True,
    }


class Conv1D(nn.Module):
    """HF Conv1D: weight [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class Attn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.h, D // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = Conv1D(d, 4 * d)
        self.c_proj = Conv1D(4 * d, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # gelu_new


class Block(nn.Module):
    def __init__(self, d, h, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attn(d, h)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        self.wte = nn.Embedding(cfg["vocab_size"], d)
        self.wpe = nn.Embedding(cfg["n_positions"], d)
        self.h = nn.ModuleList(Block(d, cfg["n_head"], eps) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(d, eps=eps)


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = Transformer(cfg)
        self.reset_parameters()

    def reset_parameters(self):
        L = self.cfg["n_layer"]
        for name, p in self.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif ".ln_" in name or name.startswith("transformer.ln_f"):
                nn.init.ones_(p)
            elif name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * L))
            elif "wpe" in name:
                nn.init.normal_(p, std=0.01)
            else:
                nn.init.normal_(p, std=0.02)

    def head(self, x):
        """Shared exit path: ln_f + tied head."""
        return F.linear(self.transformer.ln_f(x), self.transformer.wte.weight)

    def residuals(self, idx):
        """Raw residual stream after every block: list of L tensors [B, T, d]."""
        t = self.transformer
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = t.wte(idx) + t.wpe(pos)
        out = []
        for blk in t.h:
            x = blk(x)
            out.append(x)
        return out


def save_hf(model, out_dir, tokenizer_path=None, dtype=torch.float16):
    """Write config.json + model.safetensors (HF GPT-2 names, no lm_head, no attn.bias)."""
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    sd = {k: v.detach().to(dtype).contiguous().clone() for k, v in model.state_dict().items()}
    save_file(sd, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as fh:
        json.dump(model.cfg, fh, indent=2)
    if tokenizer_path:
        import shutil
        shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
