#!/usr/bin/python3
"""Lab WebSocket server: for each connection to /chat/<conn>, pushes its server-to-client
schedule and checks the client's messages. It never starts the closing handshake.

--stall conn:delay:seconds (the backpressure scenario): `delay` seconds after connection `conn`
opens, the server stops reading its socket (asyncio transport.pause_reading(), renewed every
20 ms in case the stream reader resumes it) for `seconds`, then reads again. The kernel's receive
buffer fills and TCP advertises a zero window; nothing is lost."""

import argparse
import asyncio
import signal

import websockets

import wsl_patch
import wsl_peer


async def stall_reading(ws, log, conn, delay, seconds):
    """Stop reading the connection's socket for `seconds`, starting `delay` seconds from now."""
    await asyncio.sleep(delay)
    log("stall_start", conn=conn, seconds=seconds)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        ws.transport.pause_reading()
        await asyncio.sleep(min(0.02, max(0.0, end - loop.time())))
    ws.transport.resume_reading()
    log("stall_end", conn=conn)


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--stall", action="append", default=[], help="conn:delay:seconds (stop reading)")
    wsl_peer.add_schedule_args(p)
    args = p.parse_args()
    stalls = {}
    for spec in args.stall:
        c, delay, sec = spec.split(":")
        stalls[int(c)] = (float(delay), float(sec))
    wsl_patch.install()
    log = wsl_peer.Log(args.log, "server")

    async def handler(ws):
        try:
            conn = int(ws.path.rsplit("/", 1)[1])
        except (IndexError, ValueError):
            await ws.close(1008, "bad path")
            return
        log("open", conn=conn, key=ws.request_headers.get("Sec-WebSocket-Key"),
            local="%s:%d" % ws.local_address[:2], remote="%s:%d" % ws.remote_address[:2],
            extensions=ws.response_headers.get("Sec-WebSocket-Extensions", ""),
            forwarded_for=ws.request_headers.get("X-Forwarded-For", ""))
        stall = None
        if conn in stalls:
            stall = asyncio.create_task(stall_reading(ws, log, conn, *stalls[conn]))
        done = asyncio.Event()
        recv = asyncio.create_task(wsl_peer.receive_schedule(ws, log, args, conn, "c2s", done))
        await wsl_peer.send_schedule(ws, log, args, conn, "s2c")
        await recv
        if stall:
            stall.cancel()

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(
        handler, args.host, args.port,
        compression="deflate" if args.compress == "on" else None,
        ping_interval=None, close_timeout=2, max_size=2**20,
    ):
        log("listening", port=args.port)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
