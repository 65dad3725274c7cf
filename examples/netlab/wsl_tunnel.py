#!/usr/bin/python3
"""Lab tunnel endpoint in user space, for encapsulations this machine's kernel has no driver for
(no ipip, sit, ip6_tunnel, ip_gre, mpls or pppoe modules, and no /dev/ppp).

It attaches to a TUN device (a TAP device for the Ethernet pseudowire) that the kernel routes the
overlay's traffic into, and carries every packet to the peer endpoint over the underlay exactly as
the RFC says, and back:

  ipip     IPv4 in IPv4 (RFC 2003): IPv4 protocol 4, outer header by the kernel (raw socket)
  sit      IPv6 in IPv4 (6in4, RFC 4213): IPv4 protocol 41
  gre      GRE (RFC 2784/2890) over IPv4, protocol 47: key (--key) and sequence number present,
           protocol type 0x0800 or 0x86DD by the inner packet's version
  pptp     PPTP's enhanced GRE (RFC 2637 4.1, version 1, protocol 0x880B) over IPv4: the key field
           holds the payload length and the peer's call ID (--peer-call-id), sequence numbers on
           every data packet, acknowledgments piggybacked or, after 20 ms without data to send,
           alone; the payload is a PPP frame (address/control ff03, protocol 0x0021/0x0057; no
           control connection on TCP 1723, no LCP, no MPPE)
  ip4ip6   IPv4 in IPv6 (RFC 2473): next header 4, outer header by the kernel
  ip6ip6   IPv6 in IPv6 (RFC 2473): next header 41
  mpls     MPLS (RFC 3032) on Ethernet, ethertype 0x8847: the label stack --push (bottom label last,
           TTL copied from the inner IP header) and the IPv4 or IPv6 packet
  mplspw   Ethernet pseudowire over MPLS (RFC 4448) with the control word (RFC 4385: sequence
           numbers 1..65535, length set on short frames); the overlay is a TAP device
  pppoe    PPPoE (RFC 2516): discovery (PADI/PADO/PADR/PADS, ethertype 0x8863, --role client or
           ac), LCP and IPCP Configure-Request/Ack (RFC 1661/1332, no options refused), then PPP
           protocol 0x0021/0x0057 in session packets, ethertype 0x8864 (IPV6CP, RFC 5072, too
           when --ppp-ifid is given)

The IP modes use raw IP sockets, so the kernel writes the outer header, resolves the peer's MAC
and routes; received packets are taken from a raw socket of the same protocol (which also keeps
the kernel from answering them with ICMP protocol unreachable). The Ethernet modes use a packet
socket on the underlay device (--dev) and the peer's MAC (--peer-mac; PPPoE learns it from
discovery). The underlay is what the lab captures with tcpdump.

Prints "ready" on stdout once packets flow (for PPPoE: once the session is up)."""

import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
IP_PROTO = {"ipip": (socket.AF_INET, 4), "sit": (socket.AF_INET, 41), "gre": (socket.AF_INET, 47),
            "pptp": (socket.AF_INET, 47),
            "ip4ip6": (socket.AF_INET6, 4), "ip6ip6": (socket.AF_INET6, 41)}
CARRIES = {"ipip": 4, "ip4ip6": 4, "sit": 6, "ip6ip6": 6}  # the one IP version a mode carries
ETH_MPLS, ETH_PPPOE_DISC, ETH_PPPOE_SESS = 0x8847, 0x8863, 0x8864
PPP_IP, PPP_IPV6, PPP_LCP, PPP_IPCP, PPP_IPV6CP = 0x0021, 0x0057, 0xC021, 0x8021, 0x8057


def open_tun(name, tap):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI))
    return fd


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def dev_mac(dev):
    with open(f"/sys/class/net/{dev}/address") as f:
        return mac(f.read().strip())


class IPTunnel:
    """ipip, sit, gre, ip4ip6, ip6ip6 over a raw IP socket."""

    def __init__(self, args):
        self.family, proto = IP_PROTO[args.mode]
        self.gre = args.mode == "gre"
        self.pptp = args.mode == "pptp"
        self.key = args.key
        self.seq = 0
        self.call_id, self.peer_call_id = args.call_id, args.peer_call_id
        self.ack_due = None  # PPTP: the peer's last sequence number, while not yet acknowledged
        self.remote = args.remote
        self.sock = socket.socket(self.family, socket.SOCK_RAW, proto)
        self.sock.bind((args.local, 0))

    def send(self, pkt):
        if self.gre:
            # C=0 R=0 K=1 S=1, version 0; protocol type by the inner version; key; sequence number.
            proto = 0x0800 if pkt[0] >> 4 == 4 else 0x86DD
            self.seq = (self.seq + 1) & 0xFFFFFFFF
            pkt = struct.pack("!HHII", 0x3000, proto, self.key, self.seq) + pkt
        elif self.pptp:
            pkt = self.pptp_header(b"\xff\x03" + struct.pack("!H", 0x0021 if pkt[0] >> 4 == 4 else 0x0057) + pkt)
        self.sock.sendto(pkt, (self.remote, 0))

    def pptp_header(self, ppp):
        """Enhanced GRE: K (and S when there is a payload), A when an acknowledgment is due."""
        flags, tail = 0x2001, b""
        if ppp:
            self.seq = (self.seq + 1) & 0xFFFFFFFF
            flags |= 0x1000
            tail += struct.pack("!I", self.seq)
        if self.ack_due is not None:
            flags |= 0x0080
            tail += struct.pack("!I", self.ack_due)
            self.ack_due = None
        return struct.pack("!HHHH", flags, 0x880B, len(ppp), self.peer_call_id) + tail + ppp

    def idle(self):
        """PPTP: acknowledge alone what no data packet carried an acknowledgment for."""
        if self.pptp and self.ack_due is not None:
            self.sock.sendto(self.pptp_header(b""), (self.remote, 0))

    def recv(self):
        data, addr = self.sock.recvfrom(65535)
        if addr[0] != self.remote:
            return None
        if self.family == socket.AF_INET:  # IPv4 raw sockets deliver the IP header too
            data = data[(data[0] & 0x0F) * 4:]
        if self.pptp:
            return self.pptp_recv(data)
        if self.gre:
            flags, proto = struct.unpack("!HH", data[:4])
            if flags & 0xC007 or proto not in (0x0800, 0x86DD):
                return None  # not ours: checksum/routing/version other than what we send
            n = 4 + 4 * ((flags & 0x2000 != 0) + (flags & 0x1000 != 0))
            if flags & 0x2000 and struct.unpack("!I", data[4:8])[0] != self.key:
                return None
            data = data[n:]
        return data

    def pptp_recv(self, data):
        flags, proto, length, call_id = struct.unpack("!HHHH", data[:8])
        if flags & 0x0007 != 1 or proto != 0x880B or call_id != self.call_id:
            return None  # GRE version 0 (the gre mode's), or another call
        n = 8
        if flags & 0x1000:
            self.ack_due = struct.unpack("!I", data[n:n + 4])[0]
            n += 4
        if flags & 0x0080:
            n += 4
        ppp = data[n:n + length]
        if ppp[:2] == b"\xff\x03":
            ppp = ppp[2:]
        if len(ppp) < 2 or struct.unpack("!H", ppp[:2])[0] not in (0x0021, 0x0057):
            return None
        return ppp[2:]

    def fileno(self):
        return self.sock.fileno()


class EthTunnel:
    """MPLS, MPLS pseudowire and PPPoE frames on a packet socket."""

    def __init__(self, args):
        self.mode = args.mode
        self.dev = args.dev
        self.me = dev_mac(args.dev)
        self.peer = mac(args.peer_mac) if args.peer_mac else None
        self.labels = [int(x) for x in args.push.split(",")] if args.push else []
        self.pwseq = 0
        etype = ETH_MPLS if self.mode.startswith("mpls") else ETH_PPPOE_SESS
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(etype))
        self.sock.bind((args.dev, etype))
        self.session = 0
        if self.mode == "pppoe":
            self.pppoe_discovery(args)
            self.ppp_configure(args)

    def frame(self, etype, payload, dst=None):
        self.sock.send((dst or self.peer) + self.me + struct.pack("!H", etype) + payload)

    def mpls_stack(self, ttl):
        out = b""
        for i, label in enumerate(self.labels):
            bottom = 1 if i == len(self.labels) - 1 else 0
            out += struct.pack("!I", label << 12 | bottom << 8 | ttl)
        return out

    def send(self, pkt):
        if self.mode == "mpls":
            ttl = pkt[8] if pkt[0] >> 4 == 4 else pkt[7]  # IPv4 TTL / IPv6 hop limit
            self.frame(ETH_MPLS, self.mpls_stack(ttl) + pkt)
        elif self.mode == "mplspw":
            self.pwseq = self.pwseq % 0xFFFF + 1  # 0 means "not sequenced" (RFC 4385)
            length = len(pkt) + 4 if len(pkt) + 4 < 64 else 0
            self.frame(ETH_MPLS, self.mpls_stack(255) + struct.pack("!HH", length & 0x3F, self.pwseq) + pkt)
        else:
            proto = PPP_IP if pkt[0] >> 4 == 4 else PPP_IPV6
            self.ppp_send(proto, pkt)

    def ppp_send(self, proto, payload):
        body = struct.pack("!H", proto) + payload
        self.frame(ETH_PPPOE_SESS, struct.pack("!BBHH", 0x11, 0, self.session, len(body)) + body)

    def recv(self):
        data = self.sock.recv(65535)
        if data[6:12] != self.peer:
            return None
        data = data[14:]
        if self.mode.startswith("mpls"):
            while len(data) >= 4:
                bottom = data[2] & 1
                data = data[4:]
                if bottom:
                    break
            return data[4:] if self.mode == "mplspw" else data
        ver, code, session, length = struct.unpack("!BBHH", data[:6])
        if ver != 0x11 or code != 0 or session != self.session:
            return None
        proto = struct.unpack("!H", data[6:8])[0]
        payload = data[8:6 + length]
        if proto in (PPP_LCP, PPP_IPCP, PPP_IPV6CP):
            self.ppp_control(proto, payload)
            return None
        return payload if proto in (PPP_IP, PPP_IPV6) else None

    # ---- PPPoE discovery and PPP configuration ----

    def pppoe_discovery(self, args):
        """PADI (broadcast), PADO, PADR, PADS; the host repeats PADI until an offer comes."""
        disc = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_PPPOE_DISC))
        disc.bind((args.dev, ETH_PPPOE_DISC))

        def send(dst, code, session, tags):
            body = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in tags)
            disc.send(dst + self.me + struct.pack("!HBBHH", ETH_PPPOE_DISC, 0x11, code, session, len(body)) + body)

        def wait(code, src=None, timeout=None):
            """(source MAC, session, tags) of the next discovery packet with this code."""
            disc.settimeout(timeout)
            while True:
                try:
                    f = disc.recv(1500)
                except socket.timeout:
                    return None
                if f[15] == code and (src is None or f[6:12] == src):
                    length = struct.unpack("!H", f[18:20])[0]
                    return f[6:12], struct.unpack("!H", f[16:18])[0], dict(iter_tags(f[20:20 + length]))

        if args.role == "client":
            uniq = struct.pack("!I", os.getpid())
            got = None
            while not got:
                send(b"\xff" * 6, 0x09, 0, [(0x0101, b""), (0x0103, uniq)])  # PADI
                got = wait(0x07, timeout=1.0)  # PADO
            ac, _, tags = got
            send(ac, 0x19, 0, [(0x0101, b""), (0x0103, uniq), (0x0104, tags.get(0x0104, b""))])  # PADR
            self.peer, self.session, _ = wait(0x65, src=ac)  # PADS
        else:
            host, _, tags = wait(0x09)  # PADI
            send(host, 0x07, 0, [(0x0102, b"wsl-ac"), (0x0101, b""), (0x0104, os.urandom(8)),
                                 (0x0103, tags.get(0x0103, b""))])  # PADO
            _, _, tags = wait(0x19, src=host)  # PADR
            self.peer, self.session = host, args.session
            send(host, 0x65, self.session, [(0x0101, b""), (0x0103, tags.get(0x0103, b""))])  # PADS
        disc.close()

    def ppp_configure(self, args):
        """LCP, then IPCP (--ppp-addr) and IPV6CP (--ppp-ifid): send our Configure-Request and ack
        the peer's (any options are accepted), until both sides are acked."""
        self.acked, self.peer_acked = set(), set()
        self.requests = {PPP_LCP: bytes([1, 4]) + struct.pack("!H", 1492) + bytes([5, 6]) + os.urandom(4)}
        if args.ppp_addr:
            self.requests[PPP_IPCP] = bytes([3, 6]) + socket.inet_aton(args.ppp_addr)
        if args.ppp_ifid:
            self.requests[PPP_IPV6CP] = bytes([1, 10]) + bytes.fromhex(args.ppp_ifid)
        deadline = time.time() + 10
        for proto in self.requests:
            while proto not in self.acked or proto not in self.peer_acked:
                if time.time() > deadline:
                    sys.exit("wsl_tunnel.py: PPP %04x negotiation timed out" % proto)
                if proto not in self.acked:
                    opts = self.requests[proto]
                    self.ppp_send(proto, struct.pack("!BBH", 1, 1, 4 + len(opts)) + opts)
                r, _, _ = select.select([self.sock], [], [], 0.3)
                while r:  # everything queued, then resend what is not acked yet
                    self.recv()
                    r, _, _ = select.select([self.sock], [], [], 0.05)

    def ppp_control(self, proto, p):
        code, ident, length = struct.unpack("!BBH", p[:4])
        if code == 1:  # Configure-Request: acknowledge as is
            self.ppp_send(proto, struct.pack("!BBH", 2, ident, length) + p[4:length])
            self.peer_acked.add(proto)
        elif code == 2:  # Configure-Ack
            self.acked.add(proto)
        elif code == 9 and proto == PPP_LCP:  # Echo-Request
            self.ppp_send(proto, struct.pack("!BBH", 10, ident, length) + p[4:length])

    def idle(self):
        pass

    def fileno(self):
        return self.sock.fileno()


def iter_tags(b):
    while len(b) >= 4:
        t, n = struct.unpack("!HH", b[:4])
        yield t, b[4:4 + n]
        b = b[4 + n:]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", required=True, choices=sorted(IP_PROTO) + ["mpls", "mplspw", "pppoe"])
    p.add_argument("--tun", required=True, help="the TUN (TAP for mplspw) device to attach to")
    p.add_argument("--local", help="IP modes: this endpoint's underlay address")
    p.add_argument("--remote", help="IP modes: the peer endpoint's underlay address")
    p.add_argument("--key", type=int, default=0, help="gre: the key")
    p.add_argument("--call-id", type=int, default=0, help="pptp: this end's call ID")
    p.add_argument("--peer-call-id", type=int, default=0, help="pptp: the peer's call ID")
    p.add_argument("--dev", help="Ethernet modes: the underlay device")
    p.add_argument("--peer-mac", help="mpls, mplspw: the peer's MAC on the underlay")
    p.add_argument("--push", help="mpls, mplspw: labels pushed, outermost first")
    p.add_argument("--role", choices=["client", "ac"], help="pppoe: host or access concentrator")
    p.add_argument("--session", type=int, default=0x1d3, help="pppoe ac: the session id it assigns")
    p.add_argument("--ppp-addr", help="pppoe: the IPv4 address this end names in IPCP")
    p.add_argument("--ppp-ifid", help="pppoe: the IPv6 interface identifier (16 hex digits) this end names in IPV6CP")
    args = p.parse_args()
    tun = open_tun(args.tun, args.mode == "mplspw")
    t = IPTunnel(args) if args.mode in IP_PROTO else EthTunnel(args)
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([tun, t], [], [], 0.02)
        if not r:
            t.idle()
        if tun in r:
            pkt = os.read(tun, 65535)
            if CARRIES.get(args.mode, pkt[0] >> 4) == pkt[0] >> 4:
                t.send(pkt)
        if t in r:
            pkt = t.recv()
            if pkt:
                os.write(tun, pkt)


if __name__ == "__main__":
    main()
