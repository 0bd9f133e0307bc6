#!/usr/bin/env python3
"""Streams Fashion-MNIST test images to `neuroemu serve` as Poisson events and prints live classifications and
the running accuracy, then compares them with the batch `neuroemu evaluate` figures.

The events are the ones the engine's `poisson` encoding draws (sim/encoding/poisson.cpp): one SplitMix64 stream per
image seeded with seed ^ (0xD1B54A32D192ED03 * (dataset index + 1)) mod 2^64, one uniform draw per input neuron
per step in [H][W][C] order, the neuron firing when the draw is below its pixel / 255 (as float32). With the
server's seed the served decisions must equal evaluate's; the script says whether they do.

Modes: --mode lockstep (the server is paused; each image's T ticks of events are sent, then `run T`: exact) or
--mode realtime (the server runs paced, `neuroemu serve --tick-us`; images are scheduled --ahead-ticks ahead of
the server's tick; late and dropped events are counted). Standard library only.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neuroemu_client as nc  # noqa: E402

MASK64 = (1 << 64) - 1
IMAGE_SEED_MULTIPLIER = 0xD1B54A32D192ED03
DEFAULT_DATASET = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------------------------------------------------
# The engine's Poisson encoding, replicated

def splitmix64(state):
    """(output, next state) of SplitMix64 (common/random.h)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    x = state
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31), state


def image_seed(seed, dataset_index):
    """The seed of one image's spike stream (sim/snn_engine.cpp: by its index in the dataset)."""
    return (seed ^ (IMAGE_SEED_MULTIPLIER * (dataset_index + 1))) & MASK64


def _float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class PoissonImage:
    """One image's input spikes, step by step, as the engine's `poisson` encoding draws them. `pixels`: [C][H][W]
    bytes. step() returns the flat [C][H][W] indices that fire in the next step."""

    def __init__(self, pixels, shape, seed, dataset_index):
        c, h, w = shape
        if len(pixels) != c * h * w:
            raise ValueError("pixels: %d values for the input shape %s" % (len(pixels), list(shape)))
        plane = h * w
        # The engine lays the input out [H][W][C] and draws in that order; keep each draw's [C][H][W] address.
        order = [(p * c + ch, ch * plane + p) for p in range(plane) for ch in range(c)]
        order.sort()
        self.address = [chw for _, chw in order]
        self.probability = [_float32(pixels[chw] / 255.0) for chw in self.address]
        self.state = image_seed(seed, dataset_index)

    def step(self):
        fired = []
        state = self.state
        for k, p in enumerate(self.probability):
            out, state = splitmix64(state)
            if (out >> 11) * 2.0 ** -53 < p:
                fired.append(self.address[k])
        self.state = state
        return fired


def read_idx(path, expected_magic):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from(">I", data)[0]
    if magic != expected_magic:
        raise ValueError("%s: IDX magic 0x%08X, expected 0x%08X" % (path, magic, expected_magic))
    dims = struct.unpack_from(">%dI" % (magic & 0xFF), data, 4)
    return dims, memoryview(data)[4 + 4 * len(dims):]


def load_test_set(directory, images):
    """The first `images` test images ([1][28][28] bytes each) and labels of an IDX dataset directory."""
    (n, h, w), pixels = read_idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz"), 0x00000803)
    (nl,), labels = read_idx(os.path.join(directory, "t10k-labels-idx1-ubyte.gz"), 0x00000801)
    if images > min(n, nl):
        raise ValueError("--images: %d, the test set has %d" % (images, min(n, nl)))
    size = h * w
    return [bytes(pixels[i * size:(i + 1) * size]) for i in range(images)], list(labels[:images]), (1, h, w)


# ---------------------------------------------------------------------------------------------------------------
# Streaming

class Sample:
    """One image in flight: its events per step and what the server said about it."""

    def __init__(self, index, label, steps_events):
        self.index, self.label, self.events = index, label, steps_events
        self.first_tick = None
        self.decision = None
        self.step_decisions = {}  # step -> decision after it (TICK [4])
        self.input_spikes = self.sops = 0

    @property
    def last_tick(self):
        return self.first_tick + len(self.events) - 1

    @property
    def encoded_spikes(self):
        return sum(len(e) for e in self.events)

    def send(self, sender, first_tick):
        self.first_tick = first_tick
        for t, events in enumerate(self.events):
            sender.send_tick(events, tick=first_tick + t, reset=t == 0, label=self.label, end=t == len(self.events) - 1)


class Collector:
    """Files TICK and CLASSIFICATION messages under the sample whose ticks they belong to, prints live lines."""

    def __init__(self, samples, quiet):
        self.samples, self.quiet = samples, quiet
        self.by_tick = {}
        self.correct = self.done = 0
        self.server_tick = 0

    def expect(self, sample):
        for t in range(sample.first_tick, sample.last_tick + 1):
            self.by_tick[t] = sample

    def handle(self, msg):
        self.server_tick = max(self.server_tick, msg.tick)
        sample = self.by_tick.get(msg.tick)
        if sample is None:
            return
        if msg.type == nc.TICK:
            sample.step_decisions[msg.tick - sample.first_tick + 1] = msg.decision
            sample.input_spikes += msg.fields["input_spikes"]
            sample.sops += msg.fields["sops"]
        elif msg.type == nc.CLASSIFICATION and msg.tick == sample.last_tick and sample.decision is None:
            sample.decision = msg.decision
            self.done += 1
            self.correct += sample.decision == sample.label
            if not self.quiet:
                print("image %4d: decision %d, label %d %s  running accuracy %6.2f%% (%d/%d)" % (
                    sample.index, sample.decision, sample.label, "ok   " if sample.decision == sample.label else "wrong",
                    100.0 * self.correct / self.done, self.correct, self.done), flush=True)

    def drain(self, sub, timeout_s=0.0):
        msg = sub.receive(timeout_s)
        while msg is not None:
            self.handle(msg)
            msg = sub.receive(0.0)

    def wait_for(self, sub, sample, timeout_s):
        deadline = time.monotonic() + timeout_s
        while (sample.decision is None or len(sample.step_decisions) < len(sample.events)) and \
                time.monotonic() < deadline:
            msg = sub.receive(max(0.0, deadline - time.monotonic()))
            if msg is not None:
                self.handle(msg)


def wait_received(ctl, datagrams, timeout_s=10.0):
    """Waits until the server has taken in `datagrams` EVENTS datagrams (loopback UDP arrives at once, but the
    server's receiving thread may not have queued them when `run` reaches its engine thread)."""
    deadline = time.monotonic() + timeout_s
    while True:
        taken = received_datagrams(ctl.request("status"))
        if taken is None or taken >= datagrams or time.monotonic() > deadline:
            return taken
        time.sleep(0.001)


def received_datagrams(status):
    """EVENTS datagrams the server has read (taken or dropped), from a `status` response."""
    return status.get("input", {}).get("datagrams")


def run_lockstep(ctl, sender, sub, samples, collector):
    ctl.request("pause")
    # `reset` runs on the engine thread between ticks: once answered, no tick is in flight and `tick` is final (a
    # tick running when `pause` arrived still completes). Each sample resets the network anyway.
    ctl.request("reset")
    tick = int(ctl.request("status")["tick"])
    baseline = received_datagrams(ctl.request("status")) or 0
    for sample in samples:
        sample.send(sender, tick + 1)
        collector.expect(sample)
        wait_received(ctl, baseline + sender.datagrams)
        ctl.request("run", ticks=len(sample.events))
        tick = sample.last_tick
        collector.wait_for(sub, sample, timeout_s=10.0)


def run_realtime(ctl, sender, sub, samples, collector, ahead_ticks):
    ctl.request("resume")
    collector.server_tick = int(ctl.request("status")["tick"])
    next_tick = collector.server_tick + ahead_ticks
    for sample in samples:
        while next_tick - collector.server_tick > ahead_ticks:
            collector.drain(sub, 0.05)
        sample.send(sender, next_tick)
        collector.expect(sample)
        next_tick = sample.last_tick + 1
        collector.drain(sub)
    deadline = time.monotonic() + 10.0 + 0.01 * (next_tick - collector.server_tick)
    while collector.done < len(samples) and time.monotonic() < deadline and collector.server_tick < next_tick + 50:
        collector.drain(sub, 0.1)
    collector.drain(sub, 0.2)


def counter_delta(after, before):
    """after - before for every integer counter of two `status` responses (nested dicts), the rest as in after."""
    if isinstance(after, dict):
        return {k: counter_delta(v, before.get(k, {}) if isinstance(before, dict) else {}) for k, v in after.items()}
    if isinstance(after, int) and not isinstance(after, bool) and isinstance(before, int):
        return after - before
    return after


def server_counters(before, after):
    """What the server counted during the run, in a line: drops by reason, sequence gaps, deadline misses."""
    run = counter_delta(after, before)
    inp, deadline = run.get("input", {}), run.get("deadline", {})
    drops = {reason: d.get("events", 0) for reason, d in inp.get("drops", {}).items() if d.get("datagrams")}
    return "%d datagrams, %d events, %d spikes consumed; dropped events %s; sequence missing %d, reordered %d; " \
        "deadline misses %d of %d ticks (worst lateness since start %.3f ms)" % (
            inp.get("datagrams", 0), inp.get("events", 0), inp.get("spikes_consumed", 0),
            json.dumps(drops, sort_keys=True) if drops else "none", inp.get("sequence_missing", 0),
            inp.get("sequence_reordered", 0), deadline.get("misses", 0), run.get("tick", 0),
            after.get("deadline", {}).get("worst_lateness_ns", 0) / 1e6)


# ---------------------------------------------------------------------------------------------------------------
# Comparison with `neuroemu evaluate`

def run_evaluate(neuroemu, config, images, steps, seed):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "evaluate.json")
        cmd = [neuroemu, "evaluate", config, "--set", "simulation.encoding=poisson", "--images", str(images),
               "--steps", str(steps), "--seed", str(seed), "--json", out, "-q"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def evaluate_figures(doc):
    snn = doc["snn"]
    images = snn["images"]
    return {"images": images, "steps": snn["steps"], "correct": snn["correct"],
            "curve": [round(a * images) for a in snn["accuracy_curve"]],
            "input_spikes": snn["populations"][0]["spikes"], "sops": snn["totals"]["sops"]}


def per_image_correct(neuroemu, config, images, steps, seed):
    """Image k's correctness from evaluate over the first k and k - 1 images (evaluate reports totals only)."""
    totals = [0] + [run_evaluate(neuroemu, config, k, steps, seed)["snn"]["correct"] for k in range(1, images + 1)]
    return [bool(totals[k + 1] - totals[k]) for k in range(images)]


def compare(samples, reference, per_image):
    """Lines saying what matches, and whether everything does."""
    steps = len(samples[0].events)
    served_curve = [sum(s.step_decisions.get(t) == s.label for s in samples) for t in range(1, steps + 1)]
    served = {"correct": sum(s.decision == s.label for s in samples), "curve": served_curve,
              "input_spikes": sum(s.input_spikes for s in samples), "sops": sum(s.sops for s in samples)}
    encoded = sum(s.encoded_spikes for s in samples)
    checks = [
        ("images classified", sum(s.decision is not None for s in samples), reference["images"]),
        ("correct after %d steps" % steps, served["correct"], reference["correct"]),
        ("correct after each step (accuracy curve)", served["curve"], reference["curve"]),
        ("input spikes encoded by this script", encoded, reference["input_spikes"]),
        ("input spikes consumed by the server", served["input_spikes"], reference["input_spikes"]),
        ("synaptic operations (SOPs)", served["sops"], reference["sops"]),
    ]
    if per_image is not None:
        checks.append(("per-image correctness", [s.decision == s.label for s in samples], per_image))
    lines, same = [], True
    for name, got, want in checks:
        ok = got == want
        same &= ok
        show = (lambda v: v if not isinstance(v, list) or len(v) <= 12 else "%s..." % v[:12])
        lines.append("  %-45s served %s, evaluate %s: %s" % (name, show(got), show(want), "same" if ok else "DIFFERENT"))
    return lines, same


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--control", default="127.0.0.1:7700", help="the server's control endpoint HOST:PORT")
    p.add_argument("--token", help="control token (a server started with --allow-remote)")
    p.add_argument("--images", type=int, default=20, help="test images to stream (the first N)")
    p.add_argument("--steps", type=int, default=100, help="ticks T per image")
    p.add_argument("--seed", type=int, default=1, help="the server's seed (its config's `seed`)")
    p.add_argument("--dataset", default=DEFAULT_DATASET, help="directory of the IDX files")
    p.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep")
    p.add_argument("--ahead-ticks", type=int, default=200, help="realtime: schedule images this many ticks ahead")
    p.add_argument("--evaluate-json", help="the batch figures: `neuroemu evaluate ... --json FILE` of the same "
                   "images, steps, seed and --set simulation.encoding=poisson")
    p.add_argument("--neuroemu", help="run `NEUROEMU evaluate CONFIG` for the batch figures")
    p.add_argument("--config", default="configs/default.yaml", help="the config the server serves (for --neuroemu)")
    p.add_argument("--per-image", action="store_true", help="also check each image's correctness (with --neuroemu: "
                   "one evaluate run per image)")
    p.add_argument("--quiet", action="store_true", help="no per-image lines")
    args = p.parse_args(argv)
    for name in ("images", "steps", "ahead_ticks"):
        if getattr(args, name) < 1:
            p.error("--%s: %d, expected at least 1" % (name.replace("_", "-"), getattr(args, name)))

    try:
        pixels, labels, shape = load_test_set(args.dataset, args.images)
        host, port = nc.parse_endpoint(args.control)
        with nc.Control(host, port, args.token) as ctl:
            hello = ctl.request("hello")
            served_shape = list(hello["model"]["input_shape"])
            if served_shape != list(shape):
                raise ValueError("the server's input shape %s is not the dataset's %s" % (served_shape, list(shape)))
            t0 = time.monotonic()
            samples = []
            for i in range(args.images):
                enc = PoissonImage(pixels[i], shape, args.seed, i)
                samples.append(Sample(i, labels[i], [enc.step() for _ in range(args.steps)]))
            print("encoded %d images x %d steps (%d input spikes) in %.2f s" % (
                args.images, args.steps, sum(s.encoded_spikes for s in samples), time.monotonic() - t0), flush=True)
            sender = nc.EventSender(host, nc.udp_port(hello))
            collector = Collector(samples, args.quiet)
            with nc.Subscriber(ctl, spikes=False) as sub:
                before = ctl.request("status")
                t0 = time.monotonic()
                if args.mode == "lockstep":
                    run_lockstep(ctl, sender, sub, samples, collector)
                else:
                    run_realtime(ctl, sender, sub, samples, collector, args.ahead_ticks)
                elapsed = time.monotonic() - t0
                status = ctl.request("status")
                track = sub.tracker
            sender.close()
        print("served %d/%d images in %.2f s: accuracy %.2f%% (%d/%d); %d datagrams sent; outputs received %d, "
              "missing %d, reordered %d" % (collector.done, args.images, elapsed,
                                            100.0 * collector.correct / max(1, collector.done), collector.correct,
                                            collector.done, sender.datagrams, track.received, track.missing,
                                            track.reordered))
        print("server: %s" % server_counters(before, status))
        reference = None
        if args.evaluate_json:
            with open(args.evaluate_json) as f:
                reference = evaluate_figures(json.load(f))
        elif args.neuroemu:
            reference = evaluate_figures(run_evaluate(args.neuroemu, args.config, args.images, args.steps, args.seed))
        if reference is None:
            return 0
        if (reference["images"], reference["steps"]) != (args.images, args.steps):
            raise ValueError("the evaluate figures are for %d images x %d steps, not %d x %d" % (
                reference["images"], reference["steps"], args.images, args.steps))
        per_image = per_image_correct(args.neuroemu, args.config, args.images, args.steps, args.seed) \
            if args.per_image and args.neuroemu else None
        lines, same = compare(samples, reference, per_image)
        print("against `neuroemu evaluate` (%d images, %d steps, seed %d):" % (args.images, args.steps, args.seed))
        print("\n".join(lines))
        print("decisions identical to evaluate: %s" % ("yes" if same else "NO"))
        return 0 if same else 1
    except (nc.ServerError, nc.ProtocolError, ValueError, OSError, subprocess.CalledProcessError) as err:
        print("serve_demo: %s" % err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
