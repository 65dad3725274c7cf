#!/usr/bin/python3
"""Bulk WebSocket echo traffic for perf.sh: `serve` echoes every message back; `send` opens
--conns connections and sends --messages binary messages in all (spread evenly), each of a size
drawn from --sizes (min:max, log-uniform: many small, some large), keeping up to --window
messages in flight per connection, and checks every echo. No permessage-deflate, so the capture
size follows the message sizes. Sizes come from a seeded generator: the same arguments make the
same messages, whatever the machine."""

import argparse
import asyncio
import math
import random
import sys

import websockets


async def serve(args):
    async def echo(ws, _path=None):
        async for m in ws:
            await ws.send(m)

    async with websockets.serve(echo, args.host, args.port, compression=None, max_size=None,
                                max_queue=64):
        print("listening", flush=True)
        await asyncio.Future()


def sizes(rng, lo, hi, n):
    a, b = math.log(lo), math.log(hi + 1)
    return [int(math.exp(rng.uniform(a, b))) for _ in range(n)]


async def one(args, conn, n):
    rng = random.Random(args.seed * 1000 + conn)
    lo, hi = (int(x) for x in args.sizes.split(":"))
    want = [rng.randbytes(s) for s in sizes(rng, lo, hi, n)]
    uri = f"ws://{args.host}:{args.port}/bulk/{conn}"
    async with websockets.connect(uri, compression=None, max_size=None, max_queue=64) as ws:
        window = asyncio.Semaphore(args.window)

        async def sender():
            for m in want:
                await window.acquire()
                await ws.send(m)

        task = asyncio.create_task(sender())
        for i, m in enumerate(want):
            got = await ws.recv()
            window.release()
            if got != m:
                raise SystemExit(f"conn {conn}: echo {i} differs")
        await task
    return n


async def send(args):
    per = [args.messages // args.conns + (1 if c < args.messages % args.conns else 0)
           for c in range(args.conns)]
    done = await asyncio.gather(*(one(args, c + 1, n) for c, n in enumerate(per)))
    print(f"sent and got back {sum(done)} messages on {args.conns} connections", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("mode", choices=["serve", "send"])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--conns", type=int, default=40)
    p.add_argument("--messages", type=int, default=1000, help="client messages in all (each is echoed)")
    p.add_argument("--sizes", default="20:400", help="min:max payload bytes")
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    asyncio.run(serve(args) if args.mode == "serve" else send(args))


if __name__ == "__main__":
    sys.exit(main())
