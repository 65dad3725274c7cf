#!/usr/bin/python3
# Generates the WebSocket exchanges captured into ws-*.pcap (see README.md).
# Usage: gen_capture.py PORT deflate|plain
import asyncio, sys
import websockets

port = int(sys.argv[1])
compression = "deflate" if sys.argv[2] == "deflate" else None

async def echo(ws):
    async for msg in ws:
        await ws.send(msg)

async def client():
    uri = f"ws://127.0.0.1:{port}/chat?room=1"
    async with websockets.connect(uri, compression=compression, max_size=2**22,
                                  extra_headers={"Cookie": "session=secret", "X-Request-Id": "req-42"}) as ws:
        for i in range(20):
            await ws.send('{"seq":%d,"type":"tick","body":"%s"}' % (i, "abc" * (i * 7)))
            await ws.recv()
        await ws.send(bytes(range(256)) * 8)               # binary, 2 KiB
        await ws.recv()
        await ws.send(["part-one ", "part-two ", "part-three"])  # fragmented text message
        await ws.recv()
        big = 40000 if compression else 1000                # 16-bit length on the wire
        await ws.send("x" * big)
        await ws.recv()
        await ws.send(("%08d " % 7) * (9000 if compression else 7400))  # 64-bit length
        await ws.recv()
        pong = await ws.ping(b"are you there")
        await pong
        await ws.send("")
        await ws.recv()
        await ws.close(code=1000, reason="done here")

async def main():
    async with websockets.serve(echo, "127.0.0.1", port, compression=compression, max_size=2**22):
        await client()

asyncio.run(main())
