# The plain-MLP peer of the weather-parts example: /usr/bin/python3 bench/csv_peer.py [data/seattle-weather.csv]
# A plain PyTorch MLP on seattle-weather (the same features, standardised from the training part).
import csv, sys, torch
rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "data/seattle-weather.csv")))
feats = ["precipitation", "temp_max", "temp_min", "wind"]
classes = sorted({r["weather"] for r in rows})
X = torch.tensor([[float(r[f]) for f in feats] for r in rows])
y = torch.tensor([classes.index(r["weather"]) for r in rows])
accs = []
for seed in range(5):
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(rows), generator=g)
    nt = int(0.2 * len(rows)); te, tr = perm[:nt], perm[nt:]
    mu, sd = X[tr].mean(0), X[tr].std(0)
    Xs = (X - mu) / sd
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, len(classes)))
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    for epoch in range(60):
        p = tr[torch.randperm(len(tr), generator=g)]
        for i in range(0, len(p), 32):
            b = p[i:i + 32]
            opt.zero_grad(); torch.nn.functional.cross_entropy(m(Xs[b]), y[b]).backward(); opt.step()
    accs.append((m(Xs[te]).argmax(1) == y[te]).float().mean().item())
print("classes", classes, "test accuracy per seed", [round(a, 4) for a in accs], "mean", round(sum(accs) / 5, 4))
