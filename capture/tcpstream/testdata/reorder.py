#!/usr/bin/env python3
"""reorder.py IN OUT EVERY: copy a classic pcap, swapping the contents of every EVERY-th TCP data
packet with the packet after it (timestamps stay in place), to make out-of-order arrivals."""
import struct
import sys

src, dst, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = open(src, "rb").read()
head, pos, recs = raw[:24], 24, []
while pos + 16 <= len(raw):
    ts, tu, incl, orig = struct.unpack("<IIII", raw[pos:pos + 16])
    recs.append([ts, tu, orig, raw[pos + 16:pos + 16 + incl]])
    pos += 16 + incl

def is_data(r):  # Ethernet + IPv4 + TCP with payload
    d = r[3]
    ihl = (d[14] & 15) * 4
    tot = struct.unpack(">H", d[16:18])[0]
    off = (d[14 + ihl + 12] >> 4) * 4
    return tot - ihl - off > 0

n = 0
i = 0
while i + 1 < len(recs):
    if is_data(recs[i]):
        n += 1
        if n % every == 0:
            a, b = recs[i], recs[i + 1]
            a[2], a[3], b[2], b[3] = b[2], b[3], a[2], a[3]
            i += 2
            continue
    i += 1
with open(dst, "wb") as f:
    f.write(head)
    for ts, tu, orig, d in recs:
        f.write(struct.pack("<IIII", ts, tu, len(d), orig) + d)
