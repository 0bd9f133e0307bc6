"""Offline tests of clients/python (no server): datagrams against bytes written out from the protocol table
(docs/serve.md, wire protocol v1), the control channel against an in-process fake, the demo's Poisson encoding.
Run: python3 -m unittest discover -s tests/serve -p 'python_*_test.py'. With NEUROEMU_EXE set, the encoding is
also checked against `neuroemu evaluate`'s input spike count."""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import neuroemu_client as nc  # noqa: E402
import serve_demo  # noqa: E402


def header(type_, flags, sequence, count, tick, aux):
    """The 32-byte header spelled out field by field, independently of the client's struct."""
    return (b"NEEV" + bytes([1, type_]) + flags.to_bytes(2, "little") + sequence.to_bytes(4, "little") +
            count.to_bytes(4, "little") + tick.to_bytes(8, "little") + aux.to_bytes(4, "little", signed=True) +
            bytes(4))


class EncodeEvents(unittest.TestCase):
    def test_flat_with_label_reset_end(self):
        got = nc.encode_events([5, 783], tick=7, sequence=3, reset=True, label=2, end=True)
        want = header(1, 1 | 4 | 8 | 16, 3, 2, 7, 2) + bytes([5, 0, 0, 0, 0x0F, 3, 0, 0])
        self.assertEqual(got, want)

    def test_cyx_with_counts(self):
        got = nc.encode_events([(0, 27, 1)], counts=[300], tick=0)
        self.assertEqual(got, header(1, 2, 0, 1, 0, -1) + bytes([0, 0, 27, 0, 1, 0, 0x2C, 1]))

    def test_record_sizes_follow_the_spec(self):
        self.assertEqual([nc.record_bytes(f, c) for f, c in ((0, 0), (0, 1), (1, 0), (1, 1))], [6, 8, 4, 6])
        self.assertEqual(len(nc.encode_events([1, 2, 3], counts=[1, 1, 1])), 32 + 3 * 6)

    def test_sequence_wraps(self):
        self.assertEqual(nc.encode_events([], sequence=2**32 + 5)[8:12], (5).to_bytes(4, "little"))

    def test_bad_input_names_the_field(self):
        for kwargs, field in (({"events": [1], "counts": [0]}, "counts"), ({"events": [1], "counts": [1, 2]}, "counts"),
                              ({"events": [-1]}, "events"), ({"events": [(0, 70000, 0)]}, "events"),
                              ({"events": [1], "tick": -1}, "tick"), ({"events": [1], "label": 2**31}, "label")):
            with self.assertRaisesRegex(ValueError, "^" + field):
                nc.encode_events(**kwargs)

    def test_size_limit_and_split(self):
        n = nc.max_events_per_datagram()
        self.assertEqual(n, (65507 - 32) // 4)
        self.assertEqual(len(nc.encode_events(list(range(n)))), 32 + 4 * n)
        with self.assertRaisesRegex(ValueError, "65507"):
            nc.encode_events(list(range(n + 1)))
        chunks = nc.split_events(list(range(2 * n + 1)))
        self.assertEqual([len(e) for e, _ in chunks], [n, n, 1])
        self.assertEqual(sum((e for e, _ in chunks), []), list(range(2 * n + 1)))
        self.assertEqual(nc.split_events([]), [([], None)])

    def test_decode_reads_back_events(self):
        msg = nc.decode(nc.encode_events([(1, 2, 3), (4, 5, 6)], counts=[9, 10], tick=11, label=4))
        self.assertEqual((msg.type, msg.tick, msg.aux, msg.records), (1, 11, 4, [(1, 2, 3, 9), (4, 5, 6, 10)]))


class DecodeOutputs(unittest.TestCase):
    def test_tick(self):
        fields = list(range(100, 112))
        fields[4] = 2**64 - 1  # decision -1 as u64 of the i64
        data = header(3, 0, 9, 12, 42, 0) + b"".join(v.to_bytes(8, "little") for v in fields)
        msg = nc.decode(data)
        self.assertEqual((msg.kind, msg.sequence, msg.tick), ("tick", 9, 42))
        self.assertEqual(msg.fields["input_spikes"], 101)
        self.assertEqual(msg.fields["tick_end_ns"], 111)
        self.assertEqual(msg.decision, -1)

    def test_tick_with_appended_fields(self):
        data = header(3, 0, 0, 13, 1, 0) + bytes(8 * 12) + (77).to_bytes(8, "little")
        self.assertEqual(nc.decode(data).fields["field_12"], 77)

    def test_spikes_with_more(self):
        msg = nc.decode(header(2, 32, 1, 3, 5, 4) + b"".join(v.to_bytes(4, "little") for v in (0, 7, 4096)))
        self.assertEqual((msg.population, msg.more, msg.records), (4, True, [0, 7, 4096]))

    def test_classification(self):
        readout = [0.5, -2.25, 3.0]
        data = header(4, 0, 0, 5, 100, 2) + (2**32 - 1).to_bytes(4, "little") + (100).to_bytes(4, "little") + \
            struct.pack("<3f", *readout)
        msg = nc.decode(data)
        self.assertEqual((msg.decision, msg.label, msg.steps, msg.readout), (2, -1, 100, readout))

    def test_malformed_is_rejected_naming_the_field(self):
        good = header(2, 0, 0, 1, 1, 0) + bytes(4)
        cases = {"length": good[:20], "magic": b"XEEV" + good[4:], "version": good[:4] + b"\x02" + good[5:],
                 "type": good[:5] + b"\x09" + good[6:], "flags": good[:6] + b"\x01\x00" + good[8:]}
        cases["length "] = good + b"\x00"
        cases["count"] = header(3, 0, 0, 2, 1, 0) + bytes(16)  # fewer than v1's 12 tick fields
        for field, data in cases.items():
            with self.assertRaisesRegex(nc.ProtocolError, "^" + field.strip()):
                nc.decode(data)


class Sequences(unittest.TestCase):
    def test_gaps_reorder_and_wrap(self):
        t = nc.SequenceTracker()
        for s in (2**32 - 2, 2**32 - 1, 0, 3, 2, 4):
            t.update(s)
        self.assertEqual((t.received, t.missing, t.reordered), (6, 1, 1))  # 1 never came, 2 came after 3


class FakeServer(threading.Thread):
    """Answers one control connection's lines with `respond(request)` (the request echoed to `seen`)."""

    def __init__(self, respond):
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.respond, self.seen = respond, []

    def run(self):
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                req = json.loads(line)
                self.seen.append(req)
                conn.sendall(json.dumps(self.respond(req)).encode() + b"\n")
        self.listener.close()


class ControlChannel(unittest.TestCase):
    def serve(self, respond):
        server = FakeServer(respond)
        server.start()
        return server

    def test_request_response_and_token(self):
        server = self.serve(lambda r: {"id": r["id"], "ok": True, "tick": 5})
        with nc.Control("127.0.0.1", server.port, token="t0k") as ctl:
            self.assertEqual(ctl.request("run", ticks=3)["tick"], 5)
            ctl.request("status")
        server.join(5)
        self.assertEqual(server.seen[0], {"id": 1, "op": "run", "ticks": 3, "token": "t0k"})
        self.assertEqual([r["id"] for r in server.seen], [1, 2])

    def test_error_carries_code_and_message(self):
        server = self.serve(lambda r: {"id": r["id"], "ok": False,
                                       "error": {"code": "bad_request", "message": "ticks: expected an integer"}})
        with nc.Control("127.0.0.1", server.port) as ctl:
            with self.assertRaises(nc.ServerError) as cm:
                ctl.request("run", ticks="x")
        server.join(5)
        self.assertEqual((cm.exception.op, cm.exception.code), ("run", "bad_request"))
        self.assertIn("ticks: expected an integer", str(cm.exception))

    def test_mismatched_id_is_a_protocol_error(self):
        server = self.serve(lambda r: {"id": 99, "ok": True})
        with nc.Control("127.0.0.1", server.port) as ctl:
            with self.assertRaisesRegex(nc.ProtocolError, "^id"):
                ctl.request("hello")
        server.join(5)

    def test_refused_connection_names_the_endpoint(self):
        with socket.socket() as probe:  # a port that was free a moment ago and has no listener
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with self.assertRaisesRegex(ConnectionError, "control 127.0.0.1:%d" % port):
            nc.Control("127.0.0.1", port)

    def test_endpoints(self):
        self.assertEqual(nc.parse_endpoint("localhost:80"), ("localhost", 80))
        self.assertEqual(nc.parse_endpoint("7700"), ("127.0.0.1", 7700))
        for bad in ("host:x", "host:0", "host:65536"):
            with self.assertRaisesRegex(ValueError, "endpoint"):
                nc.parse_endpoint(bad)


class PoissonEncoding(unittest.TestCase):
    def test_splitmix64_reference_value(self):
        # Vigna's splitmix64.c from state 0: the first output is 0xE220A8397B1DCDAF.
        self.assertEqual(serve_demo.splitmix64(0), (0xE220A8397B1DCDAF, 0x9E3779B97F4A7C15))

    def test_image_seed(self):
        self.assertEqual(serve_demo.image_seed(1, 0), 0xD1B54A32D192ED03 ^ 1)
        self.assertEqual(serve_demo.image_seed(0, 1), (2 * 0xD1B54A32D192ED03) % 2**64)

    def test_black_never_fires_white_always(self):
        enc = serve_demo.PoissonImage(bytes([0, 255, 0, 255]), (1, 2, 2), seed=3, dataset_index=0)
        for _ in range(20):
            self.assertEqual(enc.step(), [1, 3])

    def test_rate_follows_the_pixel(self):
        enc = serve_demo.PoissonImage(bytes([64] * 100), (1, 10, 10), seed=1, dataset_index=5)
        rate = sum(len(enc.step()) for _ in range(200)) / 20000
        self.assertAlmostEqual(rate, 64 / 255, delta=0.01)  # 4 sigma of a binomial(20000, 0.25)

    def test_channels_draw_in_hwc_order_and_address_chw(self):
        # Two channels, one pixel each: the draws go pixel by pixel, channel inside; addresses are [C][H][W].
        enc = serve_demo.PoissonImage(bytes([255, 0, 0, 255]), (2, 1, 2), seed=0, dataset_index=0)
        self.assertEqual(enc.address, [0, 2, 1, 3])
        self.assertEqual(sorted(enc.step()), [0, 3])

    @unittest.skipUnless(os.environ.get("NEUROEMU_EXE"), "NEUROEMU_EXE not set")
    def test_input_spikes_equal_evaluate(self):
        images, steps, seed = 3, 8, 5
        pixels, _, shape = serve_demo.load_test_set(serve_demo.DEFAULT_DATASET, images)
        ours = 0
        for i in range(images):
            enc = serve_demo.PoissonImage(pixels[i], shape, seed, i)
            ours += sum(len(enc.step()) for _ in range(steps))
        doc = serve_demo.run_evaluate(os.environ["NEUROEMU_EXE"], os.path.join(ROOT, "configs", "default.yaml"),
                                      images, steps, seed)
        self.assertEqual(ours, doc["snn"]["populations"][0]["spikes"])


class IdxReader(unittest.TestCase):
    def test_reads_a_written_file(self):
        import gzip
        with tempfile.TemporaryDirectory() as tmp:
            with gzip.open(os.path.join(tmp, "t10k-images-idx3-ubyte.gz"), "wb") as f:
                f.write(struct.pack(">IIII", 0x803, 2, 2, 3) + bytes(range(12)))
            with gzip.open(os.path.join(tmp, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
                f.write(struct.pack(">II", 0x801, 2) + bytes([7, 3]))
            pixels, labels, shape = serve_demo.load_test_set(tmp, 2)
            self.assertEqual((pixels[1], labels, shape), (bytes(range(6, 12)), [7, 3], (1, 2, 3)))
            with self.assertRaisesRegex(ValueError, "--images"):
                serve_demo.load_test_set(tmp, 3)


if __name__ == "__main__":
    unittest.main()
