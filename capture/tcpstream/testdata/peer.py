#!/usr/bin/env python3
"""Test peer for the tcpstream captures: 'server ADDR PORT' or 'client ADDR PORT N'.

The client sends N bytes where byte i is i % 251, half-closes, and reads the answer. The server
reads to EOF and answers "got N\n", then closes.
"""
import socket
import sys

role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if role == "server":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    c, _ = ls.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.sendall(b"got %d\n" % n)
    c.close()
else:
    n = int(sys.argv[4])
    data = bytes(i % 251 for i in range(n))
    c = socket.create_connection((addr, port))
    for i in range(0, n, 1000):
        c.sendall(data[i:i + 1000])
    c.shutdown(socket.SHUT_WR)
    print(c.recv(100).decode().strip())
    c.close()
