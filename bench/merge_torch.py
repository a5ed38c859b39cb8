"""PyTorch baseline for bench/merge.ts: the same linear, TIES, DARE-TIES, DELLA and Breadcrumbs-TIES merges as modelevo, done the PyTorch way.

Reads safetensors with a small header parser and torch.frombuffer over an mmap (no safetensors package), computes
in bfloat16 like mergekit (linear: sum of w_i * X_i / sum w_i; TIES: per-tensor top-k trim of |delta| by topk,
sign election by the weighted sum, disjoint mean), writes one safetensors file. Prints one JSON line:
{"seconds": wall seconds of the merge, "max_rss_bytes": peak RSS, "threads": torch threads}.

Run with OPENBLAS_NUM_THREADS=1 and --threads 2 (docs/engines.md section 7).
"""
import argparse
import json
import mmap
import os
import struct
import time

import torch

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
NAMES = {v: k for k, v in DTYPES.items()}


class SafetensorsFile:
    def __init__(self, path):
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        (length,) = struct.unpack("<Q", self.map[:8])
        self.header = json.loads(self.map[8 : 8 + length])
        self.header.pop("__metadata__", None)
        self.data_start = 8 + length

    def tensor(self, name):
        entry = self.header[name]
        dtype = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
        flat = torch.frombuffer(self.map, dtype=dtype, count=count, offset=self.data_start + begin)
        return flat.view(entry["shape"])


class Model:
    """A model folder: model.safetensors or shards listed in model.safetensors.index.json."""

    def __init__(self, folder):
        index = os.path.join(folder, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                weight_map = json.load(f)["weight_map"]
        else:
            weight_map = None
        files = {}
        self.where = {}
        if weight_map is None:
            files["model.safetensors"] = SafetensorsFile(os.path.join(folder, "model.safetensors"))
            for name in files["model.safetensors"].header:
                self.where[name] = files["model.safetensors"]
        else:
            for name, shard in weight_map.items():
                if shard not in files:
                    files[shard] = SafetensorsFile(os.path.join(folder, shard))
                self.where[name] = files[shard]

    def names(self):
        return list(self.where)

    def tensor(self, name):
        return self.where[name].tensor(name)


def linear(tensors, weights):
    stacked = torch.stack(tensors)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, *([1] * (stacked.dim() - 1)))
    return (stacked * w).sum(dim=0) / w.sum()


def magnitude(delta, density):
    """TIES trim: keep the top density fraction of |delta| in the tensor."""
    k = int(density * delta.numel())
    if k < delta.numel():
        mag = delta.abs().view(-1).float()
        keep = torch.zeros_like(mag, dtype=torch.bool)
        if k > 0:
            keep[torch.topk(mag, k, sorted=False).indices] = True
        delta = delta * keep.view(delta.shape)
    return delta


def random_drop(delta, density):
    """DARE: keep each entry with probability density, rescale the kept ones by 1/density."""
    keep = torch.bernoulli(torch.full(delta.shape, density))
    return (delta.float() * keep / density).to(delta.dtype)


def magnitude_outliers(delta, density, gamma=0.01):
    """Model Breadcrumbs: drop the top gamma fraction of |delta|, keep the next density fraction."""
    n = delta.numel()
    top = int(gamma * n)
    keep_count = int(density * n)
    order = torch.argsort(delta.abs().view(-1).float(), descending=True)
    keep = torch.zeros(n, dtype=torch.bool)
    keep[order[top : top + keep_count]] = True
    return delta * keep.view(delta.shape)


def della_magprune(delta, density, epsilon=0.15):
    """DELLA MagPrune: keep probability linear in the magnitude rank along the last dimension, rescaled by 1/p."""
    flat = delta.float().view(-1, delta.shape[-1]) if delta.dim() > 1 else delta.float().view(1, -1)
    cols = flat.shape[-1]
    ranks = torch.argsort(torch.argsort(flat.abs(), dim=-1), dim=-1).float()
    step = 2 * epsilon / max(cols - 1, 1)
    probs = (density - epsilon + ranks * step).clamp(min=1e-6, max=1.0)
    keep = torch.bernoulli(probs)
    return (flat * keep / probs).view(delta.shape).to(delta.dtype)


SPARSIFIERS = {"ties": magnitude, "dare_ties": random_drop, "breadcrumbs_ties": magnitude_outliers, "della": della_magprune}


def ties(base, tensors, weights, density, lam=1.0, sparsify=magnitude):
    """Sparsify each task vector, elect signs by the weighted sum, disjoint mean (mergekit's ties family)."""
    deltas = [sparsify(x - base, density) for x in tensors]
    stacked = torch.stack(deltas)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, *([1] * (stacked.dim() - 1)))
    weighted = stacked * w
    sign = torch.where(weighted.sum(dim=0) >= 0, 1, -1).to(stacked.dtype)
    agree = (weighted.sign() == sign) & (weighted != 0)
    mixed = (weighted * agree).sum(dim=0)
    divisor = (w * agree).sum(dim=0)
    divisor[divisor.abs() < 1e-8] = 1
    return base + lam * (mixed / divisor)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", choices=["linear", *SPARSIFIERS], required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--density", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    started = time.perf_counter()
    base = Model(args.base)
    models = [Model(m) for m in args.models]
    out_file = os.path.join(args.out, "model.safetensors")
    os.makedirs(args.out, exist_ok=True)
    # one output tensor at a time, like the streaming writer: header first, then data in order
    names = base.names()
    shapes = [(name, base.tensor(name)) for name in names]
    header = {}
    offset = 0
    for name, t in shapes:
        size = t.numel() * t.element_size()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(out_file, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for name in names:
            if args.method == "linear":
                inputs = [base.tensor(name)] + [m.tensor(name) for m in models]
                merged = linear(inputs, [1.0] * len(inputs))
            else:
                sparsify = SPARSIFIERS[args.method]
                merged = ties(base.tensor(name), [m.tensor(name) for m in models], [1.0] * len(models), args.density, sparsify=sparsify)
            f.write(merged.to(torch.bfloat16).contiguous().view(torch.uint8).numpy().data)
    seconds = time.perf_counter() - started
    # VmHWM is this address space's peak; ru_maxrss keeps the parent's high-water mark across fork + exec
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "max_rss_bytes": rss, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
