"""PyTorch eager peer of bench/seed.particle.json: the same model, data size, batch and optimiser,
with the usual TensorDataset + DataLoader. Prints one line: samples/s."""
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

threads, epochs, samples = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)


class Seed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(512, 128)
        self.b = nn.Linear(512, 128)
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        return self.head(torch.cat([self.a(x), self.b(x)], 1))


x = torch.randn(samples, 512)
y = torch.randint(0, 10, (samples,))
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
model = Seed()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
seen = 0
start = time.perf_counter()
for _ in range(epochs):
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        seen += xb.shape[0]
elapsed = time.perf_counter() - start
print(f"{seen / elapsed:.1f}")
