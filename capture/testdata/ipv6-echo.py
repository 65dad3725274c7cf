import asyncio, sys, websockets
async def echo(ws, path=None):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "::1", 18765):
        async with websockets.connect("ws://[::1]:18765/v6") as c:
            for i in range(5):
                await c.send('{"seq":%d}' % i); await c.recv()
asyncio.run(main())
