"""Plain TCP echo server and WebSocket echo server used behind haproxy (see ../README.md)."""
import asyncio, sys

async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()

async def main(kind, port):
    if kind == "ws":
        import websockets
        async def wsecho(ws, path=None):
            async for m in ws:
                await ws.send(m)
        async with websockets.serve(wsecho, "127.0.0.1", port):
            await asyncio.Future()
    srv = await asyncio.start_server(echo, "127.0.0.1", port)
    async with srv:
        await srv.serve_forever()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
