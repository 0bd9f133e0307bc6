#!/usr/bin/env python3
"""Client of `neuroemu serve` (wire protocol v1, docs/serve.md): standard library only.

Importable: encode EVENTS datagrams, decode SPIKES / TICK / CLASSIFICATION, talk to the TCP control channel
(`Control`), receive outputs on a UDP port (`Subscriber`), count sequence gaps (`SequenceTracker`).
Command line: `neuroemu_client.py --control 127.0.0.1:PORT hello|status|reset|run N|pause|resume|subscribe|
classify|load|shutdown` (see --help).
"""
import argparse
import json
import socket
import struct
import sys
import time

MAGIC = 0x5645454E  # the bytes "NEEV"
VERSION = 1
HEADER = struct.Struct("<IBBHIIQiI")  # magic, version, type, flags, sequence, count, tick, aux, reserved
assert HEADER.size == 32
MAX_DATAGRAM_BYTES = 65507  # the UDP payload limit over IPv4

EVENTS, SPIKES, TICK, CLASSIFICATION = 1, 2, 3, 4
TYPE_NAMES = {EVENTS: "events", SPIKES: "spikes", TICK: "tick", CLASSIFICATION: "classification"}
FLAT, COUNTS, RESET, LABEL, END, MORE = 1, 2, 4, 8, 16, 32
EVENT_FLAGS = FLAT | COUNTS | RESET | LABEL | END
OUTPUT_FLAGS = {SPIKES: MORE, TICK: 0, CLASSIFICATION: 0}
# TICK records in order (a later protocol version may append fields; unknown ones are kept as field_N).
TICK_FIELDS = ("step", "input_spikes", "spikes", "sops", "decision", "chip_cycles", "packets",
               "max_latency_cycles", "dropped", "deadline_misses", "tick_wall_ns", "tick_end_ns")
SEQUENCE_MODULUS = 1 << 32


class ProtocolError(ValueError):
    """A datagram that does not follow the protocol (the message names the field)."""


class ServerError(RuntimeError):
    """The server answered a control request with ok=false."""

    def __init__(self, op, code, message):
        super().__init__("%s: %s: %s" % (op, code, message))
        self.op, self.code, self.message = op, code, message


# ---------------------------------------------------------------------------------------------------------------
# EVENTS encoding

def _record_format(flat, counts):
    return "<" + ("I" if flat else "HHH") + ("H" if counts else "")


def record_bytes(flat, counts):
    """Bytes per event record: CYX 6, CYX+COUNTS 8, FLAT 4, FLAT+COUNTS 6."""
    return struct.calcsize(_record_format(flat, counts))


def max_events_per_datagram(flat=True, counts=False):
    return (MAX_DATAGRAM_BYTES - HEADER.size) // record_bytes(flat, counts)


def encode_events(events, tick=0, sequence=0, counts=None, reset=False, label=None, end=False, flat=None):
    """One EVENTS datagram. `events`: flat [C][H][W] indices (ints) or (channel, y, x) triples; `counts`: None (each
    event is one spike) or one count in 1..65535 per event; `tick`: the server tick that consumes them (0: the next
    tick to start); `label`: the sample's true class (sets LABEL); `reset`/`end`: the RESET/END flags."""
    events = list(events)
    if flat is None:
        flat = not events or not isinstance(events[0], (tuple, list))
    if counts is not None:
        counts = list(counts)
        if len(counts) != len(events):
            raise ValueError("counts: %d counts for %d events" % (len(counts), len(events)))
        bad = [c for c in counts if not 1 <= c <= 0xFFFF]
        if bad:
            raise ValueError("counts: %r is outside 1..65535" % bad[0])
    size = HEADER.size + len(events) * record_bytes(flat, counts is not None)
    if size > MAX_DATAGRAM_BYTES:
        raise ValueError("events: %d events make a %d-byte datagram, above the %d-byte UDP limit (split them: "
                         "split_events)" % (len(events), size, MAX_DATAGRAM_BYTES))
    if not 0 <= tick < 1 << 64:
        raise ValueError("tick: %r is outside 0..2^64-1" % tick)
    if label is not None and not -2**31 <= label < 2**31:
        raise ValueError("label: %r is not an i32" % label)
    flags = (FLAT if flat else 0) | (COUNTS if counts is not None else 0) | (RESET if reset else 0) | \
        (LABEL if label is not None else 0) | (END if end else 0)
    out = bytearray(HEADER.pack(MAGIC, VERSION, EVENTS, flags, sequence % SEQUENCE_MODULUS, len(events), tick,
                                -1 if label is None else label, 0))
    rec = struct.Struct(_record_format(flat, counts is not None))
    try:
        for i, e in enumerate(events):
            fields = (e,) if flat else tuple(e)
            out += rec.pack(*(fields + ((counts[i],) if counts is not None else ())))
    except struct.error as err:
        raise ValueError("events: %r does not fit the %s record (%s)" % (e, "u32 index" if flat else "u16 c, y, x",
                                                                          err)) from None
    return bytes(out)


def split_events(events, counts=None, flat=True):
    """Splits one tick's events into chunks that each fit one datagram: [(events, counts)], at least one chunk."""
    n = max_events_per_datagram(flat, counts is not None)
    events = list(events)
    chunks = [(events[i:i + n], None if counts is None else list(counts[i:i + n])) for i in range(0, len(events), n)]
    return chunks or [([], None)]


# ---------------------------------------------------------------------------------------------------------------
# Output decoding

class Message:
    """A decoded datagram: header fields plus the typed view of its records."""

    def __init__(self, type, flags, sequence, tick, aux, records):
        self.type, self.flags, self.sequence, self.tick, self.aux, self.records = type, flags, sequence, tick, aux, records

    @property
    def kind(self):
        return TYPE_NAMES.get(self.type, str(self.type))

    # SPIKES
    @property
    def population(self):
        return self.aux

    @property
    def more(self):
        return bool(self.flags & MORE)

    # TICK
    @property
    def fields(self):
        return {TICK_FIELDS[i] if i < len(TICK_FIELDS) else "field_%d" % i: v for i, v in enumerate(self.records)}

    # CLASSIFICATION
    @property
    def decision(self):
        if self.type == TICK:
            return _signed64(self.records[4])
        return self.aux

    @property
    def label(self):
        return _signed32(self.records[0])

    @property
    def steps(self):
        return self.records[1]

    @property
    def readout(self):
        return [struct.unpack("<f", struct.pack("<I", r))[0] for r in self.records[2:]]

    def __repr__(self):
        return "Message(%s seq=%d tick=%d aux=%d records=%d)" % (self.kind, self.sequence, self.tick, self.aux,
                                                                 len(self.records))


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _signed32(v):
    return v - (1 << 32) if v >= 1 << 31 else v


_MIN_TICK_FIELDS = len(TICK_FIELDS)
_MIN_CLASSIFICATION_RECORDS = 2


def decode(data):
    """Decodes one server -> subscriber datagram (also EVENTS, for tests and tools); ProtocolError when malformed."""
    if len(data) < HEADER.size:
        raise ProtocolError("length: %d bytes, shorter than the %d-byte header" % (len(data), HEADER.size))
    magic, version, type_, flags, sequence, count, tick, aux, _ = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError("magic: 0x%08X, expected 0x%08X" % (magic, MAGIC))
    if version != VERSION:
        raise ProtocolError("version: %d, expected %d" % (version, VERSION))
    if type_ == EVENTS:
        if flags & ~EVENT_FLAGS:
            raise ProtocolError("flags: unknown bits 0x%X for events" % (flags & ~EVENT_FLAGS))
        fmt = _record_format(flags & FLAT, flags & COUNTS)
    elif type_ in OUTPUT_FLAGS:
        if flags & ~OUTPUT_FLAGS[type_]:
            raise ProtocolError("flags: unknown bits 0x%X for %s" % (flags & ~OUTPUT_FLAGS[type_], TYPE_NAMES[type_]))
        fmt = "<Q" if type_ == TICK else "<I"
    else:
        raise ProtocolError("type: %d, expected 1..4" % type_)
    rec = struct.Struct(fmt)
    if len(data) != HEADER.size + count * rec.size:
        raise ProtocolError("length: %d bytes, expected %d for count %d" % (len(data), HEADER.size + count * rec.size,
                                                                          count))
    records = [r if len(r) > 1 else r[0] for r in rec.iter_unpack(memoryview(data)[HEADER.size:])]
    if type_ == TICK and count < _MIN_TICK_FIELDS:
        raise ProtocolError("count: %d tick fields, protocol v1 has %d" % (count, _MIN_TICK_FIELDS))
    if type_ == CLASSIFICATION and count < _MIN_CLASSIFICATION_RECORDS:
        raise ProtocolError("count: %d classification records, at least label and steps expected" % count)
    return Message(type_, flags, sequence, tick, aux, records)


class SequenceTracker:
    """Counts gaps in a stream's sequence numbers (UDP may drop or reorder): `missing` datagrams skipped over,
    `reordered` ones arriving after a later one (or duplicated); wraps at 2^32."""

    def __init__(self):
        self.expected = None
        self.received = self.missing = self.reordered = 0

    def update(self, sequence):
        self.received += 1
        if self.expected is not None:
            ahead = (sequence - self.expected) % SEQUENCE_MODULUS
            if ahead >= SEQUENCE_MODULUS // 2:  # behind the newest seen: late or duplicate
                self.reordered += 1
                self.missing = max(0, self.missing - 1)
                return
            self.missing += ahead
        self.expected = (sequence + 1) % SEQUENCE_MODULUS


# ---------------------------------------------------------------------------------------------------------------
# Sockets

def parse_endpoint(text, default_host="127.0.0.1"):
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    try:
        port = int(port)
    except ValueError:
        raise ValueError("endpoint %r: expected HOST:PORT" % text) from None
    if not 0 < port < 65536:
        raise ValueError("endpoint %r: port outside 1..65535" % text)
    return host or default_host, port


class Control:
    """The TCP control channel: one JSON request per line, one response line per request, in order."""

    def __init__(self, host, port, token=None, timeout_s=60.0):
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as err:
            raise ConnectionError("control %s:%d: %s" % (host, port, err.strerror or err)) from None
        self.reader = self.sock.makefile("rb")
        self.token = token
        self.next_id = 1

    def request(self, op, **fields):
        """Sends {"op": op, ...fields} and returns the response dict; ServerError when ok is false."""
        req = {"id": self.next_id, "op": op}
        self.next_id += 1
        if self.token is not None:
            req["token"] = self.token
        req.update(fields)
        self.sock.sendall(json.dumps(req, separators=(",", ":")).encode() + b"\n")
        line = self.reader.readline()
        if not line:
            raise ConnectionError("%s: the server closed the control connection" % op)
        resp = json.loads(line)
        if resp.get("id") != req["id"]:
            raise ProtocolError("id: response %r to request %r" % (resp.get("id"), req["id"]))
        if not resp.get("ok"):
            err = resp.get("error") or {}
            raise ServerError(op, err.get("code", "?"), err.get("message", line.decode(errors="replace").strip()))
        return resp

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def udp_port(hello):
    """The server's event (UDP) port from a hello response."""
    ports = hello.get("ports", {})
    for key in ("udp", "events", "event"):
        if key in ports:
            return int(ports[key])
    raise ProtocolError("hello: no UDP port in %r" % ports)


class EventSender:
    """Sends EVENTS datagrams to the server, numbering them; a tick's events that do not fit one datagram are split
    (every part carries the tick's flags: RESET, LABEL and END are idempotent within a tick)."""

    def __init__(self, host, port):
        self.address = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sequence = 0
        self.datagrams = self.events = 0

    def send_tick(self, events, tick=0, counts=None, reset=False, label=None, end=False, flat=True):
        for part, part_counts in split_events(events, counts, flat):
            data = encode_events(part, tick, self.sequence, part_counts, reset, label, end, flat)
            self.sock.sendto(data, self.address)
            self.sequence = (self.sequence + 1) % SEQUENCE_MODULUS
            self.datagrams += 1
            self.events += len(part)

    def close(self):
        self.sock.close()


class Subscriber:
    """A UDP socket bound to an ephemeral port that subscribes to the server's outputs and yields decoded messages,
    counting per-stream sequence gaps in `tracker`."""

    def __init__(self, control, bind_host="127.0.0.1", populations=None, spikes=True, ticks=True,
                 classifications=True, receive_buffer_bytes=8 << 20):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
        self.sock.bind((bind_host, 0))
        self.port = self.sock.getsockname()[1]
        self.control = control
        fields = {"port": self.port, "host": bind_host, "spikes": spikes, "ticks": ticks,
                  "classifications": classifications}
        if populations is not None:
            fields["populations"] = list(populations)
        self.subscription = control.request("subscribe", **fields)["subscription"]
        self.tracker = SequenceTracker()
        self.malformed = 0

    def receive(self, timeout_s=None):
        """The next well-formed message, or None after timeout_s without one."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            self.sock.settimeout(None if deadline is None else max(0.0, deadline - time.monotonic()))
            try:
                data = self.sock.recv(MAX_DATAGRAM_BYTES)
            except (socket.timeout, BlockingIOError):  # a timeout of 0 polls: non-blocking
                return None
            try:
                msg = decode(data)
            except ProtocolError:
                self.malformed += 1
                continue
            self.tracker.update(msg.sequence)
            return msg

    def __iter__(self):
        while True:
            msg = self.receive()
            if msg is not None:
                yield msg

    def close(self):
        try:
            self.control.request("unsubscribe", subscription=self.subscription)
        except (ServerError, OSError):
            pass  # the server may be gone already; the socket is ours to close either way
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------------------------
# Command line

def _print(obj):
    print(json.dumps(obj, indent=2, sort_keys=True))


def _cmd_subscribe(ctl, args):
    with Subscriber(ctl, populations=args.populations or None) as sub:
        end = None if args.seconds is None else time.monotonic() + args.seconds
        n = 0
        while args.count is None or n < args.count:
            msg = sub.receive(None if end is None else max(0.0, end - time.monotonic()))
            if msg is None:
                break
            n += 1
            if msg.type == TICK:
                print("tick %d %s" % (msg.tick, json.dumps(msg.fields)))
            elif msg.type == SPIKES:
                print("spikes tick %d population %d%s: %s" % (msg.tick, msg.population, " (more)" if msg.more else "",
                                                               " ".join(map(str, msg.records))))
            elif msg.type == CLASSIFICATION:
                print("classification tick %d: decision %d label %d steps %d readout %s" % (
                    msg.tick, msg.decision, msg.label, msg.steps, " ".join("%.4g" % r for r in msg.readout)))
        t = sub.tracker
        print("received %d, missing %d, reordered %d, malformed %d" % (t.received, t.missing, t.reordered,
                                                                       sub.malformed), file=sys.stderr)


def _cmd_classify(ctl, args):
    events = json.loads(open(args.events).read() if args.events != "-" else sys.stdin.read())
    fields = {"ticks": args.ticks if args.ticks is not None else len(events), "events": events}
    if args.cyx:
        fields["format"] = "cyx"
    if args.label is not None:
        fields["label"] = args.label
    _print(ctl.request("classify", **fields))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--control", default="127.0.0.1:7700", help="the server's control endpoint HOST:PORT")
    p.add_argument("--token", help="the control token (servers started with --allow-remote)")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("hello", "status", "reset", "pause", "resume", "shutdown"):
        sub.add_parser(name)
    s = sub.add_parser("run", help="run N ticks (answers when done; the server then pauses)")
    s.add_argument("ticks", type=int)
    s = sub.add_parser("load", help="load a config inside the server's model directory")
    s.add_argument("config")
    s = sub.add_parser("subscribe", help="print the server's outputs")
    s.add_argument("--populations", nargs="*", help="population names (default: the output)")
    s.add_argument("--count", type=int, help="stop after this many messages")
    s.add_argument("--seconds", type=float, help="stop after this many seconds without a message")
    s = sub.add_parser("classify", help="classify a sample given as events")
    s.add_argument("events", help="JSON file (or -): a list of T lists of flat indices (or [c,y,x] with --cyx)")
    s.add_argument("--ticks", type=int, help="T (default: the number of lists)")
    s.add_argument("--label", type=int)
    s.add_argument("--cyx", action="store_true")
    args = p.parse_args(argv)
    try:
        host, port = parse_endpoint(args.control)
        with Control(host, port, args.token) as ctl:
            if args.command == "run":
                _print(ctl.request("run", ticks=args.ticks))
            elif args.command == "load":
                _print(ctl.request("load", config=args.config))
            elif args.command == "subscribe":
                _cmd_subscribe(ctl, args)
            elif args.command == "classify":
                _cmd_classify(ctl, args)
            else:
                _print(ctl.request(args.command))
    except (ServerError, ProtocolError, ValueError, OSError) as err:
        print("neuroemu_client: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
