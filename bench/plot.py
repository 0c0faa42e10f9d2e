#!/usr/bin/env python3
"""Latency plots for a bench/run.sh result directory: one PNG per scenario and load, every target as a line
(latency by percentile, log-scaled like HdrHistogram's plotter), plus a summary bar chart of the added p99."""
import csv, glob, os, sys
from collections import defaultdict
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]
groups = defaultdict(dict)
for path in sorted(glob.glob(os.path.join(out, "hist", "*.hgrm"))):
    scenario, target = os.path.basename(path)[:-5].split("__")
    xs, ys = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and not line.lstrip().startswith("#") and p[0][0].isdigit():
                pct = float(p[1])
                if pct < 1.0:
                    xs.append(1.0 / (1.0 - pct)); ys.append(float(p[0]) / 1000.0)
    groups[scenario][target] = (xs, ys)
os.makedirs(os.path.join(out, "plots"), exist_ok=True)
ticks = [1, 2, 10, 100, 1000, 10000]
labels = ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]
for scenario, targets in groups.items():
    fig, ax = plt.subplots(figsize=(7, 4))
    for target, (xs, ys) in sorted(targets.items()):
        ax.plot(xs, ys, label=target)
    ax.set_xscale("log"); ax.set_xticks(ticks); ax.set_xticklabels(labels)
    ax.set_xlabel("percentile"); ax.set_ylabel("latency (ms)"); ax.set_title(scenario.replace("_", " "))
    ax.grid(True, which="both", alpha=0.3); ax.legend()
    fig.tight_layout(); fig.savefig(os.path.join(out, "plots", scenario + ".png"), dpi=90); plt.close(fig)

rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
rows = [r for r in rows if r["target"] != "direct" and r["added_p99_us"] and r["load"].startswith("open 50")]
if rows:
    fig, ax = plt.subplots(figsize=(8, 4))
    names = [f'{r["protocol"]} {r["payload_bytes"]}B c{r["connections"]} {r["target"]}' for r in rows]
    ax.barh(names, [float(r["added_p99_us"]) / 1000.0 for r in rows])
    ax.set_xlabel("added p99 at 50% load (ms)"); fig.tight_layout()
    fig.savefig(os.path.join(out, "plots", "added_p99_at_50pct.png"), dpi=90); plt.close(fig)
print("plots:", os.path.join(out, "plots"))
