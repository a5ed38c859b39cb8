"""bench:nn-train PyTorch side: steps/s of one model's training step (forward, loss, backward, optimiser) on a
fixed random batch, for the engine comparison in bench/nn-train.ts. The plan comes as JSON on argv[1]:
{"model": "mlp", "sizes": [784, 100, 100, 10], "bias": false, "batch": 10, "optimizer": "sgd", "lr": 0.01,
 "threads": 2, "seconds": 2, "repeats": 3}. Run with OPENBLAS_NUM_THREADS=1 as bench/train.ts does."""
import json, sys, time
import torch
from torch import nn

plan = json.loads(sys.argv[1])
torch.set_num_threads(plan["threads"])
torch.manual_seed(0)
if plan["model"] == "mlp":
    sizes = plan["sizes"]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=plan["bias"]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    x = torch.rand(plan["batch"], sizes[0])
    y = torch.randint(0, sizes[-1], (plan["batch"],))
    loss_fn = nn.CrossEntropyLoss()
    compute_loss = lambda: loss_fn(model(x), y)
else:
    raise SystemExit(f"unknown model {plan['model']}")
if plan["optimizer"] == "sgd":
    opt = torch.optim.SGD(model.parameters(), lr=plan["lr"])
else:
    opt = torch.optim.Adam(model.parameters(), lr=plan["lr"])

def step():
    opt.zero_grad()
    loss = compute_loss()
    loss.backward()
    opt.step()

for _ in range(50):
    step()
best = 0.0
for _ in range(plan["repeats"]):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < plan["seconds"]:
        step()
        n += 1
    best = max(best, n / (time.perf_counter() - start))
print(json.dumps({"steps_per_second": best, "torch": torch.__version__, "threads": torch.get_num_threads()}))
