#!/usr/bin/env python3
"""Markdown tables from scripts/paper_experiments.sh's JSON results (standard library only)."""
import json
import os
import sys


NETS = ("plain20", "plain32", "plain44", "plain56", "resnet8", "resnet20", "resnet32", "resnet44", "resnet56")


def load(directory, name):
    path = os.path.join(directory, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def network_error(doc):
    """Ē averaged over all spiking IF neurons of the network (the paper's Table 3 convention)."""
    total = neurons = 0.0
    for p in doc["snn"]["populations"]:
        if "accumulated_error" in p:
            total += p["accumulated_error"] * p["neurons"]
            neurons += p["neurons"]
    return total / neurons if neurons else float("nan")


def pct(x):
    return f"{100 * x:.2f}%"


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "out/exp"
    print("Table 2 analogue (error rates; T = 350)\n")
    print("| depth | ANN | without shortcut model | (loss) | with shortcut model | (loss) | images |")
    print("|---|---|---|---|---|---|---|")
    for depth in (8, 20, 32, 44, 56):
        a, b = load(d, f"resnet{depth}_noshortcut"), load(d, f"resnet{depth}_paper")
        if not (a and b):
            continue
        ann = 1 - b["snn"]["ann_top1"]
        ea, eb = 1 - a["snn"]["top1"], 1 - b["snn"]["top1"]
        print(f"| {depth} | {pct(ann)} | {pct(ea)} | {pct(ea - ann)} | {pct(eb)} | {pct(eb - ann)} | {b['snn']['images']} |")
    print("\nTable 3 analogue (error rates, T = 350; Ē = mean a/λ − r over all spiking neurons)\n")
    print("| net | ANN | S-net | Ē | S-net (comp.) | Ē (comp.) | ζ | images |")
    print("|---|---|---|---|---|---|---|---|")
    for net in NETS:
        a, b = load(d, f"{net}_paper"), load(d, f"{net}_comp")
        if not (a and b):
            continue
        zeta = b["snn_model"]["conversion"]["zeta"]
        print(f"| {net} | {pct(1 - a['snn']['ann_top1'])} | {pct(1 - a['snn']['top1'])} | {network_error(a):.6f} | "
              f"{pct(1 - b['snn']['top1'])} | {network_error(b):.6f} | {zeta:.3f} | {b['snn']['images']} |")
    print("\nTable 1 analogue (fit of Ē = p·q^l on the compensation subset)\n")
    print("| net | p | q | adj. R² | layers |")
    print("|---|---|---|---|---|")
    for net in NETS:
        b = load(d, f"{net}_comp")
        if not b or not b.get("compensation"):
            continue
        f = b["compensation"]["fit"]
        print(f"| {net} | {f['p']:.6f} | {f['q']:.4f} | {f['adj_r2']:.4f} | {len(f['depth'])} |")
    print("\nAccuracy vs time step (top-1)\n")
    print("| run | ANN | T=32 | T=64 | T=128 | T=256 | T=350 |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        doc = load(d, name[:-5])
        curve = doc["snn"]["accuracy_curve"]
        cells = [pct(curve[t - 1]) if t <= len(curve) else "" for t in (32, 64, 128, 256, 350)]
        print(f"| {name[:-5]} | {pct(doc['snn']['ann_top1'])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
