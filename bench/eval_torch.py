"""PyTorch baseline for bench/eval.ts: a LlamaForCausalLM forward pass written with plain torch modules.

Same math as src/eval/llama-reference.ts (RMSNorm, rotate-half RoPE, causal grouped-query attention, SwiGLU MLP),
float32, no transformers. Weights come from model.safetensors through a small header parser and torch.frombuffer.
Scores `--batch` windows of `--window` tokens of the validation text tokenized by bench/eval.ts (ids passed in a
JSON file), `--repeats` times, and prints one JSON line:
{"tokens_per_second": best, "median_tokens_per_second": ..., "loss": mean next-token loss, "threads": ...}.

Run with OPENBLAS_NUM_THREADS=1 and --threads 2 (docs/engines.md section 7).
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    dtypes = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = bytearray(data[8 + length + start : 8 + length + end])
        tensors[name] = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"]).float()
    return tensors


class RMSNorm(torch.nn.Module):
    def __init__(self, weight, eps):
        super().__init__()
        self.weight = weight
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Layer(torch.nn.Module):
    def __init__(self, w, prefix, cfg):
        super().__init__()
        self.cfg = cfg
        self.input_norm = RMSNorm(w[f"{prefix}.input_layernorm.weight"], cfg["eps"])
        self.post_norm = RMSNorm(w[f"{prefix}.post_attention_layernorm.weight"], cfg["eps"])
        self.q = w[f"{prefix}.self_attn.q_proj.weight"]
        self.k = w[f"{prefix}.self_attn.k_proj.weight"]
        self.v = w[f"{prefix}.self_attn.v_proj.weight"]
        self.o = w[f"{prefix}.self_attn.o_proj.weight"]
        self.gate = w[f"{prefix}.mlp.gate_proj.weight"]
        self.up = w[f"{prefix}.mlp.up_proj.weight"]
        self.down = w[f"{prefix}.mlp.down_proj.weight"]

    def forward(self, x, cos, sin, mask):
        batch, length, _ = x.shape
        heads, kv_heads, head_dim = self.cfg["heads"], self.cfg["kv_heads"], self.cfg["head_dim"]
        h = self.input_norm(x)
        q = F.linear(h, self.q).view(batch, length, heads, head_dim).transpose(1, 2)
        k = F.linear(h, self.k).view(batch, length, kv_heads, head_dim).transpose(1, 2)
        v = F.linear(h, self.v).view(batch, length, kv_heads, head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = heads // kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(head_dim) + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        x = x + F.linear(context.transpose(1, 2).reshape(batch, length, heads * head_dim), self.o)
        h = self.post_norm(x)
        return x + F.linear(F.silu(F.linear(h, self.gate)) * F.linear(h, self.up), self.down)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Llama(torch.nn.Module):
    def __init__(self, folder):
        super().__init__()
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        w = read_safetensors(os.path.join(folder, "model.safetensors"))
        heads = config["num_attention_heads"]
        self.cfg = {
            "heads": heads,
            "kv_heads": config.get("num_key_value_heads", heads),
            "head_dim": config.get("head_dim") or config["hidden_size"] // heads,
            "eps": config["rms_norm_eps"],
            "theta": (config.get("rope_parameters") or {}).get("rope_theta", config.get("rope_theta", 10000.0)),
        }
        self.embed = w["model.embed_tokens.weight"]
        self.layers = [Layer(w, f"model.layers.{i}", self.cfg) for i in range(config["num_hidden_layers"])]
        self.norm = RMSNorm(w["model.norm.weight"], self.cfg["eps"])
        self.lm_head = w.get("lm_head.weight", self.embed)

    def forward(self, ids):
        length = ids.shape[1]
        head_dim = self.cfg["head_dim"]
        inv_freq = 1.0 / (self.cfg["theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        cos, sin = angles.cos(), angles.sin()
        mask = torch.full((length, length), float("-inf")).triu(1)
        x = self.embed[ids]
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return F.linear(self.norm(x), self.lm_head)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--ids", required=True, help="JSON file: list of windows (lists of token ids)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = Llama(args.model)
    with open(args.ids) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    rates = []
    loss = None
    with torch.inference_mode():
        model(ids)  # warm-up
        for _ in range(args.repeats):
            start = time.perf_counter()
            logits = model(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).item()
            rates.append(ids.numel() / (time.perf_counter() - start))
    rates.sort()
    print(json.dumps({
        "tokens_per_second": rates[-1],
        "median_tokens_per_second": rates[len(rates) // 2],
        "loss": loss,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
