#!/usr/bin/python3
"""Lab TCP echo server behind websockify (the bridge scenarios): echoes every byte it receives on
each connection, and logs per connection, as JSON lines in wsl_peer.Log's format, every chunk it
received and echoed (hex), so that truth.py can tell which of the client's messages reached the
TCP side of the bridge and in what order. The connection number ("tcp") counts connections in
accept order; truth.py maps them to the client's connections by their bytes."""

import argparse
import asyncio

import wsl_peer


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5901)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    log = wsl_peer.Log(args.log, "echo")
    count = 0

    async def serve(reader, writer):
        nonlocal count
        count += 1
        n = count
        peer = writer.get_extra_info("peername")
        log("tcp_open", tcp=n, remote="%s:%d" % peer[:2])
        while True:
            try:
                b = await reader.read(65536)
            except ConnectionError:
                break
            if not b:
                break
            writer.write(b)
            log("tcp_data", tcp=n, hex=b.hex())
        log("tcp_closed", tcp=n)
        writer.close()

    server = await asyncio.start_server(serve, args.host, args.port)
    log("listening", port=args.port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
