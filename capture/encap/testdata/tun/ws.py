# ws.py server|client URL...: a WebSocket echo server on port 8765 of every address, or a client
# that sends ten messages on a connection to each URL in turn and checks the echoes.
import asyncio, sys, websockets
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def server():
    async with websockets.serve(echo, None, 8765, compression=None):
        await asyncio.sleep(float(sys.argv[2]))
async def client(url):
    async with websockets.connect(url, compression=None) as ws:
        for i in range(10):
            m = f"{url} message {i} " + "x" * (i * 150)
            await ws.send(m)
            print(await ws.recv() == m, flush=True)
async def clients():
    for url in sys.argv[2:]:
        await client(url)
asyncio.run(server() if sys.argv[1] == "server" else clients())
