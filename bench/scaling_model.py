#!/usr/bin/env python3
"""The scaling model of neuroemu under mpirun (docs/results.md, "MPI scale-out"), checked against measurements.

A run under `mpirun -np P` costs

    t(P) = t_launch(P) + t_serial + t_work * ceil(units / P) / units + t_merge(P)

t_serial is what every rank does whatever P is (load and convert the model, map it, elaborate the chip, run the
engine for the images a rank's ticks belong to); t_work is the divisible work (images of `evaluate`, ticks of
`simulate`, points of `explore`); t_merge is the collective that brings the results to rank 0 (a gather: P
messages into rank 0).

Part 1, "check": measures each workload at 1 rank, splits it into t_serial and t_work (from the command's own
JSON timing, or from two sizes), predicts t(2), runs it at 2 ranks and prints predicted against measured speed-up.
Part 2, "extrapolate": the same model with ResNet-50's measured per-rank speed predicts one inference at T = 350
on the chip (time-parallel over ticks, or space-parallel over chips with conservative synchronisation) and the
paper's Table 4 run (50,000 images x 350 steps) on 1, 16, 256 and 1,024 nodes of 16 cores, with the message volume
per synchronisation.

Usage: bench/scaling_model.py [--exe build/cli/neuroemu] [--skip-check] [--workloads evaluate,simulate,explore,resnet34]
                              [--r50-json FILE | --measure-r50 FILE]
  --workloads    which part-1 checks to run (default: all but resnet34, which takes ~10 minutes)
  --r50-json F   ResNet-50 measurements (`--measure-r50 F` writes them: ~8 minutes); default: docs/results.md's
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]

# Cluster assumptions of part 2 (stated, not measured here): a node has 16 cores; collectives between nodes cost
# ALPHA_S per message step and BETA_B_PER_S of bandwidth (an InfiniBand-class network); within a node, the
# shared-memory cost measured in part 1 is used instead.
CORES_PER_NODE = 16
ALPHA_S = 2e-6
BETA_B_PER_S = 10e9
PACKET_BYTES = 48          # one AER packet as exchanged between ranks (router/router.h Packet)
CALENDAR_S_PER_CYCLE = 1e-6  # a busy cycle of the shared calendar on one rank (bench/mpi_space.sh)


def timed(cmd, env=None):
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout.decode()[-3000:]}")
    return elapsed


def median_time(cmd, runs):
    return statistics.median(timed(cmd) for _ in range(runs))


def launch_overhead(exe, runs):
    """mpirun's own start-up at 2 ranks, against one process (a command that does nothing distributed)."""
    one = median_time([exe, "list"], runs)
    two = median_time(MPIRUN + ["-np", "2", exe, "list"], runs)
    return max(0.0, two - one)


def report(name, units, t1, serial, work, t2_measured, launch):
    per_rank = math.ceil(units / 2)
    predicted = launch + serial + work * per_rank / units
    s_meas, s_pred = t1 / t2_measured, t1 / predicted
    err = (predicted - t2_measured) / t2_measured
    print(f"{name:34s} 1 rank {t1:7.1f} s (serial {serial:6.1f} s, divisible {work:6.1f} s over {units} units) | "
          f"2 ranks: measured {t2_measured:7.1f} s = {s_meas:.2f}x (efficiency {s_meas / 2:.2f}), "
          f"model {predicted:7.1f} s = {s_pred:.2f}x | model error {100 * err:+.1f} %")
    return {"workload": name, "t1_s": t1, "serial_s": serial, "work_s": work, "units": units,
            "t2_measured_s": t2_measured, "t2_model_s": predicted, "speedup": s_meas, "model_error": err}


def check_evaluate(exe, runs, launch):
    base = ["evaluate", "--set", "simulation.threads=1", "-q"]
    small, n = 200, 2000
    t_small = median_time([exe] + base + ["--images", str(small)], runs)
    t1 = median_time([exe] + base + ["--images", str(n)], runs)
    per_image = (t1 - t_small) / (n - small)
    serial = t1 - per_image * n
    t2 = median_time(MPIRUN + ["-np", "2", exe] + base + ["--images", str(n)], runs)
    return report(f"evaluate ResNet-20, {n} images", n, t1, serial, per_image * n, t2, launch)


def chip_seconds(exe, args, mpi=False):
    """Wall time of `simulate ... --json` and the chip model's own seconds from its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.json")
        cmd = (MPIRUN + ["-np", "2"] if mpi else []) + [exe, "simulate", "-q", "--json", out] + args
        t = timed(cmd)
        return t, json.load(open(out))


def check_simulate(exe, runs, launch, name, args, images):
    """t_serial = setup + the engine for the images a rank touches; the chip's ticks divide."""
    samples = [chip_seconds(exe, args) for _ in range(runs)]
    t1 = statistics.median(s[0] for s in samples)
    chip = statistics.median(s[1]["seconds"] for s in samples)
    ticks = len(samples[0][1]["cycles"]["per_tick"])
    engine_and_setup = t1 - chip
    # With one image every rank runs the engine on it; with several, a rank runs only the images of its ticks.
    if images > 1:
        one = [a if a != f"dataset.images={images}" else "dataset.images=1" for a in args]
        t_one, j_one = chip_seconds(exe, one)
        engine_per_image = max(0.0, (engine_and_setup - (t_one - j_one["seconds"])) / (images - 1))
        serial = engine_and_setup - engine_per_image * (images - math.ceil(images / 2))
    else:
        serial = engine_and_setup
    t2 = statistics.median(chip_seconds(exe, args, mpi=True)[0] for _ in range(runs))
    return report(name, ticks, t1, serial, chip, t2, launch)


def check_explore(exe, runs, launch):
    """t_serial = planning and writing (a rerun with every point cached) + the conversion, which one rank makes
    while the others wait (all points of this sweep share one converted model); the points divide."""
    sweep = os.path.join(ROOT, "bench/sweeps/mpi_scaling.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        def run(ranks, out):
            mpi = MPIRUN + ["-np", str(ranks)] if ranks > 1 else []
            return timed(mpi + [exe, "explore", sweep, "-o", os.path.join(tmp, out), "--jobs", "1", "-q"])

        def drop_points(out):  # keep the converted model (cache/snn), drop the points' results
            cache = os.path.join(tmp, out, "cache")
            for f in os.listdir(cache):
                if f.endswith(".json"):
                    os.remove(os.path.join(cache, f))
        t1 = statistics.median(run(1, f"a{i}") for i in range(runs))
        fixed = statistics.median(run(1, "a0") for _ in range(runs))  # every point cached
        points_only = []
        for _ in range(runs):
            drop_points("a0")
            points_only.append(run(1, "a0"))
        conversion = max(0.0, t1 - statistics.median(points_only))
        t2 = statistics.median(run(2, f"b{i}") for i in range(runs))
    return report("explore, 8-point sweep (--jobs 1)", 8, t1, fixed + conversion, t1 - fixed - conversion, t2, launch)


# Part 2 ------------------------------------------------------------------------------------------------------------

# ResNet-50 at 224 x 224 on this machine (docs/results.md, "ImageNet scale (issue 16)"; `--measure-r50` re-measures):
R50_DEFAULT = {
    "source": "docs/results.md (issue 16): simulate configs/resnet50.yaml --images 1 --sample-ticks 3",
    "setup_and_engine_s": 48.0,     # 280 s total - 232 s chip model: load, BN statistics, convert, map, elaborate,
                                    # and the engine's 350 steps of the image
    "chip_s_per_tick": 232.0 / 3,   # wall time of one sampled tick on the chip model (64,806 cores)
    "cycles_per_tick": 74.1e6 / 350,  # latency 0.741 s at 100 MHz over 350 ticks
    "hops_per_tick": 611e6 / 2,     # packet-hops per tick (bench/chip_scale.sh)
    "mesh_width": 255,
    "engine_s_per_image_core": 2 * 17.2 * 4.09 / 3.67,  # ResNet-34's 17.2 s per image on 2 cores, scaled by MACs
    "routers": 255 * 255,
}


def hw_merge_bytes(r50):
    # What a rank sends rank 0 after a time-parallel run: per-router flits and occupancy, 4 links per router,
    # per-core SOPs and packet counts, and 14 counters per tick it ran.
    return r50["routers"] * (8 + 4 + 4 * 8) + r50["routers"] * 3 * 8


def gather_s(ranks, bytes_per_rank):
    return ALPHA_S * ranks + ranks * bytes_per_rank / BETA_B_PER_S


def collective_s(ranks, bytes_total):
    return ALPHA_S * max(1, math.ceil(math.log2(max(2, ranks)))) + bytes_total / BETA_B_PER_S


def extrapolate(r50, sync_s_local):
    T, images = 350, 50_000
    print(f"\nPart 2: ResNet-50, T = {T}, on nodes of {CORES_PER_NODE} cores (one rank per core); per-rank speed: "
          f"{r50['source']}\n  network: {ALPHA_S * 1e6:.0f} µs per message step, {BETA_B_PER_S / 1e9:.0f} GB/s; "
          f"within one node: {sync_s_local * 1e6:.1f} µs per synchronisation (bench/mpi_space.sh, 2 ranks)")
    lookahead = 20  # chip.noc.inter_chip_link_cycles of configs/chips/rolls.yaml
    windows = r50["cycles_per_tick"] / lookahead
    rows = []
    for nodes in (1, 16, 256, 1024):
        p = nodes * CORES_PER_NODE
        # Table 4 (functional engine): images divide; rank 0 gathers one small result per rank.
        table4 = r50["setup_and_engine_s"] + math.ceil(images / p) * r50["engine_s_per_image_core"] + gather_s(p, 64e3)
        # One inference on the chip, time-parallel: at most T ranks have a tick; every rank runs the engine.
        busy = min(p, T)
        time_par = r50["setup_and_engine_s"] + math.ceil(T / busy) * r50["chip_s_per_tick"] + gather_s(
            busy, hw_merge_bytes(r50))
        # Space-parallel: each of p regions (near-square blocks of the mesh) runs 1/p of every tick; one window of
        # `lookahead` cycles per synchronisation; the packets crossing region boundaries travel at each.
        side = math.sqrt(p)
        cut_fraction = min(1.0, (side - 1) / r50["mesh_width"])
        cut_per_tick = r50["hops_per_tick"] * cut_fraction
        bytes_per_sync = cut_per_tick / windows * PACKET_BYTES
        sync = sync_s_local if nodes == 1 else collective_s(p, bytes_per_sync / max(1, p) * 2)
        # A rank pays the shared calendar's cost for every cycle its chips are busy, however little they do then
        # (CALENDAR_S_PER_CYCLE, docs/hardware-model.md "What the lookahead costs"): the floor of its share.
        per_rank = max(r50["chip_s_per_tick"] / p, r50["cycles_per_tick"] * CALENDAR_S_PER_CYCLE)
        space = r50["setup_and_engine_s"] + T * (per_rank + windows * sync)
        rows.append((nodes, p, table4, time_par, space, bytes_per_sync, windows))
    print(f"  {'nodes':>5} {'ranks':>6} | {'Table 4 (50,000 images)':>24} | {'1 inference, time-par.':>22} | "
          f"{'1 inference, space-par.':>23} | {'bytes per sync (all ranks)':>26}")
    for nodes, p, table4, time_par, space, bps, windows in rows:
        print(f"  {nodes:5d} {p:6d} | {fmt_s(table4):>24} | {fmt_s(time_par):>22} | {fmt_s(space):>23} | "
              f"{bps / 1e3:20.1f} kB")
    print(f"  space-parallel: {windows:,.0f} synchronisation windows per tick (lookahead {lookahead} cycles, "
          f"{r50['cycles_per_tick']:,.0f} cycles per tick)")
    return rows


def fmt_s(s):
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def measure_r50(exe, path):
    t, j = chip_seconds(exe, [os.path.join(ROOT, "configs/resnet50.yaml"), "--images", "1", "--sample-ticks", "3"])
    ticks = 3
    with tempfile.TemporaryDirectory() as tmp:
        e20 = timed([exe, "evaluate", os.path.join(ROOT, "configs/resnet50.yaml"), "--images", "1", "--steps", "10",
                     "--set", "simulation.threads=1", "-q", "--json", os.path.join(tmp, "e.json")])
        e40 = timed([exe, "evaluate", os.path.join(ROOT, "configs/resnet50.yaml"), "--images", "1", "--steps", "30",
                     "--set", "simulation.threads=1", "-q"])
    per_step = (e40 - e20) / 20
    r50 = {"source": "measured by bench/scaling_model.py --measure-r50", "setup_and_engine_s": t - j["seconds"],
           "chip_s_per_tick": j["seconds"] / ticks, "cycles_per_tick": j["cycles"]["per_tick_mean"],
           "hops_per_tick": j["counters"]["hops"] / ticks, "mesh_width": j["chip"]["mesh"][0],
           "engine_s_per_image_core": per_step * 350, "routers": j["chip"]["mesh"][0] * j["chip"]["mesh"][1]}
    json.dump(r50, open(path, "w"), indent=1)
    return r50


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=os.environ.get("NEUROEMU", os.path.join(ROOT, "build/cli/neuroemu")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--workloads", default="evaluate,simulate,explore",
                    help="comma-separated: evaluate, simulate, explore, resnet34 (ResNet-34 sampled: ~10 minutes)")
    ap.add_argument("--r50-json")
    ap.add_argument("--measure-r50")
    ap.add_argument("--sync-us", type=float, default=0.3,
                    help="one space-parallel synchronisation within a node, µs (bench/mpi_space.sh measures it)")
    a = ap.parse_args()
    os.environ.setdefault("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}; {os.cpu_count()} cores")
    results = []
    launch = launch_overhead(a.exe, a.runs)
    print(f"mpirun start-up at 2 ranks: {launch:.2f} s more than one process")
    todo = set(a.workloads.split(",")) if not a.skip_check else set()
    if todo:
        print("Part 1: the model against 2-rank runs measured now (speed-up = t(1) / t(2))")
    if "evaluate" in todo:
        results.append(check_evaluate(a.exe, a.runs, launch))
    if "simulate" in todo:
        results.append(check_simulate(a.exe, a.runs, launch, "simulate ResNet-20, 8 images x 100", [
            "--set", "dataset.images=8", "--set", "simulation.steps=100"], 8))
    if "explore" in todo:
        results.append(check_explore(a.exe, a.runs, launch))
    if "resnet34" in todo:
        results.append(check_simulate(a.exe, 1, launch, "simulate ResNet-34, 9 sampled ticks",
                                      [os.path.join(ROOT, "configs/resnet34.yaml"), "--images", "1"], 1))
    if results:
        worst = max(abs(r["model_error"]) for r in results)
        print(f"largest model error: {100 * worst:.1f} % (goal: within 20 %)")
    r50 = R50_DEFAULT
    if a.measure_r50:
        r50 = measure_r50(a.exe, a.measure_r50)
    elif a.r50_json:
        r50 = json.load(open(a.r50_json))
    extrapolate(r50, a.sync_us * 1e-6)
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
