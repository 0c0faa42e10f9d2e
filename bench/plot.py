#!/usr/bin/env python3
"""Latency plots for a bench/run.sh result directory: one PNG per scenario and load, every target as a line
(latency by percentile, log-scaled like HdrHistogram's plotter), plus a summary bar chart of the added p99."""
import csv, glob, os, sys
from collections import defaultdict
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]

soak = os.path.join(out, "soak.csv")
if os.path.exists(soak):  # a --soak run: memory, descriptors and traffic over time, upgrades marked
    rows = list(csv.DictReader(open(soak)))
    t = [float(r["seconds"]) / 60 for r in rows]
    mb = lambda k, div: [max(0, float(r[k])) / div for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    axes[0].plot(t, mb("rss_kb", 1024), label="RSS")
    axes[0].plot(t, mb("heap_after_gc_bytes", 1048576), label="heap after GC")
    axes[0].plot(t, mb("heap_used_bytes", 1048576), label="heap used", alpha=0.5)
    axes[0].plot(t, mb("direct_bytes", 1048576), label="Netty direct")
    axes[0].set_ylabel("MB"); axes[0].legend(loc="upper left")
    axes[1].plot(t, mb("fds", 1), label="file descriptors", color="tab:purple")
    axes[1].set_ylabel("descriptors"); axes[1].legend(loc="upper left")
    axes[2].plot(t, mb("rate_per_s", 1), label="requests/s")
    axes[2].plot(t, mb("failed", 1), label="failed (cumulative)", color="tab:red")
    axes[2].set_ylabel("requests"); axes[2].set_xlabel("minutes"); axes[2].legend(loc="upper left")
    prev = 0
    for x, r in zip(t, rows):
        if int(r["upgrades"]) > prev:
            prev = int(r["upgrades"])
            for ax in axes:
                ax.axvline(x, color="grey", linestyle=":", alpha=0.7)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[0].set_title("soak: dotted lines are upgrades")
    fig.tight_layout(); fig.savefig(os.path.join(out, "soak.png"), dpi=90); plt.close(fig)
    sys.exit(0)

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
