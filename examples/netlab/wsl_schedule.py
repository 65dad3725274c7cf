#!/usr/bin/python3
"""Write the lab's message schedule as JSON, for servers not written in Python (wsl_server.js).

Output: {"conns": {"<conn>": {"c2s": [msg, ...], "s2c": [msg, ...]}}, "interval": s, "idle": {...}}
where msg is {"idx", "kind", "binary", "data" (text, or base64 for binary), "fragments" (texts or
null), "tripwire" (marker or null), "ping" (payload of the ping sent after it, or null)}. The
payloads are exactly wsl_msgs' (the same digests truth.json lists)."""

import argparse
import base64
import json
import sys

import wsl_msgs
import wsl_peer


def encode(m, conn, direction):
    binary = isinstance(m.payload, bytes)
    return {
        "idx": m.idx,
        "kind": m.kind,
        "binary": binary,
        "data": base64.b64encode(m.payload).decode() if binary else m.payload,
        "fragments": m.fragments,
        "tripwire": m.tripwire,
        "ping": wsl_msgs.ping_payload(conn, direction, m.idx).decode() if m.idx % 4 == 3 else None,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--conns", type=int, required=True)
    p.add_argument("--out", required=True, help="JSON file to write")
    wsl_peer.add_schedule_args(p)
    args = p.parse_args()
    trips = wsl_msgs.parse_tripwires(args.tripwire)
    out = {"conns": {}, "interval": args.interval, "compress": args.compress == "on",
           "idle": {str(c): list(v) for c, v in wsl_msgs.parse_idles(args.idle).items()}}
    for conn in range(1, args.conns + 1):
        out["conns"][str(conn)] = {
            d: [encode(m, conn, d) for m in wsl_msgs.schedule(args.mix, conn, d, args.count, args.big, trips)]
            for d in (wsl_msgs.C2S, wsl_msgs.S2C)
        }
    with open(args.out, "w") as f:
        json.dump(out, f, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
