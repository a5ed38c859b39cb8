"""bench:train PyTorch side: the same 1-D conv autoencoder as bench/train.ts (layer plan passed as JSON on
argv[1]), forward + backward + Adam steps per second on random batches. Run by bench/train.ts with
OPENBLAS_NUM_THREADS=1 and 2 torch threads (engines.md §7)."""
import json, sys, time
import torch
from torch import nn

plan = json.loads(sys.argv[1])
torch.set_num_threads(plan["threads"])
torch.manual_seed(0)
layers = []
for e in plan["encoder"]:
    layers += [nn.Conv1d(e["inChannels"], e["channels"], e["kernel"], e["stride"], e["padding"]), nn.BatchNorm1d(e["channels"]), nn.ReLU()]
for d in plan["decoder"]:
    layers.append(nn.ConvTranspose1d(d["inChannels"], d["outChannels"], d["kernel"], d["stride"], d["padding"], d["outputPadding"]))
    if not d["last"]:
        layers += [nn.BatchNorm1d(d["outChannels"]), nn.ReLU()]
model = nn.Sequential(*layers)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(plan["batch"], plan["window"], plan["features"]) * 2 - 1
assert model(x).shape == x.shape

def step():
    opt.zero_grad()
    loss = ((model(x) - x) ** 2).mean()
    loss.backward()
    opt.step()

for _ in range(20):
    step()
best = 0.0
for _ in range(plan["repeats"]):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < plan["seconds"]:
        step()
        n += 1
    best = max(best, n / (time.perf_counter() - start))
print(json.dumps({"steps_per_second": best, "torch": torch.__version__, "threads": torch.get_num_threads()}))
