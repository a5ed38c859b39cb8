"""PyTorch baseline for bench/kinship.ts: the N x N Pearson kinship matrix of fine-tunes against a base, done the
straightforward PyTorch way (kinship.md section 3): per tensor, deltas M_i - B in float32 from the mmapped
safetensors (merge_torch.py's reader, no safetensors package), then float64 sums of d_i, d_i^2 and d_i * d_j for
every pair, PCC from the raw sums at the end. Prints one JSON line:
{"seconds": wall seconds, "max_rss_bytes": peak RSS, "threads": torch threads, "pcc": upper-triangle values}.

Run with OPENBLAS_NUM_THREADS=1 and --threads 2 (docs/engines.md section 7).
"""
import argparse
import json
import math
import resource
import time

import torch

from merge_torch import Model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    base = Model(args.base)
    models = [Model(m) for m in args.models]
    n = len(models)
    count = 0
    sums = [0.0] * n
    squares = [0.0] * n
    cross = {(i, j): 0.0 for i in range(n) for j in range(i + 1, n)}
    for name in base.names():
        b = base.tensor(name).float()
        deltas = [m.tensor(name).float() - b for m in models]
        count += b.numel()
        for i, d in enumerate(deltas):
            sums[i] += torch.sum(d, dtype=torch.float64).item()
            squares[i] += torch.sum(d * d, dtype=torch.float64).item()
        for (i, j) in cross:
            cross[(i, j)] += torch.sum(deltas[i] * deltas[j], dtype=torch.float64).item()
    pcc = []
    for (i, j), sxy in cross.items():
        cov = sxy - sums[i] * sums[j] / count
        var_i = squares[i] - sums[i] ** 2 / count
        var_j = squares[j] - sums[j] ** 2 / count
        pcc.append(cov / math.sqrt(var_i * var_j))
    seconds = time.perf_counter() - started
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "max_rss_bytes": max_rss, "threads": torch.get_num_threads(), "pcc": pcc}))


if __name__ == "__main__":
    main()
