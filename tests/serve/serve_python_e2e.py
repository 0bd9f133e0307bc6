"""The Python client and the demo against a real `neuroemu serve` (NEUROEMU_EXE) on 127.0.0.1, ephemeral ports:
the command-line tool's round trips, events in and counters out through the module, and the demo's lock-step
stream of Fashion-MNIST images, whose decisions must equal `neuroemu evaluate`'s."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = os.path.join(ROOT, "clients", "python")
sys.path.insert(0, CLIENTS)
import neuroemu_client as nc  # noqa: E402

EXE = os.environ.get("NEUROEMU_EXE")
CONFIG = os.path.join(ROOT, "configs", "default.yaml")


@unittest.skipUnless(EXE, "NEUROEMU_EXE not set")
class AgainstServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.tmp.name, "ports.json")
        cls.stderr = open(os.path.join(cls.tmp.name, "stderr"), "w+")
        cls.server = subprocess.Popen([EXE, "serve", CONFIG, "--listen", "127.0.0.1:0", "--paused", "--port-file",
                                       port_file, "--set", "simulation.encoding=poisson"],
                                      stdout=subprocess.DEVNULL, stderr=cls.stderr)
        deadline = time.monotonic() + 120
        while not os.path.exists(port_file):
            if cls.server.poll() is not None or time.monotonic() > deadline:
                cls.stderr.seek(0)
                cls.tearDownClass()
                raise RuntimeError("neuroemu serve did not start: " + cls.stderr.read())
            time.sleep(0.05)
        with open(port_file) as f:
            cls.ports = json.load(f)
        cls.control = "127.0.0.1:%d" % cls.ports["control"]

    @classmethod
    def tearDownClass(cls):
        if cls.server.poll() is None:
            try:
                with nc.Control("127.0.0.1", cls.ports["control"], timeout_s=10) as ctl:
                    ctl.request("shutdown")
                cls.server.wait(30)
            except (OSError, subprocess.TimeoutExpired, AttributeError):
                cls.server.kill()
                cls.server.wait()
        cls.stderr.close()
        cls.tmp.cleanup()

    def tool(self, *args):
        return subprocess.run([sys.executable, os.path.join(CLIENTS, "neuroemu_client.py"), "--control", self.control]
                              + list(args), capture_output=True, text=True, timeout=60)

    def test_command_line_round_trips(self):
        hello = json.loads(self.tool("hello").stdout)
        self.assertEqual(hello["model"]["input_shape"], [1, 28, 28])
        self.assertEqual(hello["ports"]["udp"], self.ports["udp"])
        before = json.loads(self.tool("status").stdout)["tick"]
        ran = json.loads(self.tool("run", "3").stdout)
        self.assertEqual((ran["completed"], ran["tick"]), (True, before + 3))
        bad = self.tool("run", "0")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("bad_field", bad.stderr)
        self.assertIn("ticks", bad.stderr)
        for op in ("pause", "reset", "status"):
            self.assertEqual(self.tool(op).returncode, 0, op)

    def test_events_in_counters_out(self):
        with nc.Control("127.0.0.1", self.ports["control"]) as ctl:
            ctl.request("pause")
            with nc.Subscriber(ctl, spikes=False, classifications=False) as sub:
                tick = ctl.request("status")["tick"] + 1
                sender = nc.EventSender("127.0.0.1", self.ports["udp"])
                sender.send_tick([(0, 0, 5), (0, 27, 27)], tick=tick, counts=[2, 3], flat=False)
                sender.send_tick([10, 10, 783], tick=tick)  # a second datagram for the same tick adds up
                sender.sock.sendto(b"XEEV" + bytes(28), ("127.0.0.1", self.ports["udp"]))
                drops = lambda st: st["input"]["drops"].get("bad_magic", {}).get("datagrams", 0)  # noqa: E731
                before = drops(ctl.request("status"))
                deadline = time.monotonic() + 10
                while ctl.request("status")["input"]["datagrams"] < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                ctl.request("run", ticks=2)
                got = {}
                while len(got) < 2:
                    msg = sub.receive(10)
                    self.assertIsNotNone(msg, "no TICK within 10 s")
                    got[msg.tick] = msg.fields
                sender.close()
                self.assertEqual(got[tick]["input_spikes"], 2 + 3 + 3)
                self.assertEqual(got[tick + 1]["input_spikes"], 0)
                self.assertEqual(got[tick + 1]["step"], got[tick]["step"] + 1)
                self.assertEqual((sub.tracker.missing, sub.tracker.reordered), (0, 0))
                self.assertGreaterEqual(drops(ctl.request("status")), max(before, 1))

    def test_classify_request_equals_evaluate(self):
        import serve_demo
        steps = 16
        pixels, labels, shape = serve_demo.load_test_set(serve_demo.DEFAULT_DATASET, 1)
        enc = serve_demo.PoissonImage(pixels[0], shape, seed=1, dataset_index=0)
        events = [enc.step() for _ in range(steps)]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(events, f)
            f.flush()
            got = self.tool("classify", f.name, "--label", str(labels[0]))
        self.assertEqual(got.returncode, 0, got.stderr)
        got = json.loads(got.stdout)
        ref = serve_demo.run_evaluate(EXE, CONFIG, 1, steps, 1)["snn"]
        self.assertEqual(got["input_spikes"], ref["populations"][0]["spikes"])
        self.assertEqual((got["steps"], got["correct"]), (steps, bool(ref["correct"])))
        self.assertEqual(len(got["readout"]), 10)

    def test_subscribe_prints_ticks(self):
        with nc.Control("127.0.0.1", self.ports["control"]) as ctl:
            ctl.request("pause")
            tool = subprocess.Popen([sys.executable, os.path.join(CLIENTS, "neuroemu_client.py"), "--control",
                                     self.control, "subscribe", "--count", "4", "--seconds", "20"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while ctl.request("status")["queues"]["subscriptions"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            ctl.request("run", ticks=2)
            out, err = tool.communicate(timeout=30)
        lines = out.splitlines()
        self.assertEqual(sum(l.startswith("tick ") for l in lines), 2, out)         # one TICK per tick
        self.assertEqual(sum(l.startswith("spikes tick ") for l in lines), 2, out)  # the output's SPIKES per tick
        self.assertIn("missing 0", err)

    def test_demo_decisions_equal_evaluate(self):
        self.assertEqual(self.tool("resume").returncode, 0)  # the demo pauses a running server itself
        demo = subprocess.run([sys.executable, os.path.join(CLIENTS, "serve_demo.py"), "--control", self.control,
                               "--images", "3", "--steps", "12", "--neuroemu", EXE, "--config", CONFIG, "--per-image"],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(demo.returncode, 0, demo.stdout + demo.stderr)
        self.assertIn("decisions identical to evaluate: yes", demo.stdout)
        self.assertEqual(demo.stdout.count("\nimage "), 3, demo.stdout)


if __name__ == "__main__":
    unittest.main()
