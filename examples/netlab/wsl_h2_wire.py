"""WebSocket over HTTP/2 (RFC 8441) as tshark sees it, for truth.py's h2 scenarios.

tshark 4.0 decodes HTTP/2 (frames, HPACK, TLS with a key log) but not the RFC 6455 frames inside an
extended CONNECT stream's DATA. This module takes from tshark's JSON each stream's header lists,
DATA payloads, END_STREAM flags and RST_STREAM frames, and reads the WebSocket frames from the
concatenated DATA payloads itself. It shares no code with wspath (Go, x/net/http2), so it is an
independent view of the same captures.
"""

import glob
import hashlib
import json
import os
import subprocess
import tempfile


def _pairs(pairs):
    """json object_pairs_hook: keep repeated keys (tshark repeats http2.stream, http2.header)."""
    return pairs


def _get(pairs, key):
    return [v for k, v in pairs if k == key]


def _first(pairs, key, default=None):
    vs = _get(pairs, key)
    return vs[0] if vs else default


def _packets(path, port, tls_opts):
    cmd = ["tshark", "-n", "-r", path, "-d", f"tcp.port=={port},http2" if not tls_opts else f"tcp.port=={port},tls",
           *tls_opts, "-Y", "http2 || tcp.flags.fin==1 || tcp.flags.reset==1", "-T", "json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out, object_pairs_hook=_pairs) if out.strip() else []


def _ws_frames(data):
    """(opcode, fin, payload, end offset) of the RFC 6455 frames in data, unmasked; a cut last frame is left out."""
    out, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n, at = b1 & 0x7F, i + 2
        if n == 126:
            n, at = int.from_bytes(data[at:at + 2], "big"), at + 2
        elif n == 127:
            n, at = int.from_bytes(data[at:at + 8], "big"), at + 8
        key = b""
        if b1 & 0x80:
            key, at = data[at:at + 4], at + 4
        if at + n > len(data):
            break
        p = data[at:at + n]
        if key:
            p = bytes(c ^ key[j & 3] for j, c in enumerate(p))
        out.append((b0 & 0x0F, bool(b0 & 0x80), p, at + n))
        i = at + n
    return out


def read(out, hop_files, port, tls_port=None, keylog=None):
    """{"h2:<path>": {"c2s"/"s2c": counts, "digests": {...}, "events": {"client"/"server": [...]},
    "stream": id}} for every extended CONNECT stream (:protocol websocket) in the hop's capture.
    counts are truth.py's {"data", "frames", "ping", "pong", "close"}; events are (time, kind, code)
    with kind close (a close frame), fin (END_STREAM, or the TCP connection's FIN) or rst
    (RST_STREAM, or TCP RST), as truth.py's hop_ending wants them."""
    tls_opts = []
    if tls_port:
        tls_opts = ["-o", "tls.keylog_file:" + os.path.abspath(os.path.join(out, keylog))]
        port = tls_port
    files = sorted(glob.glob(os.path.join(out, hop_files)))
    with tempfile.TemporaryDirectory() as td:
        path = files[0]
        if len(files) > 1:
            path = os.path.join(td, "merged.pcap")
            subprocess.run(["mergecap", "-F", "pcap", "-w", path] + files, check=True)
        packets = _packets(path, port, tls_opts)
    streams = {}  # (tcp stream, h2 stream) -> state
    tcp_end = {}  # tcp stream -> [(t, kind, None, side)]
    for pkt in packets:
        layers = _first(_first(pkt, "_source"), "layers")
        tcp = _first(layers, "tcp")
        if tcp is None or "tcp.analysis.retransmission" in json.dumps(tcp):
            continue
        t = float(_first(_first(layers, "frame"), "frame.time_epoch"))
        tstream = _first(tcp, "tcp.stream")
        side = "server" if int(_first(tcp, "tcp.srcport")) == port else "client"
        flags = _first(tcp, "tcp.flags_tree", [])
        if _first(flags, "tcp.flags.fin") in ("1", "True"):
            tcp_end.setdefault(tstream, []).append((t, "fin", None, side))
        if _first(flags, "tcp.flags.reset") in ("1", "True"):
            tcp_end.setdefault(tstream, []).append((t, "rst", None, side))
        for h2 in _get(layers, "http2"):
            for fr in _get(h2, "http2.stream"):
                if not isinstance(fr, list) or _first(fr, "http2.streamid") is None:
                    continue
                sid, typ = int(_first(fr, "http2.streamid")), int(_first(fr, "http2.type", -1))
                fl = _first(fr, "http2.flags_tree", [])
                st = streams.setdefault((tstream, sid), {"headers": {}, "data": {"client": b"", "server": b""},
                                                          "ends": {"client": [], "server": []},
                                                          "events": {"client": [], "server": []}, "t": t})
                if typ == 1:
                    for hd in _get(fr, "http2.header"):
                        st["headers"].setdefault(side, {})[_first(hd, "http2.header.name")] = _first(hd, "http2.header.value")
                if typ == 0:
                    raw = _first(fr, "http2.data.data", "")
                    st["data"][side] += bytes.fromhex(raw.replace(":", "")) if raw else b""
                    st["ends"][side].append((len(st["data"][side]), t))
                if typ in (0, 1) and _first(fl, "http2.flags.end_stream") in ("1", "True"):
                    st["events"][side].append((t, "fin", None))
                if typ == 3:
                    st["events"][side].append((t, "rst", None))
    res = {}
    for (tstream, sid), st in sorted(streams.items(), key=lambda kv: kv[1]["t"]):
        req = st["headers"].get("client", {})
        if req.get(":method") != "CONNECT" or req.get(":protocol") != "websocket":
            continue
        entry = {"stream": sid, "events": st["events"], "digests": {}}
        for d, sender in (("c2s", "client"), ("s2c", "server")):
            c = {"data": 0, "frames": 0, "ping": 0, "pong": 0, "close": 0}
            digests, parts = [], []
            for op, fin, p, end in _ws_frames(st["data"][sender]):
                c["frames"] += 1
                if op in (0, 1, 2):
                    parts.append(p)
                    if fin:
                        c["data"] += 1
                        digests.append(hashlib.sha256(b"".join(parts)).hexdigest())
                        parts = []
                elif op == 8:
                    c["close"] += 1
                    code = int.from_bytes(p[:2], "big") if len(p) >= 2 else None
                    t = next(t for n, t in st["ends"][sender] if n >= end)
                    st["events"][sender].append((t, "close", code))
                elif op == 9:
                    c["ping"] += 1
                elif op == 10:
                    c["pong"] += 1
            entry[d], entry["digests"][d] = c, digests
        for (t, kind, code, side) in tcp_end.get(tstream, []):
            st["events"][side].append((t, kind, code))
        for evs in st["events"].values():
            evs.sort(key=lambda e: e[0])
        res["h2:" + req.get(":path", "")] = entry
    return res
