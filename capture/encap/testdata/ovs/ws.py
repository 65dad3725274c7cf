# ws.py server|client: a WebSocket echo server on 10.9.1.2:8765, or a client sending 10 messages.
import asyncio, sys, websockets
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def server():
    async with websockets.serve(echo, "10.9.1.2", 8765, compression=None):
        await asyncio.sleep(8)
async def client():
    async with websockets.connect("ws://10.9.1.2:8765/mirror", compression=None) as ws:
        for i in range(10):
            await ws.send(f"message {i} " + "x" * (i * 150))
            print(await ws.recv() == f"message {i} " + "x" * (i * 150), flush=True)
asyncio.run(server() if sys.argv[1] == "server" else client())
