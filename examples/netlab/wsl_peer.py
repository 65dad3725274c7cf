"""What both ends of a lab connection do: send a deterministic schedule, receive and check the
other side's schedule, and log every event as one JSON line."""

import asyncio
import hashlib
import json
import time

import websockets

import wsl_msgs


class Log:
    """Appends JSON lines to a file, flushed per line so a killed process loses nothing."""

    def __init__(self, path, side):
        self.f = open(path, "a", buffering=1)
        self.side = side

    def __call__(self, ev, **kw):
        kw.update(ev=ev, side=self.side, t=round(time.time(), 6))
        self.f.write(json.dumps(kw, sort_keys=True) + "\n")


def add_schedule_args(p):
    p.add_argument("--count", type=int, default=12, help="data messages per connection and direction")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between messages")
    p.add_argument("--mix", default="chat", choices=["chat", "chatter", "upload", "beats"])
    p.add_argument("--big", type=int, default=3000, help="size of the large message's filler")
    p.add_argument("--compress", default="on", choices=["on", "off"])
    p.add_argument("--tripwire", action="append", default=[], help="conn:dir:idx")
    p.add_argument("--idle", action="append", default=[], help="conn:after_idx:seconds")
    p.add_argument("--echo", action="store_true",
                   help="the server echoes: server-to-client messages are the client's, echoed back")
    p.add_argument("--binary", action="store_true",
                   help="send text payloads as binary messages (websockify takes no text frames)")
    p.add_argument("--ping-fragments", type=int, default=0,
                   help="pings sent between the fragments of a fragmented message (control frames inside it)")
    p.add_argument("--log", required=True)


def tcp_transport(ws):
    """The TCP transport of a connection: for wss://, the one under asyncio's TLS layer, which
    would otherwise take in the peer's close_notify and FIN while the application is not reading
    and then silently discard what the application writes."""
    t = ws.transport
    return getattr(getattr(t, "_ssl_protocol", None), "_transport", None) or t


async def pinged_fragments(ws, log, m, n, conn, direction):
    """The fragments of message m, with n pings sent between each two (RFC 6455 5.4: control frames
    may be injected in the middle of a fragmented message)."""
    for i, f in enumerate(m.fragments):
        if i > 0:
            for k in range(n):
                await ws.ping(f"frag-{direction}-c{conn}-m{m.idx}-{i}-{k}".encode())
                log("ping", conn=conn, dir=direction, idx=m.idx)
        yield f


async def send_schedule(ws, log, args, conn, direction, deaf_idle=False):
    """Send this side's messages; after every 4th, a ping. Stops at the first failure. deaf_idle:
    stop reading the socket while idle and until the next message is sent, as a busy or
    backgrounded client does, so a close by the peer while idle goes unnoticed until then."""
    trips = wsl_msgs.parse_tripwires(args.tripwire)
    idles = wsl_msgs.parse_idles(args.idle)
    msgs = wsl_msgs.schedule(args.mix, conn, direction, args.count, args.big, trips)
    deaf = False
    for m in msgs:
        try:
            if m.fragments and getattr(args, "ping_fragments", 0):
                await ws.send(pinged_fragments(ws, log, m, args.ping_fragments, conn, direction))
            elif m.fragments:
                await ws.send(iter(m.fragments))
            elif getattr(args, "binary", False) and isinstance(m.payload, str):
                await ws.send(m.payload.encode())
            else:
                await ws.send(m.payload)
            log("send", conn=conn, dir=direction, idx=m.idx)
            if deaf:
                # Written to the socket; now learn what happened meanwhile.
                tcp_transport(ws).resume_reading()
                deaf = False
                log("reading_again", conn=conn, dir=direction)
            if m.idx % 4 == 3:
                await ws.ping(wsl_msgs.ping_payload(conn, direction, m.idx))
                log("ping", conn=conn, dir=direction, idx=m.idx)
        except websockets.ConnectionClosed as e:
            log("send_failed", conn=conn, dir=direction, idx=m.idx, error=str(e))
            return
        idle = idles.get(conn)
        if idle and idle[0] == m.idx:
            log("idle", conn=conn, dir=direction, seconds=idle[1], deaf=deaf_idle)
            if deaf_idle:
                tcp_transport(ws).pause_reading()
                deaf = True
            await asyncio.sleep(idle[1])
        else:
            await asyncio.sleep(args.interval)
    log("sent_all", conn=conn, dir=direction)


async def receive_schedule(ws, log, args, conn, direction, done):
    """Receive the peer's messages in order, checking each against the schedule."""
    trips = wsl_msgs.parse_tripwires(args.tripwire)
    want = wsl_msgs.expected(args.mix, conn, direction, args.count, args.big, trips, args.echo)
    n = 0
    try:
        async for data in ws:
            raw = data if isinstance(data, bytes) else data.encode()
            ok = n < len(want) and raw == want[n].raw()
            log("recv", conn=conn, dir=direction, idx=n, ok=ok, sha256=hashlib.sha256(raw).hexdigest())
            n += 1
            if n == len(want):
                done.set()
    except websockets.ConnectionClosed:
        pass
    log("closed", conn=conn, code=ws.close_code, reason=ws.close_reason, received=n)
    done.set()
