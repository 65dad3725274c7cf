"""Prints what tshark finds in a capture, for the tests to compare with (see ../README.md).

usage: expect.py capture keylog
One line per TCP stream and direction (0 client to server, 1 server to client):
  stream S dir D records N bytes B sha256 H
records counts TLS records of outer type application_data (tshark without keys); bytes and sha256
are of the application data tshark decrypts with the key log (-z follow,tls,raw).
"""
import hashlib, subprocess, sys

cap, keys = sys.argv[1], sys.argv[2]

def tshark(*args):
    return subprocess.run(["tshark", "-r", cap, *args], check=True, capture_output=True, text=True).stdout

server_port = {}
for line in tshark("-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.dstport").split("\n"):
    if line.strip():
        s, p = line.split("\t")
        server_port[int(s)] = p

records = {}
out = tshark("-o", "tls.keylog_file:", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
             "-e", "tls.record.content_type", "-e", "tls.record.opaque_type",
             "-E", "occurrence=a", "-E", "aggregator=,")
for line in out.split("\n"):
    if not line.strip():
        continue
    f = line.split("\t")
    s, d = int(f[0]), 1 if f[1] == server_port.get(int(f[0])) else 0
    n = sum(1 for v in (f[2] + "," + f[3]).split(",") if v == "23")
    records[(s, d)] = records.get((s, d), 0) + n

for s in sorted(server_port):
    data = {0: b"", 1: b""}
    out = tshark("-o", "tls.keylog_file:" + keys, "-q", "-z", "follow,tls,raw,%d" % s)
    body = False
    swap = False  # tshark's node 0 is whichever side sent the first decrypted data
    for line in out.split("\n"):
        if line.startswith("Node 0:"):
            swap = line.rsplit(":", 1)[1].strip() == server_port[s]
        if line.startswith("Node 1:"):
            body = True
            continue
        if not body or line.startswith("====") or not line.strip():
            continue
        d = 1 if line.startswith("\t") else 0
        if swap:
            d = 1 - d
        data[d] += bytes.fromhex(line.strip())
    for d in (0, 1):
        print("stream %d dir %d records %d bytes %d sha256 %s" % (
            s, d, records.get((s, d), 0), len(data[d]), hashlib.sha256(data[d]).hexdigest()))
