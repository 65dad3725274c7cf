"""What a socket.io connection really carries, read from the captures with tshark (truth.py
--socketio).

socket.io runs on engine.io, which sends its own packets as WebSocket data messages: the open
packet ("0{...}"), its heartbeat ("2" ping from the server, "3" pong from the client), socket.io's
connect ("40") and disconnect ("41"), and events ("42[...]"; an event with binary data is a
"451-[...]" text message followed by the bytes as a binary message). How many heartbeats go out
depends on timing, so the truth lists every data message as it is on the wire, hop by hop, and
checks it against the two applications' logs.
"""

import glob
import hashlib
import json
import os
import subprocess
import tempfile

EIO = {"0": "engine.io open", "1": "engine.io close", "2": "engine.io ping", "3": "engine.io pong",
       "4": "engine.io message", "5": "engine.io upgrade", "6": "engine.io noop"}
SIO = {"0": "socket.io connect", "1": "socket.io disconnect", "2": "socket.io event", "3": "socket.io ack",
       "4": "socket.io connect_error", "5": "socket.io binary event", "6": "socket.io binary ack"}


def kind(opcode, payload):
    """What an engine.io/socket.io data message is, from its opcode and first bytes."""
    if opcode == 2:
        return "socket.io binary attachment"
    t = payload[:2].decode("ascii", "replace")
    if t[:1] == "4" and len(t) == 2:
        return SIO.get(t[1], "engine.io message")
    return EIO.get(t[:1], "other")


def hop_messages(path, ports=(8080, 8765)):
    """{key: {"c2s"/"s2c": [(opcode, payload bytes), ...]}} and a list of problems: every
    WebSocket data message tshark finds in the capture, in order, retransmissions excluded."""
    cmd = ["tshark", "-n", "-r", path]
    for p in ports:
        cmd += ["-d", f"tcp.port=={p},http"]
    cmd += ["-Y", "websocket || http.sec_websocket_key", "-T", "json", "-e", "tcp.stream",
            "-e", "http.sec_websocket_key", "-e", "tcp.analysis.retransmission", "-e", "websocket.opcode",
            "-e", "websocket.fin", "-e", "websocket.mask", "-e", "websocket.payload.text", "-e", "data.data",
            "-e", "websocket.payload_length", "-e", "websocket.payload_length_ext_16",
            "-e", "websocket.payload_length_ext_64"]
    pkts = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout or "[]")
    keys, out, problems, partial = {}, {}, [], {}
    for p in pkts:
        f = p["_source"]["layers"]
        stream = f.get("tcp.stream", [""])[0]
        if f.get("http.sec_websocket_key"):
            keys[stream] = f["http.sec_websocket_key"][0]
        if f.get("tcp.analysis.retransmission") or not f.get("websocket.opcode"):
            continue
        texts, datas = list(f.get("websocket.payload.text", [])), list(f.get("data.data", []))
        lens = [int(x) for x in f.get("websocket.payload_length", [])]
        ext16 = [int(x) for x in f.get("websocket.payload_length_ext_16", [])]
        ext64 = [int(x) for x in f.get("websocket.payload_length_ext_64", [])]
        for op, fin, mask, ln in zip(f["websocket.opcode"], f["websocket.fin"], f["websocket.mask"], lens):
            op = int(op)
            if ln == 126:
                ln = ext16.pop(0) if ext16 else -1
            elif ln == 127:
                ln = ext64.pop(0) if ext64 else -1
            if op in (0, 1, 2):
                if op == 2 or (op == 0 and partial.get(stream, (1,))[0] == 2):
                    body = bytes.fromhex(datas.pop(0)) if datas else b""
                else:
                    body = texts.pop(0).encode() if texts else b""
                if len(body) != ln:
                    problems.append(f"{path} stream {stream}: frame payload {len(body)} bytes, header says {ln}")
                first, acc = partial.pop(stream, (op, b""))
                if fin not in ("1", "True"):
                    problems.append(f"{path} stream {stream}: a fragmented message (not expected from ws)")
                    partial[stream] = (first, acc + body)
                    continue
                d = "c2s" if mask in ("1", "True") else "s2c"
                key = keys.get(stream, "stream-" + stream)
                out.setdefault(key, {"c2s": [], "s2c": []})[d].append((first, acc + body))
    return out, problems


def wire(out_dir, hops, files):
    """hop_messages for every hop (files: {hop: glob}; several files are merged with mergecap)."""
    res, problems = {}, []
    for hop in hops:
        paths = sorted(glob.glob(os.path.join(out_dir, files[hop])))
        with tempfile.TemporaryDirectory() as td:
            path = paths[0]
            if len(paths) > 1:
                path = os.path.join(td, "merged.pcap")
                subprocess.run(["mergecap", "-F", "pcap", "-w", path] + paths, check=True)
            res[hop], p = hop_messages(path)
        problems += p
    return res, problems


def describe(msgs):
    """truth.json's message list for one direction: what the wire carried, in order."""
    return [{"index": i, "kind": kind(op, body), "opcode": "binary" if op == 2 else "text", "length": len(body),
             "sha256": hashlib.sha256(body).hexdigest(), "frames": 1, "sent": True, "received": True}
            for i, (op, body) in enumerate(msgs)]


def events(msgs):
    """The "chat" event payloads in a direction's messages, in order: str for text events, bytes
    for binary ones (a "451-" message and its attachment), in the form socket.io handed them over."""
    out = []
    pending = None
    for op, body in msgs:
        if op == 2 and pending is not None:
            out.append(body)
            pending = None
            continue
        t = body.decode("utf-8", "replace")
        if t.startswith("42"):
            name, data = json.loads(t[2:])
            if name == "chat":
                out.append(data)
        elif t.startswith("451-"):
            pending = t
    return out
