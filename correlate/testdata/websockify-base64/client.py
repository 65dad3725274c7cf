# client.py: a WebSocket client speaking websockify's "base64" subprotocol to ws://127.0.0.1:8765/:
# twelve messages, each the base64 text of one chunk of bytes (message 6 carries the marker the
# namespace's iptables drops on the TCP side), 50 ms apart, without waiting for the echoes; then
# what came back (base64 text too: the echoes and the server's ticks) for 3 s, and a normal close.
import asyncio, base64, json, sys, websockets

async def main():
    async with websockets.connect("ws://127.0.0.1:8765/", subprotocols=["base64"], compression=None) as ws:
        assert ws.subprotocol == "base64", ws.subprotocol
        got = []
        async def recv():
            async for m in ws:
                got.append(len(base64.b64decode(m)))
        r = asyncio.create_task(recv())
        for i in range(12):
            chunk = (f"wsl-b64-m{i} " + ("wsl-b64-drop " if i == 6 else "") + "x" * (i * 97 + i % 3)).encode()
            await ws.send(base64.b64encode(chunk).decode())
            print(json.dumps({"sent": i, "bytes": len(chunk)}), flush=True)
            await asyncio.sleep(0.05)
        await asyncio.sleep(3)
        r.cancel()
        print(json.dumps({"received_bytes": got}), flush=True)

asyncio.run(main())
