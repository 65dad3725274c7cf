"""Deterministic WebSocket message schedule shared by the lab's client, server and truth builder.

Every payload is a pure function of (mix, conn, direction, index, big, tripwires): the same run
arguments always produce the same bytes, so truth.json can list the SHA-256 of every payload
(the same digest wspath computes after unmasking and decompression).
"""

import hashlib
import json

C2S = "c2s"
S2C = "s2c"

# Text identical across all connections and directions: the hard case for matching.
TYPING = '{"type":"typing"}'
HEARTBEAT = '{"type":"heartbeat"}'


def conn_key(scenario, conn):
    """Sec-WebSocket-Key the client uses for connection `conn` (16 bytes, base64)."""
    import base64

    raw = hashlib.sha256(f"wspath-netlab/{scenario}/{conn}".encode()).digest()[:16]
    return base64.b64encode(raw).decode()


def _filler(seed, n):
    """n pseudo-random lowercase hex characters derived from seed (SHA-256 in counter mode)."""
    out = []
    i = 0
    while sum(len(x) for x in out) < n:
        out.append(hashlib.sha256(f"{seed}/{i}".encode()).hexdigest())
        i += 1
    return "".join(out)[:n]


def tripwire_marker(conn, direction, idx):
    """The unique string the firewall matches to drop or reject one message."""
    return f"wsl-trip-{direction}-c{conn}-m{idx}"


class Msg:
    """One scheduled message: kind, opcode name, and payload (str for text, bytes for binary).

    fragments, when set, is the list of pieces the sender passes to send() so that the message
    goes out as that many frames (first text, then continuations).
    """

    def __init__(self, idx, kind, payload, fragments=None, tripwire=None):
        self.idx = idx
        self.kind = kind
        self.payload = payload
        self.fragments = fragments
        self.tripwire = tripwire
        self.echo = False

    @property
    def opcode(self):
        return "binary" if isinstance(self.payload, bytes) else "text"

    def raw(self):
        return self.payload if isinstance(self.payload, bytes) else self.payload.encode()

    def digest(self):
        return hashlib.sha256(self.raw()).hexdigest()

    def describe(self):
        d = {
            "index": self.idx,
            "kind": self.kind,
            "opcode": self.opcode,
            "length": len(self.raw()),
            "sha256": self.digest(),
            "frames": len(self.fragments) if self.fragments else 1,
        }
        if self.echo:
            d["frames"] = None
        if self.tripwire:
            d["tripwire"] = self.tripwire
        return d


def _numbered(conn, direction, idx, extra=None):
    body = {"seq": idx, "conn": conn, "dir": direction, "text": f"message {idx} of conn {conn}"}
    if extra:
        body.update(extra)
    return json.dumps(body, separators=(",", ":"))


def schedule(mix, conn, direction, count, big=3000, tripwires=()):
    """The `count` data messages sent on connection `conn` in `direction`.

    mix "chat": numbered JSON, typing/heartbeat duplicates, binary, one large multi-segment text,
    one 3-fragment text. mix "chatter": mostly identical typing/heartbeat messages with a
    numbered one every 4th. mix "beats": identical heartbeats only (an idle app's keep-alive
    traffic). mix "upload": client-to-server messages are all large (numbered JSON
    with a `big`-character filler), server-to-client ones are "chat". tripwires is a set of (conn, direction, idx): those messages carry a
    unique marker, are never fragmented, and are sent uncompressed and with a zero masking key so
    the firewall's string match can see them.
    """
    out = []
    for i in range(count):
        trip = (conn, direction, i) in tripwires
        if trip:
            marker = tripwire_marker(conn, direction, i)
            out.append(Msg(i, "tripwire", _numbered(conn, direction, i, {"tripwire": marker}), tripwire=marker))
            continue
        k = i % 10
        if mix == "upload" and direction == C2S:
            text = _numbered(conn, direction, i, {"blob": _filler(f"upload/{conn}/{i}", big)})
            out.append(Msg(i, "large", text))
            continue
        if mix == "beats":
            out.append(Msg(i, "heartbeat", HEARTBEAT))
            continue
        if mix == "chatter":
            if i % 4 == 3:
                out.append(Msg(i, "numbered", _numbered(conn, direction, i)))
            elif i % 2 == 0:
                out.append(Msg(i, "typing", TYPING))
            else:
                out.append(Msg(i, "heartbeat", HEARTBEAT))
            continue
        if k in (2, 8):
            out.append(Msg(i, "typing", TYPING))
        elif k == 4:
            out.append(Msg(i, "heartbeat", HEARTBEAT))
        elif k == 5:
            seed = hashlib.sha256(f"bin/{conn}/{direction}/{i}".encode()).digest()
            out.append(Msg(i, "binary", bytes((seed * 8)[:200]) + bytes(range(56))))
        elif k == 7:
            text = _numbered(conn, direction, i, {"blob": _filler(f"big/{conn}/{direction}/{i}", big)})
            out.append(Msg(i, "large", text))
        elif k == 9:
            text = _numbered(conn, direction, i, {"pad": _filler(f"frag/{conn}/{direction}/{i}", 300)})
            n = len(text)
            parts = [text[: n // 3], text[n // 3 : 2 * n // 3], text[2 * n // 3 :]]
            out.append(Msg(i, "fragmented", text, fragments=parts))
        else:
            out.append(Msg(i, "numbered", _numbered(conn, direction, i)))
    return out


def expected(mix, conn, direction, count, big=3000, tripwires=(), echo=False):
    """The data messages that travel on connection `conn` in `direction`.

    With echo (an echo server such as Tomcat's examples), the server sends back the client's
    messages: server-to-client is the client-to-server schedule, in the same order, framed as
    the server chooses (frames is then None: the server decides, tshark counts them per hop).
    """
    if echo and direction == S2C:
        out = schedule(mix, conn, C2S, count, big, tripwires)
        for m in out:
            m.kind = "echo-" + m.kind
            m.echo = True
        return out
    return schedule(mix, conn, direction, count, big, tripwires)


def ping_payload(conn, direction, idx):
    """Payload of the ping sent after message idx (every 4th message)."""
    return f"ping-{direction}-c{conn}-m{idx}".encode()


def parse_tripwires(specs):
    """Parse "conn:dir:idx" strings into a set of tuples."""
    out = set()
    for s in specs or ():
        c, d, i = s.split(":")
        out.add((int(c), d, int(i)))
    return out


def parse_idles(specs):
    """Parse "conn:after_idx:seconds" strings into {conn: (after_idx, seconds)}."""
    out = {}
    for s in specs or ():
        c, i, sec = s.split(":")
        out[int(c)] = (int(i), float(sec))
    return out
