"""bench:nn-train PyTorch side for Graph WaveNet (Wu et al., IJCAI 2019, arXiv 1906.00121): milliseconds per
training step (forward, masked MAE on inverse-scaled forecasts, backward, clip to global norm 5, Adam with L2
weight decay) on a fixed random batch, the same network as src/nn/layers/graph-wavenet.ts and
src/spatiotemporal/graph-wavenet.ts: 1x1 start conv, kernel-2 dilated gated TCN blocks, skip convs on the last
step summed over blocks, diffusion graph convolution of order K over the given supports and the adaptive
adjacency softmax(ReLU(E1 E2)), residual + BatchNorm, ReLU, two 1x1 end convs. Written from the paper's
equations for this bench.

The plan comes as JSON on argv[1]: {"nodes": 207, "in_channels": 2, "residual": 8, "dilation": 8, "skip": 32,
"end": 64, "horizons": 12, "steps_in": 12, "dilations": [1, 2, ...], "order": 2, "rank": 10, "dropout": 0.3,
"batch": 16, "threads": 2, "warmup": 3, "steps": 10}. Prints one JSON line: ms_per_step (median), torch,
max_rss_bytes. Run with OPENBLAS_NUM_THREADS=1 as bench/nn-train.ts does."""
import json, resource, sys, time
import torch
from torch import nn
import torch.nn.functional as F

plan = json.loads(sys.argv[1])
torch.set_num_threads(plan["threads"])
torch.manual_seed(0)


class GraphWaveNet(nn.Module):
    def __init__(self, p, supports):
        super().__init__()
        r, d, s, e = p["residual"], p["dilation"], p["skip"], p["end"]
        self.dilations = p["dilations"]
        self.order = p["order"]
        self.supports = supports
        self.field = 1 + sum(self.dilations)
        self.start = nn.Conv2d(p["in_channels"], r, 1)
        self.emb1 = nn.Parameter(torch.randn(p["nodes"], p["rank"]))
        self.emb2 = nn.Parameter(torch.randn(p["rank"], p["nodes"]))
        terms = 1 + self.order * (len(supports) + 1)
        self.filters = nn.ModuleList([nn.Conv2d(r, d, (1, 2), dilation=(1, k)) for k in self.dilations])
        self.gates = nn.ModuleList([nn.Conv2d(r, d, (1, 2), dilation=(1, k)) for k in self.dilations])
        self.skips = nn.ModuleList([nn.Conv2d(d, s, 1) for _ in self.dilations])
        # the last block's graph convolution and BN feed nothing (the output is built from the skips)
        self.gconvs = nn.ModuleList([nn.Conv2d(terms * d, r, 1) for _ in self.dilations[:-1]])
        self.norms = nn.ModuleList([nn.BatchNorm2d(r) for _ in self.dilations[:-1]])
        self.dropout = nn.Dropout(p["dropout"])
        self.end1 = nn.Conv2d(s, e, 1)
        self.end2 = nn.Conv2d(e, p["horizons"], 1)

    def diffuse(self, h, adjacency):
        # y[b, c, w, t] = sum_v h[b, c, v, t] A[v, w]
        return torch.einsum("bcvt,vw->bcwt", h, adjacency).contiguous()

    def forward(self, x):  # x [B, C, N, T] -> [B, horizons, N]
        if x.size(3) < self.field:
            x = F.pad(x, (self.field - x.size(3), 0))
        x = self.start(x)
        adaptive = F.softmax(F.relu(self.emb1 @ self.emb2), dim=1)
        supports = self.supports + [adaptive]
        skip = 0
        for i in range(len(self.dilations)):
            h = torch.tanh(self.filters[i](x)) * torch.sigmoid(self.gates[i](x))
            skip = skip + self.skips[i](h[..., -1:])
            if i == len(self.dilations) - 1:
                break
            parts = [h]
            for a in supports:
                current = h
                for _ in range(self.order):
                    current = self.diffuse(current, a)
                    parts.append(current)
            g = self.dropout(self.gconvs[i](torch.cat(parts, dim=1)))
            x = self.norms[i](g + x[..., -g.size(3):])
        out = self.end2(F.relu(self.end1(F.relu(skip))))
        return out.squeeze(3)


nodes = plan["nodes"]
adjacency = torch.rand(nodes, nodes) * (torch.rand(nodes, nodes) < 0.05)
adjacency.fill_diagonal_(1.0)
forward = adjacency / adjacency.sum(1, keepdim=True)
backward = adjacency.t() / adjacency.t().sum(1, keepdim=True)
model = GraphWaveNet(plan, [forward, backward])
opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
batch = plan["batch"]
x = torch.randn(batch, plan["in_channels"], nodes, plan["steps_in"])
mean, std = 55.0, 18.0
labels = mean + std * torch.randn(batch, plan["horizons"], nodes)
labels[torch.rand_like(labels) < 0.1] = 0.0


def step():
    opt.zero_grad()
    predicted = model(x) * std + mean
    mask = (labels != 0).float()
    loss = ((predicted - labels).abs() * mask).sum() / mask.sum().clamp(min=1)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return loss.item()


model.train()
for _ in range(plan["warmup"]):
    step()
times = []
for _ in range(plan["steps"]):
    started = time.perf_counter()
    step()
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(json.dumps({"ms_per_step": times[len(times) // 2], "torch": torch.__version__, "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
