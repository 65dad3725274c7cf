#!/usr/bin/env python3
"""wsl_echo.py: a WebSocket echo server (Debian's python3-websockets 10.x) for the probe lab.

Every data message is sent back as it came (text as text, binary as binary); each one received and
sent is logged as a JSON line, so the lab knows from the server's side which probes arrived.
"""

import argparse
import asyncio
import json
import signal
import sys
import time

import websockets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    logf = open(args.log, "a", buffering=1)

    def log(ev, **kw):
        kw.update(ev=ev, t=time.time())
        logf.write(json.dumps(kw) + "\n")

    async def handler(ws, path):
        try:
            async for msg in ws:
                head = (msg if isinstance(msg, bytes) else msg.encode())[:40]
                log("echo", path=path, size=len(msg), head=head.decode("ascii", "replace"))
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async def run():
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        async with websockets.serve(handler, args.host, args.port, compression="deflate",
                                    ping_interval=None, close_timeout=2, max_size=2**24):
            log("listening", port=args.port)
            await stop

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
