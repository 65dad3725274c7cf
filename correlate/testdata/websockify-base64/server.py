# server.py: a TCP server on 127.0.0.1:5901 behind websockify, VNC-like in that it talks on its
# own: it echoes what it reads and, every 200 ms for 3 s, sends "tick N\n", so the TCP side keeps
# carrying traffic (and its capture keeps covering the time) after the client's direction stalls.
import asyncio

async def serve(reader, writer):
    async def ticks():
        for n in range(15):
            await asyncio.sleep(0.2)
            writer.write(b"tick %d\n" % n)
    t = asyncio.create_task(ticks())
    while b := await reader.read(65536):
        writer.write(b)
    t.cancel()
    writer.close()

async def main():
    async with await asyncio.start_server(serve, "127.0.0.1", 5901) as srv:
        await srv.serve_forever()

asyncio.run(main())
