#!/usr/bin/python3
"""Lab WebSocket relay (the ingress of the app-drop scenario): an application-level proxy.

It terminates the client's WebSocket (what haproxy forwards to 10.231.3.2:80) and, for each
connection, opens a WebSocket of its own to the server (same request path, X-Wsl-Conn passed
on) and forwards every data message both ways, in order, one task per direction. Unlike nginx it
does not tunnel bytes: the upstream handshake is new (its own Sec-WebSocket-Key,
base64(sha256("wspath-netlab/<scenario>/upstream/<conn>")[:16]) through wsl_patch, so runs are
reproducible), each side negotiates permessage-deflate on its own, fragmented messages go on as
one frame, and pings are answered by the relay's library at each side, never forwarded.

--drop conn:c2s:idx makes it discard that client-to-server data message (counted from 0 per
connection) silently: TCP delivered and acknowledged it, the application never forwards it.
--alter conn:dir:idx:how makes it forward that message changed, as a buggy or meddling proxy
would: "flip" swaps the case of one ASCII letter in the middle of a text payload (one byte,
same size; XOR 0x01 of the middle byte for binary), "filter" rewrites a numbered message's text
field as a content filter would ("[filtered]", a different size).
Every forwarded, altered and dropped message is logged as one JSON line (wsl_peer.Log) with its
SHA-256 (altered ones with both digests, both sizes and the first differing byte).
"""

import argparse
import asyncio
import hashlib
import json
import signal

import websockets

import wsl_msgs
import wsl_patch
import wsl_peer


def digest(data):
    raw = data if isinstance(data, bytes) else data.encode()
    return hashlib.sha256(raw).hexdigest()


def sendable(code):
    """The close code to pass on: the one received, unless it may not be sent (1005, 1006, 1015)."""
    return 1000 if code in (None, 1005, 1006, 1015) else code


def raw(data):
    return data if isinstance(data, bytes) else data.encode()


def alter(data, how):
    """The message as the relay's fault forwards it (see --alter)."""
    if how == "filter":
        body = json.loads(data)
        body["text"] = "[filtered]"
        return json.dumps(body, separators=(",", ":"))
    if isinstance(data, bytes):
        i = len(data) // 2
        return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
    i = next(k for k in range(len(data) // 2, len(data)) if data[k].isascii() and data[k].isalpha())
    return data[:i] + data[i].swapcase() + data[i + 1:]


def first_difference(a, b):
    a, b = raw(a), raw(b)
    return next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))


async def pump(src, dst, log, conn, direction, drops, alters):
    """Forward data messages from src to dst until src closes, skipping the indexes in drops and
    changing those in alters."""
    idx = 0
    try:
        async for data in src:
            if (conn, direction, idx) in drops:
                log("dropped", conn=conn, dir=direction, idx=idx, sha256=digest(data))
            elif (conn, direction, idx) in alters:
                out = alter(data, alters[(conn, direction, idx)])
                await dst.send(out)
                log("altered", conn=conn, dir=direction, idx=idx, how=alters[(conn, direction, idx)],
                    sha256=digest(data), length=len(raw(data)), sha256_sent=digest(out), length_sent=len(raw(out)),
                    first_difference=first_difference(data, out))
            else:
                await dst.send(data)
                log("forwarded", conn=conn, dir=direction, idx=idx, sha256=digest(data))
            idx += 1
    except websockets.ConnectionClosed:
        pass


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", required=True, help="address to listen on")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--upstream", required=True, help="server host:port")
    p.add_argument("--scenario", required=True, help="seeds the upstream Sec-WebSocket-Keys")
    p.add_argument("--compress", default="on", choices=["on", "off"])
    p.add_argument("--drop", action="append", default=[], help="conn:c2s:idx (or conn:s2c:idx) to discard")
    p.add_argument("--alter", action="append", default=[],
                   help="conn:dir:idx:how (how: flip or filter) to forward changed")
    p.add_argument("--log", required=True)
    args = p.parse_args()
    drops = wsl_msgs.parse_tripwires(args.drop)
    alters = {}
    for spec in args.alter:
        c, d, i, how = spec.split(":")
        alters[(int(c), d, int(i))] = how
    wsl_patch.install()
    log = wsl_peer.Log(args.log, "relay")
    comp = "deflate" if args.compress == "on" else None

    async def handler(down):
        try:
            conn = int(down.path.rsplit("/", 1)[1])
        except (IndexError, ValueError):
            await down.close(1008, "bad path")
            return
        wsl_patch.KEY.set(wsl_msgs.conn_key(args.scenario + "/upstream", conn))
        try:
            up = await websockets.connect(
                f"ws://{args.upstream}{down.path}", compression=comp, ping_interval=None, close_timeout=2,
                max_size=2**20, extra_headers={"X-Wsl-Conn": str(conn)}, user_agent_header="wsl-relay")
        except Exception as e:  # noqa: BLE001 - logged, the client sees 1011
            log("upstream_failed", conn=conn, error=repr(e))
            await down.close(1011, "upstream failed")
            return
        log("open", conn=conn, down_key=down.request_headers.get("Sec-WebSocket-Key"),
            up_key=up.request_headers["Sec-WebSocket-Key"], down_local="%s:%d" % down.local_address[:2],
            up_local="%s:%d" % up.local_address[:2])
        c2s = asyncio.create_task(pump(down, up, log, conn, "c2s", drops, alters))
        s2c = asyncio.create_task(pump(up, down, log, conn, "s2c", drops, alters))
        await asyncio.wait([c2s, s2c], return_when=asyncio.FIRST_COMPLETED)
        # One side closed: close the other with the same code, then let both pumps finish.
        if down.closed:
            await up.close(sendable(down.close_code), down.close_reason or "")
        else:
            await down.close(sendable(up.close_code), up.close_reason or "")
        await asyncio.gather(c2s, s2c)
        log("closed", conn=conn, down_code=down.close_code, up_code=up.close_code)

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, args.host, args.port, compression=comp, ping_interval=None,
                                close_timeout=2, max_size=2**20):
        log("listening", port=args.port)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
