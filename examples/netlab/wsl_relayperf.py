#!/usr/bin/python3
"""Traffic through a terminating WebSocket hop for perf-relay.sh, in three roles:

  serve   an echo server: every data message goes back as it came;
  relay   a WebSocket relay, as a gateway is: it accepts a connection and opens one of its own to
          --upstream (same path, a fresh Sec-WebSocket-Key of the library's), then forwards every
          data message both ways, in order; a close on either side closes the other;
  clients opens --conns connections to the relay, starting one every --spread ms (with at most
          --concurrency open at once, so thousands of connections need neither thousands of
          descriptors nor a burst of handshakes), sends --messages text messages on each, waiting
          for each echo and checking it byte for byte, then closes.

No permessage-deflate. Messages are "c<conn> m<i> " then letters from a generator seeded with the
connection number (20 to 200 bytes): the same arguments make the same bytes. Each role prints one
JSON line of counts when it ends (serve and relay on SIGTERM): the truth the script checks
wspath's verdicts against.
"""

import argparse
import asyncio
import json
import random
import signal
import string
import time

import websockets


def payload(conn, i):
    rng = random.Random(conn * 1000 + i)
    head = "c%d m%d " % (conn, i)
    return head + "".join(rng.choices(string.ascii_letters, k=rng.randint(max(0, 20 - len(head)), 200 - len(head))))


async def until_term():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    await stop


async def serve(args):
    counts = {"role": "server", "connections": 0, "echoed": 0}

    async def echo(ws):
        counts["connections"] += 1
        try:
            async for m in ws:
                await ws.send(m)
                counts["echoed"] += 1
        except websockets.ConnectionClosed:
            pass

    async with websockets.serve(echo, args.host, args.port, compression=None, ping_interval=None,
                                backlog=1024):
        print(json.dumps({"listening": args.port}), flush=True)
        await until_term()
    print(json.dumps(counts), flush=True)


async def pump(src, dst, counts, key):
    try:
        async for m in src:
            await dst.send(m)
            counts[key] += 1
    except websockets.ConnectionClosed:
        pass


async def relay(args):
    counts = {"role": "relay", "connections": 0, "upstream_failed": 0, "c2s": 0, "s2c": 0}

    async def handler(down):
        try:
            up = await websockets.connect("ws://%s%s" % (args.upstream, down.path), compression=None,
                                          ping_interval=None, open_timeout=60)
        except Exception:  # noqa: BLE001 - counted; the client sees 1011
            counts["upstream_failed"] += 1
            await down.close(1011, "upstream failed")
            return
        counts["connections"] += 1
        c2s = asyncio.create_task(pump(down, up, counts, "c2s"))
        s2c = asyncio.create_task(pump(up, down, counts, "s2c"))
        await asyncio.wait([c2s, s2c], return_when=asyncio.FIRST_COMPLETED)
        if down.closed:
            await up.close()
        else:
            await down.close()
        await asyncio.gather(c2s, s2c)

    async with websockets.serve(handler, args.host, args.port, compression=None, ping_interval=None,
                                backlog=1024):
        print(json.dumps({"listening": args.port}), flush=True)
        await until_term()
    print(json.dumps(counts), flush=True)


async def clients(args):
    counts = {"role": "client", "connections": args.conns, "opened": 0, "sent": 0, "echoes_ok": 0,
              "echoes_bad": 0, "failed": 0, "delivered": 0}
    slots = asyncio.Semaphore(args.concurrency)
    errors = []

    async def one(conn):
        try:
            async with websockets.connect("ws://%s/c/%d" % (args.connect, conn), compression=None,
                                          ping_interval=None, open_timeout=60, close_timeout=30) as ws:
                counts["opened"] += 1
                good = 0
                for i in range(args.messages):
                    m = payload(conn, i)
                    await ws.send(m)
                    counts["sent"] += 1
                    if await ws.recv() == m:
                        good += 1
                    else:
                        counts["echoes_bad"] += 1
                counts["echoes_ok"] += good
                if good == args.messages:
                    counts["delivered"] += 1
        except Exception as e:  # noqa: BLE001 - counted and the first few shown
            counts["failed"] += 1
            if len(errors) < 5:
                errors.append("conn %d: %r" % (conn, e))
        finally:
            slots.release()

    start = time.monotonic()
    tasks = []
    for conn in range(args.conns):
        delay = start + conn * args.spread / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        tasks.append(asyncio.create_task(one(conn)))
    await asyncio.gather(*tasks)
    counts["seconds"] = round(time.monotonic() - start, 2)
    if errors:
        counts["errors"] = errors
    print(json.dumps(counts), flush=True)
    return counts["delivered"] == args.conns


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=8080)
    r = sub.add_parser("relay")
    r.add_argument("--host", required=True)
    r.add_argument("--port", type=int, default=80)
    r.add_argument("--upstream", required=True, help="server host:port")
    c = sub.add_parser("clients")
    c.add_argument("--connect", required=True, help="relay host:port")
    c.add_argument("--conns", type=int, required=True)
    c.add_argument("--messages", type=int, default=6, help="per connection, each echoed")
    c.add_argument("--spread", type=float, default=2, help="ms between connection starts")
    c.add_argument("--concurrency", type=int, default=500, help="connections open at once, at most")
    args = p.parse_args()
    if args.role == "serve":
        asyncio.run(serve(args))
    elif args.role == "relay":
        asyncio.run(relay(args))
    else:
        raise SystemExit(0 if asyncio.run(clients(args)) else 1)


if __name__ == "__main__":
    main()
