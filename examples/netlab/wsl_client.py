#!/usr/bin/python3
"""Lab WebSocket client: opens --conns connections to ws://HOST:PORT/chat/<conn> (wss:// with
--cafile: TLS, verifying the lab's self-signed certificate, secrets appended to --keylog in the
NSS key log format, as SSLKEYLOGFILE would), sends its client-to-server schedule on each, waits
for the server's schedule, then closes with 1000."""

import argparse
import asyncio
import ssl

import websockets

import wsl_msgs
import wsl_patch
import wsl_peer


def conn_path(paths, conn):
    """The request path of connection `conn`: the templates ({conn} replaced) taken in turn."""
    return paths[(conn - 1) % len(paths)].format(conn=conn)


async def one(args, log, conn):
    await asyncio.sleep(args.stagger * (conn - 1))
    wsl_patch.KEY.set(wsl_msgs.conn_key(args.scenario, conn))
    scheme = "wss" if args.tls else "ws"
    uri = f"{scheme}://{args.host}:{args.port}" + conn_path(args.path, conn)
    tls = dict(ssl=args.tls, server_hostname=args.server_name) if args.tls else {}
    try:
        ws = await websockets.connect(
            uri, **tls, compression="deflate" if args.compress == "on" else None,
            ping_interval=None, close_timeout=2, max_size=2**20,
            extra_headers={"X-Wsl-Conn": str(conn)}, user_agent_header="wspath-netlab",
        )
    except Exception as e:  # noqa: BLE001 - logged for truth.json
        log("connect_failed", conn=conn, error=repr(e))
        return
    so = ws.transport.get_extra_info("ssl_object")
    if so is not None:
        log("tls", conn=conn, version=so.version(), cipher=so.cipher()[0])
    log("open", conn=conn, key=ws.request_headers["Sec-WebSocket-Key"], path=ws.path,
        local="%s:%d" % ws.local_address[:2], remote="%s:%d" % ws.remote_address[:2],
        extensions=ws.response_headers.get("Sec-WebSocket-Extensions", ""))
    done = asyncio.Event()
    recv = asyncio.create_task(wsl_peer.receive_schedule(ws, log, args, conn, "s2c", done))
    await wsl_peer.send_schedule(ws, log, args, conn, "c2s", deaf_idle=args.deaf_idle)
    try:
        await asyncio.wait_for(done.wait(), args.deadline)
    except asyncio.TimeoutError:
        log("deadline", conn=conn)
    log("close_start", conn=conn)
    await ws.close(1000, "done")
    await recv


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--scenario", required=True, help="seeds the Sec-WebSocket-Keys")
    p.add_argument("--conns", type=int, default=3)
    p.add_argument("--stagger", type=float, default=0.1, help="seconds between connection starts")
    p.add_argument("--deadline", type=float, default=3, help="seconds to wait for the server's messages")
    p.add_argument("--cafile", help="speak wss://, trusting this PEM certificate")
    p.add_argument("--server-name", default="chat.netlab.test", help="TLS server name (SNI, certificate check)")
    p.add_argument("--keylog", help="append TLS secrets to this file (NSS key log format)")
    p.add_argument("--path", action="append", default=[],
                   help="request path template ({conn}: connection number); several are used in turn "
                        "(default /chat/{conn})")
    p.add_argument("--deaf-idle", action="store_true",
                   help="stop reading a connection while it idles (--idle) until the next message is sent: "
                        "a close by the path meanwhile goes unnoticed, and that message goes into it")
    wsl_peer.add_schedule_args(p)
    args = p.parse_args()
    args.path = args.path or ["/chat/{conn}"]
    args.tls = None
    if args.cafile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the certificate and the name
        ctx.load_verify_locations(args.cafile)
        if args.keylog:
            ctx.keylog_filename = args.keylog
        args.tls = ctx
    wsl_patch.install()
    log = wsl_peer.Log(args.log, "client")
    await asyncio.gather(*(one(args, log, c) for c in range(1, args.conns + 1)))


if __name__ == "__main__":
    asyncio.run(main())
