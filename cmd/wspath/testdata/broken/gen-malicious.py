#!/usr/bin/env python3
"""Serve one WebSocket connection on 127.0.0.1:PORT whose server sends hostile frames, for a
capture of them (see make.sh). Plain sockets, so that the frames are exactly these bytes."""
import base64, hashlib, socket, sys, threading, zlib

PORT, KIND = int(sys.argv[1]), sys.argv[2]  # KIND: reserved-opcode, length-2p63, long-control, deflate-bomb
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = base64.b64encode(hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()

def hdr(b0, n):
    if n < 126:
        return bytes([b0, n])
    if n < 65536:
        return bytes([b0, 126]) + n.to_bytes(2, "big")
    return bytes([b0, 127]) + n.to_bytes(8, "big")

def bomb(n):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = b"".join(c.compress(bytes(1 << 20)) for _ in range(n >> 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]

def server(ls):
    s, _ = ls.accept()
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: " + ACCEPT + "\r\nSec-WebSocket-Extensions: permessage-deflate; "
               "server_no_context_takeover; client_no_context_takeover\r\n\r\n").encode())
    s.sendall(hdr(0x81, 5) + b"hello")                          # a good message first
    if KIND == "reserved-opcode":
        s.sendall(hdr(0x83, 8) + b"reserved")                   # reserved data opcode 0x3
    elif KIND == "long-control":
        s.sendall(hdr(0x89, 200) + b"p" * 200)                  # ping longer than 125 bytes
    elif KIND == "deflate-bomb":
        b = bomb(100 << 20)                                      # 100 MiB of zeros, ~100 KB
        s.sendall(hdr(0xc2, len(b)) + b)                        # RSV1: compressed
    elif KIND == "length-2p63":
        s.sendall(bytes([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]) + b"x" * 32)  # length 2^63
    s.sendall(hdr(0x81, 5) + b"after")                          # a good message after
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", PORT))
ls.listen(1)
t = threading.Thread(target=server, args=(ls,))
t.start()
c = socket.create_connection(("127.0.0.1", PORT))
c.sendall(("GET /hostile HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
while c.recv(65536):
    pass
c.close()
t.join()
