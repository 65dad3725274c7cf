#!/usr/bin/python3
"""Build truth.json for one lab run.

The verdicts are known by construction (the scenario table below says which connection and
direction the firewall, proxy or capture harms, and how). This program combines them with what
the two applications logged (which messages were sent and received) and with tshark's count of
WebSocket frames per hop, connection and direction, and checks that all three agree. It exits 1
when they do not, so a broken run never produces a case.
"""

import argparse
from collections import Counter
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import wsl_h2_wire
import wsl_msgs
import wsl_peer
import wsl_sio_wire

HOPS = ["client", "lb", "fw", "ingress", "server"]
FILES = {"client": "client.pcap", "lb": "lb-*.pcap", "fw": "fw.pcap", "ingress": "ingress.pcap", "server": "server.pcap"}
CAPTURE_POINTS = {
    "client": "client namespace, c0 (its only interface); tcpdump -i c0; Ethernet, microseconds",
    "lb": "lb namespace, l0 = client-facing side of haproxy (client<->haproxy connection); "
          "tcpdump -i l0 -G 2, rotated into lb-1.pcap, lb-2.pcap, ...; Ethernet, microseconds",
    "fw": "fw namespace, f0 = inbound interface from the lb (haproxy<->nginx connection, lb side "
          "of the firewall); tcpdump -i f0 --time-stamp-precision=nano; Ethernet, nanoseconds",
    "ingress": "ingress namespace, i0 = interface facing the fw (haproxy<->nginx connection, "
               "after the firewall); tcpdump -i i0; Ethernet, microseconds",
    "server": "server namespace, tcpdump -i any (s0 = nginx<->server connection); Linux SLL2",
}
# The second capture on the fw's f0 of the capture-drops scenarios, listed after fw.
DROP_HOP = "fwdrop"
DROP_POINT = ("fw namespace, f0 again: a second tcpdump on the same interface at the same time as fw's, "
              "tcpdump -i f0 -B 32 -U (32 KiB kernel buffer) writing through a pipe drained at 100 kB/s, which "
              "drops packets under load; Ethernet, microseconds")
DIRS = {"c2s": "client_to_server", "s2c": "server_to_client"}

def fw_drop_c2s(conn=2, idx=6, note="", lossy=False):
    """The fw drops client->server message idx of conn (an iptables FORWARD -m string rule on its
    tripwire): ingress, captured after the fw, is the first hop to lack it. note adds to the cause.
    lossy: the fw also drops packets at random, so a retransmission may carry earlier messages in
    the packet with the tripwire, and the first missing is whichever the receiver's log says, no
    later than idx (see coalesced)."""
    return {(conn, "c2s"): dict(verdict="lost", hop="ingress", first_missing="upto" if lossy else idx,
                                **({"upto": idx} if lossy else {}),
                                cause=f"fw FORWARD DROP of packets matching wsl-trip-c2s-c{conn}-m{idx}{note}")}


def fw_drop_s2c(conn=2, idx=6, lossy=False):
    """The fw drops server->client message idx of conn: the fw capture, on its lb side, is the first
    hop (in the server-to-client direction of flow) to lack it. lossy: as in fw_drop_c2s."""
    return {(conn, "s2c"): dict(verdict="lost", hop="fw", first_missing="upto" if lossy else idx,
                                **({"upto": idx} if lossy else {}),
                                cause=f"fw FORWARD DROP of packets matching wsl-trip-s2c-c{conn}-m{idx}; fw is "
                                      "captured on its lb side, so the fw capture is the first to lack them")}


def coalesced(want, missing):
    """Settles a lossy tripwire's first missing message from the receiver's log: after a random loss
    the sender's retransmission may carry messages before the tripwire's in the same packet (Linux
    merges queued segments when it retransmits), and that packet is dropped for good too. The log
    must still lack nothing after the tripwire's message that it has before it."""
    idx = want.pop("upto")
    first = missing[0] if missing else None
    if first is None or first > idx:
        want["first_missing"] = idx  # the cross-check reports the disagreement
        return want
    want["first_missing"] = first
    if first < idx:
        want["cause"] += (f"; a retransmission after a random loss carried messages {first}..{idx} "
                          "in one packet, dropped with the tripwire")
    return want


def lb_timeout():
    """haproxy's timeout tunnel (3s) ends conn 2 while it idles, and the client, not reading, then
    sends message 5: it reaches the lb, which answers with RST, and goes no further."""
    return {(2, "c2s"): dict(verdict="closed", hop="fw", closed_by="lb", first_missing=5,
                             cause="haproxy timeout tunnel (3s) closed the idle connection before the "
                                   "client sent message 5"),
            (2, "s2c"): dict(verdict="closed", hop="lb", closed_by="lb",
                             cause="haproxy timeout tunnel (3s) closed the idle connection")}


def ingress_hung(conns=3):
    """nginx is stopped (SIGSTOP) mid-stream and killed (SIGKILL) a second later: its kernel took in and
    acknowledged what arrived meanwhile, which nginx never forwarded. Every connection loses the
    messages sent into it from then on, in both directions (which ones: from the logs)."""
    cause = ("nginx stopped (SIGSTOP) once the client sent message 5 of conn 2, killed (SIGKILL) 1 s later; "
             "its TCP acknowledged what came meanwhile, nginx never forwarded it; the kill reset its connections")
    exp = {}
    for conn in range(1, conns + 1):
        exp[(conn, "c2s")] = dict(verdict="lost", hop="server", first_missing="auto", cause=cause)
        exp[(conn, "s2c")] = dict(verdict="lost", hop="ingress", first_missing="auto", cause=cause)
    return exp


def reset_unread(flow, killed):
    """A message that reached the killed end's host while it was stopped or dying, which its
    application never read: the kill closed the socket with bytes unread, so its TCP sent a RST, not
    a FIN (or answered bytes for a socket already gone with one). Every capture has the message; the
    direction ended at the last hop, by the killed end (which messages: from the receiver's log; the
    last hop's capture must hold all that was sent, and the end there must be that RST)."""
    return dict(verdict="closed", hop=flow[-1], closed_by=flow[-1], first_missing="auto", reset_unread=True,
                cause=f"the {killed} was killed with the message unread: its TCP reset the connection "
                      "(a RST, not a FIN), so its application never got it, though its host's capture has it")


# Scenario table: (conn, dir) -> expectation; every other connection and direction is delivered.
# hop: first hop, in the direction of flow, whose capture lacks messages seen before it (for a
# close with nothing in flight: the hop that closed). closed_by: the hop that closed/reset.
SCENARIOS = {
    "healthy": {"description": "a few connections with permessage-deflate; everything delivered", "expect": {}},
    "c2s-drop": {
        "description": "fw drops (iptables FORWARD -m string DROP) every packet carrying client->server "
                       "message 6 of conn 2, retransmissions included; that direction stalls from there on",
        "expect": fw_drop_c2s(),
    },
    "vxlan-c2s-drop": {
        "description": "as c2s-drop, with the fw<->ingress link carried over a Linux VXLAN device (VNI 42, "
                       "UDP 4789) and the ingress hop captured on the underlay veth, where full-size "
                       "segments travel as fragmented outer IPv4; fw drops client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "s2c-drop": {
        "description": "fw drops every packet carrying server->client message 6 of conn 2 (sent uncompressed "
                       "inside a permessage-deflate session); that direction stalls from there on",
        "expect": fw_drop_s2c(),
    },
    "proxy-timeout": {
        "description": "nginx proxy_read_timeout 3s; conn 2 goes idle for 5 s after message 4 in both "
                       "directions; nginx closes it (TCP FIN both ways, no close frame); the messages both "
                       "ends try to send afterwards are refused by their WebSocket library",
        "expect": {(2, "c2s"): dict(verdict="closed", hop="ingress", closed_by="ingress",
                                    cause="nginx proxy_read_timeout (3s) closed the idle tunnel"),
                   (2, "s2c"): dict(verdict="closed", hop="ingress", closed_by="ingress",
                                    cause="nginx proxy_read_timeout (3s) closed the idle tunnel")},
    },
    "lb-timeout": {
        "description": "haproxy timeout tunnel 3s; conn 2 goes idle for 5 s after message 4 in both directions; "
                       "haproxy closes both of its connections (TCP FIN to the client and to nginx); the client, "
                       "which does not read while idle (--deaf-idle), sends message 5 into the closed connection: "
                       "it reaches haproxy (lb hop), whose TCP answers with RST, and goes no further; the server "
                       "learns of the close through nginx and sends nothing more",
        "expect": lb_timeout(),
    },
    "concurrent": {
        "description": "30 concurrent connections sending mostly identical messages ({\"type\":\"typing\"}, "
                       "{\"type\":\"heartbeat\"}); fw drops client->server message 2 of conn 17",
        "expect": fw_drop_c2s(17, 2),
    },
    "capture-gap": {
        "description": "healthy traffic, but the ingress capture used snap length 80 (tcpdump -s 80): "
                       "payloads are cut there although the network delivered everything",
        "expect": "all:capture_gap:ingress",
    },
    "rst": {
        "description": "fw answers the packet carrying client->server message 6 of conn 1 with a TCP reset "
                       "toward haproxy (iptables REJECT --reject-with tcp-reset); haproxy drops the client "
                       "connection",
        "expect": {(1, "c2s"): dict(verdict="closed", hop="ingress", closed_by="fw", first_missing=6,
                                    cause="fw REJECT --reject-with tcp-reset on wsl-trip-c2s-c1-m6"),
                   (1, "s2c"): dict(verdict="closed", hop="auto", closed_by="lb",
                                    cause="haproxy closed the client connection (FIN) after the fw reset its "
                                          "server-side connection; a server message still in flight reaches "
                                          "the lb, whose TCP answers it with RST")},
    },
    "rst-s2c": {
        "description": "rst the other way: fw answers the packet carrying server->client message 6 of conn 1 with a "
                       "TCP reset toward nginx (iptables REJECT --reject-with tcp-reset on FORWARD from f1); nginx "
                       "drops both of its connections, and the client's next message, reaching nginx's host, is "
                       "answered with a reset",
        "expect": {(1, "s2c"): dict(verdict="closed", hop="fw", closed_by="fw", first_missing=6,
                                    cause="fw REJECT --reject-with tcp-reset on wsl-trip-s2c-c1-m6"),
                   (1, "c2s"): dict(verdict="closed", hop="auto", closed_by="fw",
                                    cause="nginx dropped the connection the fw reset; the client's next message "
                                          "reaches nginx's host after it")},
    },
    "server-killed": {
        "description": "the python server gets SIGKILL once the client has sent message 5 of conn 2: its kernel ends "
                       "every connection (no close frame), nginx and haproxy pass the ends on, and both libraries "
                       "refuse to send afterwards. The connections ended at their server end, not in the middle of the path. "
                       "Mostly nothing is in flight then and every message sent is delivered; but a client message "
                       "that reaches the server's host between the stop and the kill is never read: the kill closes that "
                       "socket with bytes unread, so the server's TCP resets the connection (RST, not FIN), and that "
                       "direction is closed at server by the server (reset_unread: the receiver's log lacks what every "
                       "capture has)",
        "expect": {},
        "refused_after_end": True,
        "killed": "server",
    },
    "varnish-timeout": {
        "description": "Varnish as the ingress (Upgrade requests piped) with pipe_timeout 3 s; conn 2 goes idle for 5 s "
                       "after message 4 in both directions; Varnish closes both of its connections; the client, which "
                       "does not read while idle (--deaf-idle), sends message 5 afterwards",
        "expect": {(2, "c2s"): dict(verdict="closed", hop="auto", closed_by="ingress", first_missing=5,
                                    cause="Varnish pipe_timeout (3 s) closed the idle connection before the client "
                                          "sent message 5"),
                   (2, "s2c"): dict(verdict="closed", hop="ingress", closed_by="ingress",
                                    cause="Varnish pipe_timeout (3 s) closed the idle connection")},
    },
    "ingress-timeout": {
        "description": "nginx proxy_read_timeout 3s; conn 2 goes idle for 5 s after message 4 in both directions; "
                       "nginx closes both of its connections; the client, which does not read while idle "
                       "(--deaf-idle), sends message 5 afterwards",
        "expect": {(2, "c2s"): dict(verdict="closed", hop="auto", closed_by="ingress", first_missing=5,
                                    cause="nginx proxy_read_timeout (3s) closed the idle connection before the "
                                          "client sent message 5"),
                   (2, "s2c"): dict(verdict="closed", hop="ingress", closed_by="ingress",
                                    cause="nginx proxy_read_timeout (3s) closed the idle connection")},
    },
    "tls-lb-timeout": {
        "description": "lb-timeout over wss://: the client speaks TLS 1.3 to haproxy, which terminates it (client "
                       "and lb hops carry TLS, decryptable with keys.txt); haproxy timeout tunnel 3s ends conn 2 "
                       "while it idles (TLS close_notify and FIN to the client, FIN to nginx); the client, not "
                       "reading while idle, sends message 5 into the closed connection; haproxy answers with RST",
        "expect": lb_timeout(),
    },
    "tls-c2s-drop": {
        "description": "c2s-drop over wss://: the client speaks TLS 1.3 to haproxy, which terminates it "
                       "(client and lb hops carry TLS, decryptable with the client's key log keys.txt; fw, "
                       "ingress and server are plaintext); fw drops every packet carrying client->server "
                       "message 6 of conn 2",
        "expect": fw_drop_c2s(note=" (plaintext after haproxy terminated TLS)"),
    },
    "tls-nokeys": {
        "description": "wss:// with TLS 1.3 terminated by haproxy and permessage-deflate, but hops.yaml "
                       "gives no key log for the client hop (the lb hop has keys.txt); fw drops every packet "
                       "carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(note="; the lb (decrypted) and fw captures have the message, ingress lacks it, "
                                   "so the loss is known without the client hop's keys"),
    },
    "tls-nokeys-both": {
        "description": "wss:// with TLS 1.3 terminated by haproxy and permessage-deflate, and hops.yaml gives "
                       "no key log at all (client and lb hops are opaque TLS); fw drops every packet carrying "
                       "client->server message 6 of conn 2",
        "expect": fw_drop_c2s(note="; the fw capture (plaintext) has the message, ingress lacks it, so the "
                                   "loss is known without any keys"),
    },
    "h2-c2s-drop": {
        "description": "WebSocket over HTTP/2 (RFC 8441): the client (Node.js http2, examples/netlab/wsl_h2_client.js) "
                       "opens one h2c connection (prior knowledge) to haproxy and runs every WebSocket as an "
                       "extended CONNECT stream on it, next to an ordinary GET; haproxy speaks HTTP/1.1 "
                       "(Upgrade, a Sec-WebSocket-Key of its own per stream) to nginx. fw drops every packet "
                       "carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "wstunnel-c2s-drop": {
        "description": "bridge-c2s-drop with lighttpd's mod_wstunnel (wstunnel.frame-type binary) as the WebSocket-to-TCP "
                       "bridge on the server instead of websockify, to a TCP echo server on the server's loopback "
                       "(captured as hop echo, bridge: tcp); the server namespace's iptables drops every packet from "
                       "lighttpd carrying client->server message 6 of conn 2 on its way to the echo server",
        "expect": {(2, "c2s"): dict(verdict="lost", hop="echo", first_missing=6,
                                    cause="server-namespace OUTPUT DROP on lo of packets to the echo server matching "
                                          "wsl-trip-c2s-c2-m6 (the bridge's TCP side)")},
    },
    "bridge-c2s-drop": {
        "description": "WebSocket to plain TCP: websockify on the server bridges every connection to a TCP echo "
                       "server on the server's loopback (captured as hop echo, bridge: tcp); the client sends "
                       "mostly identical chatter and gets it echoed; the server namespace's iptables (OUTPUT on lo, "
                       "-m string) drops every packet from websockify carrying client->server message 6 of conn 2, "
                       "so that direction of the TCP side stalls from there on",
        "expect": {(2, "c2s"): dict(verdict="lost", hop="echo", first_missing=6,
                                    cause="server-namespace OUTPUT DROP on lo of packets to the echo server matching "
                                          "wsl-trip-c2s-c2-m6 (the bridge's TCP side)")},
    },
    "h2-deflate-s2c-drop": {
        "description": "WebSocket over HTTP/2 (RFC 8441, h2c) as in h2-c2s-drop, with permessage-deflate negotiated "
                       "in the extended CONNECT (client_no_context_takeover, server_no_context_takeover: the client, "
                       "wsl_h2_client.js, and the python server compress each message on its own; haproxy passes "
                       "the header on to the HTTP/1.1 Upgrade). fw drops every packet carrying server->client "
                       "message 6 of conn 2 (sent uncompressed inside the deflate session)",
        "expect": fw_drop_s2c(),
    },
    "lighttpd-c2s-drop": {
        "description": "lighttpd 1.4 as the ingress proxy instead of nginx (mod_proxy with proxy.header upgrade, "
                       "which passes the Upgrade on and then tunnels the bytes), no compression; fw drops every "
                       "packet carrying client->server message 6 of conn 2; that direction stalls from there on",
        "expect": fw_drop_c2s(),
    },
    "h2o-c2s-drop": {
        "description": "h2o 2.2 as the ingress proxy instead of nginx (proxy.reverse.url with proxy.websocket ON), no "
                       "compression; fw drops every packet carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "nghttpx-c2s-drop": {
        "description": "nghttpx (nghttp2-proxy) as the ingress proxy instead of nginx, HTTP/1.1 on both sides, "
                       "no compression; fw drops every packet carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "varnish-s2c-drop": {
        "description": "Varnish Cache as the ingress proxy instead of nginx: it pipes Upgrade requests to the "
                       "server (vcl_pipe copies Upgrade and Connection); permessage-deflate; fw drops every packet "
                       "carrying server->client message 6 of conn 2 (sent uncompressed)",
        "expect": fw_drop_s2c(),
    },
    "socat-s2c-drop": {
        "description": "socat as the ingress, a plain TCP relay (one upstream connection per connection, the "
                       "bytes unchanged); permessage-deflate; fw drops every packet carrying server->client "
                       "message 6 of conn 2",
        "expect": fw_drop_s2c(),
    },
    "lossy-dupes": {
        "description": "lossy, and duplication: the fw drops 5% of the TCP packets it forwards at random and sends "
                       "10% of those it forwards twice (iptables TEE to the next hop), both ways; TCP discards the "
                       "copies and retransmits the losses, so everything is delivered",
        "expect": {},
        "lossy": True,
    },
    "lossy-drop": {
        "description": "lossy-dupes (5% of forwarded TCP packets dropped at random, 10% sent twice, both ways), and the "
                       "fw drops for good every packet carrying client->server message 6 of conn 2 or server->client "
                       "message 9 of conn 3: those directions stall there while the others recover every loss",
        "expect": {**fw_drop_c2s(lossy=True), **fw_drop_s2c(3, 9, lossy=True)},
        "lossy": True,
    },
    "ingress-hung": {
        "description": "the ingress proxy hangs, then dies: once the client has sent message 5 of conn 2, every "
                       "nginx process gets SIGSTOP, and SIGKILL 1 s later; meanwhile the kernel keeps acknowledging "
                       "what both sides send it, which nginx never forwards; the kill resets its connections, "
                       "haproxy and the server close theirs",
        "expect": ingress_hung(),
    },
    "lbany-c2s-drop": {
        "description": "c2s-drop with the lb hop captured by tcpdump -i any on the lb (Linux SLL2): both of haproxy's "
                       "connections, the client's (l0) and its own to nginx (l1), with the same Sec-WebSocket-Key. The "
                       "truth's hops lb.in and lb.out are the lb capture's packets of l0 and of l1 (tshark: sll.ifindex); "
                       "fw drops every packet carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "reroute-s2c-drop": {
        "description": "s2c-drop, and asymmetric routing from mid-run on: once conn 2 has sent message 3, ingress routes "
                       "its answers to the lb over a second link to the fw (i2 -> f2), so the ingress capture (i0) no "
                       "longer sees the server's side of any connection; fw drops every packet carrying server->client "
                       "message 6 of conn 2 (on whichever interface)",
        "expect": {(2, "s2c"): dict(fw_drop_s2c()[(2, "s2c")],
                                    # Unless ingress still saw message 6 (a late reroute): then as s2c-drop.
                                    low_confidence_because="ingress's capture no longer saw the server's side when "
                                                           "message 6 passed: only the hops around it place the loss",
                                    not_seen_at=["ingress"]),
                   (1, "s2c"): dict(verdict="capture_gap", hop="ingress",
                                    cause="the ingress capture no longer sees the server's side after the reroute"),
                   (3, "s2c"): dict(verdict="capture_gap", hop="ingress",
                                    cause="the ingress capture no longer sees the server's side after the reroute")},
    },
    "pings-in-fragments": {
        "description": "both applications send 40 pings between each two fragments of every fragmented message "
                       "(message 9: three fragments, permessage-deflate), so control frames sit inside fragmented, "
                       "compressed messages and the peers' pongs cross them; fw drops every packet carrying "
                       "server->client message 10 of conn 2, the one after",
        "expect": fw_drop_s2c(idx=10),
    },
    "close-drop": {
        "description": "the fw drops every packet carrying the server's answer to the client's close frame (close 1000 "
                       "\"done\", unmasked: iptables --hex-string |880603e8646f6e65|, and its retransmissions): every data "
                       "message is delivered, but no client completes the closing handshake; each ends TCP after its "
                       "close timeout (2 s)",
        "expect": {},
    },
    "mtu-blackhole": {
        "description": "a path MTU black hole: the fw's link to nginx has MTU 1000 on the fw's side (f1) and 1500 on "
                       "nginx's, and the fw's ICMP fragmentation-needed is dropped (iptables OUTPUT), so full-size "
                       "segments (1448 bytes of payload) never cross it, either way: haproxy's are dropped by the fw "
                       "(DF set, too big for f1), nginx's by f1 (larger than its MTU); small ones pass. Each direction "
                       "of each connection stalls at its first message that needs a full-size segment (the 3 KB "
                       "message 7), and everything after it waits behind it",
        "expect": {(c, d): dict(verdict="lost", hop="ingress" if d == "c2s" else "fw", first_missing="auto",
                                cause="full-size segments dropped at the fw's f1 (MTU 1000, ICMP fragmentation-needed "
                                      "dropped): a PMTU black hole")
                   for c in (1, 2, 3) for d in ("c2s", "s2c")},
        # The sender's TCP may get only the first full-size segment of message 7 past its capture
        # point (then retransmits it alone): the hop before the loss holds the message in part.
        "partial_before_loss": True,
    },
    "conntrack-idle": {
        "description": "the fw's conntrack forgets idle established TCP connections after 2 s "
                       "(nf_conntrack_tcp_timeout_established=2, nf_conntrack_tcp_loose=0) and iptables drops what "
                       "conntrack calls INVALID; conn 2 goes idle for 5 s after message 4 in both directions, so every "
                       "later segment of it, either way, is dropped at the fw: nobody closes anything, the messages "
                       "after the idle vanish",
        "expect": {(2, "c2s"): dict(verdict="lost", hop="ingress", first_missing=5,
                                    cause="fw conntrack entry expired during the idle; the fw drops the connection's "
                                          "segments as INVALID from then on, the client's side first seen at fw"),
                   (2, "s2c"): dict(verdict="lost", hop="fw", first_missing=5,
                                    cause="fw conntrack entry expired during the idle; the fw drops the connection's "
                                          "segments as INVALID from then on; fw is captured on its lb side")},
    },
    "asym-c2s-drop": {
        "description": "c2s-drop, and a second tcpdump on the fw's f0 at the same time with -Q in: only the packets "
                       "arriving from the lb (client to server), what a capture point on a path with asymmetric routing "
                       "sees (hops-oneway.yaml gives it as the fw hop's capture); fw drops every packet carrying "
                       "client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "asym-s2c-drop": {
        "description": "s2c-drop, and a second tcpdump on the fw's f0 at the same time with -Q out: only the packets "
                       "leaving toward the lb (server to client), as with asymmetric routing (hops-oneway.yaml gives it "
                       "as the fw hop's capture); fw drops every packet carrying server->client message 6 of conn 2",
        "expect": fw_drop_s2c(),
    },
    "fwpcapng-s2c-drop": {
        "description": "s2c-drop with the fw hop captured by dumpcap on both of the fw's interfaces at once "
                       "(dumpcap -i f0 -i f1: one pcapng file, fw.pcapng, with an Interface Description Block for "
                       "each, every packet's Enhanced Packet Block naming its interface): every forwarded segment "
                       "is in fw.pcapng twice, arriving and leaving; fw drops every packet carrying server->client "
                       "message 6 of conn 2 between its f1 (server side) and f0 (client side), so the message is "
                       "in fw.pcapng on f1 only. The truth's hops fw.in and fw.out are fw.pcapng's packets of f0 "
                       "and of f1 (tshark: frame.interface_name)",
        "expect": {(2, "s2c"): dict(verdict="lost", hop="fw.in", first_missing=6,
                                    cause="fw FORWARD DROP of packets matching wsl-trip-s2c-c2-m6: fw.pcapng has the "
                                          "message on the server-side interface f1 (fw.out), not on f0 (fw.in)")},
    },
    "fwany-s2c-drop": {
        "description": "s2c-drop with the fw hop captured by tcpdump -i any on the fw (Linux SLL2): every forwarded "
                       "segment is in fw.pcap twice, arriving and leaving, on two interfaces; fw drops every packet "
                       "carrying server->client message 6 of conn 2 between its f1 (server side) and f0 (client side), "
                       "so the message is in fw.pcap on f1 only. The truth's hops fw.in and fw.out are fw.pcap's "
                       "packets of f0 and of f1 (tshark: sll.ifindex)",
        "expect": {(2, "s2c"): dict(verdict="lost", hop="fw.in", first_missing=6,
                                    cause="fw FORWARD DROP of packets matching wsl-trip-s2c-c2-m6: fw.pcap has the "
                                          "message on the server-side interface f1 (fw.out), not on f0 (fw.in)")},
    },
    "stunnel-c2s-drop": {
        "description": "stunnel4 as the load balancer instead of haproxy: it ends the client's TLS 1.3 (client and lb "
                       "hops decryptable with keys.txt) and relays the bytes over a TCP connection of its own to nginx, "
                       "knowing nothing of HTTP; no compression; fw drops every packet carrying client->server message "
                       "6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "nghttpx-h2-s2c-drop": {
        "description": "nghttpx (nghttp2-proxy) as the load balancer instead of haproxy, with the RFC 8441 client "
                       "(wsl_h2_client.js, one h2c connection, every WebSocket an extended CONNECT stream); nghttpx "
                       "speaks HTTP/1.1 Upgrades to nginx; fw drops every packet carrying server->client message 6 "
                       "of conn 2",
        "expect": fw_drop_s2c(),
    },
    "nghttpx-h2-tls-c2s-drop": {
        "description": "nghttpx (nghttp2-proxy) as the load balancer, ending TLS 1.3 with ALPN h2 (client and lb hops "
                       "decryptable with keys.txt), with the RFC 8441 client (every WebSocket an extended CONNECT "
                       "stream of one connection); nghttpx speaks HTTP/1.1 Upgrades to nginx; fw drops every packet "
                       "carrying client->server message 6 of conn 2",
        "expect": fw_drop_c2s(),
    },
    "lossy": {
        "description": "random packet loss on the fw: iptables FORWARD -m statistic drops 5% of the TCP packets "
                       "it forwards, both ways; TCP retransmits every one, so everything is delivered (late)",
        "expect": {},
        "lossy": True,
    },
    "h2-tls-s2c-drop": {
        "description": "WebSocket over HTTP/2 with TLS 1.3 (ALPN h2) between the client (Node.js http2, "
                       "examples/netlab/wsl_h2_client.js) and haproxy, decryptable with keys.txt; every WebSocket "
                       "an extended CONNECT stream of the one connection, haproxy speaks HTTP/1.1 to nginx. fw "
                       "drops every packet carrying server->client message 6 of conn 2",
        "expect": fw_drop_s2c(),
    },
    "tls12-s2c-drop": {
        "description": "s2c-drop over wss:// with TLS 1.2 (haproxy ssl-max-ver TLSv1.2, cipher "
                       "ECDHE-RSA-AES128-GCM-SHA256) and permessage-deflate; client and lb hops carry TLS, "
                       "decryptable with keys.txt; fw drops every packet carrying server->client message 6 "
                       "of conn 2",
        "expect": fw_drop_s2c(),
    },
    "tomcat-healthy": {
        "description": "Apache Tomcat 10 as the server (Debian's tomcat10-examples WebSocket echo endpoints "
                       "/examples/websocket/echoProgrammatic, echoAnnotation and echoStreamAnnotation, one per "
                       "connection) behind nginx, with permessage-deflate as Tomcat negotiates it; the server "
                       "echoes every client message; everything delivered",
        "expect": {},
    },
    "tomcat-c2s-drop": {
        "description": "Tomcat 10 echo endpoints as the server, no compression; fw drops every packet carrying "
                       "client->server message 6 of conn 2, retransmissions included; that direction stalls "
                       "from there on, so Tomcat echoes only messages 0-5 of conn 2 (all of which arrive)",
        "expect": fw_drop_c2s(),
    },
    "node-s2c-drop": {
        "description": "Node.js with the ws package as the server (wsl_server.js; permessage-deflate with ws's "
                       "defaults: messages under 1024 bytes go uncompressed), fw drops every packet carrying "
                       "server->client message 6 of conn 2; that direction stalls from there on",
        "expect": fw_drop_s2c(),
    },
    "caddy-c2s-drop": {
        "description": "Caddy 2 as the ingress proxy instead of nginx (reverse_proxy, which passes the WebSocket "
                       "Upgrade on), no compression; fw drops every packet carrying client->server message 6 of "
                       "conn 2, retransmissions included; that direction stalls from there on",
        "expect": fw_drop_c2s(),
    },
    "apache-s2c-drop": {
        "description": "Apache httpd 2.4 as the ingress proxy instead of nginx (mod_proxy_http with "
                       "upgrade=websocket), permessage-deflate; fw drops every packet carrying server->client "
                       "message 6 of conn 2 (sent uncompressed); that direction stalls from there on",
        "expect": fw_drop_s2c(),
    },
    "socketio-healthy": {
        "description": "a socket.io 4 application (Node.js socket.io server, socket.io-client with the WebSocket "
                       "transport only) behind haproxy and nginx: chat events both ways, an event with binary "
                       "data, and engine.io's own heartbeat (text \"2\" from the server, \"3\" back) every "
                       "500 ms; everything delivered. The messages in truth.json are what the wire carries",
        "expect": {},
    },
    "app-drop": {
        "description": "the ingress is an application-level WebSocket relay (wsl_relay.py) instead of nginx: it "
                       "terminates the client's WebSocket and opens its own to the server (a new handshake with "
                       "its own Sec-WebSocket-Key, each side with its own permessage-deflate), forwarding data "
                       "messages both ways; it silently discards client->server message 6 of conn 2 after its "
                       "TCP received and acknowledged it. Later messages are forwarded as usual",
        "expect": {(2, "c2s"): dict(verdict="lost", hop="server", first_missing=6, dropped=[6],
                                    cause="the ingress relay (wsl_relay.py --drop 2:c2s:6) discarded the message "
                                          "at the application level; its TCP acknowledged the bytes (seen in the "
                                          "ingress capture), it never sent the message upstream")},
    },
    "app-drop-copies": {
        "description": "app-drop's relay at the ingress, on connections that carry nothing but identical "
                       "heartbeats (an idle app's keep-alives, one every 0.2 s each way): it silently discards "
                       "client->server message 3 of conn 2 and server->client message 7 of conn 3 after its TCP "
                       "received them. The payloads cannot tell which copy went missing; only times can",
        "expect": {(2, "c2s"): dict(verdict="lost", hop="server", first_missing=3, dropped=[3],
                                    cause="the ingress relay (wsl_relay.py --drop 2:c2s:3) discarded the 4th of 12 "
                                          "identical heartbeats; its TCP acknowledged the bytes"),
                   (3, "s2c"): dict(verdict="lost", hop="ingress", first_missing=7, dropped=[7],
                                    cause="the ingress relay (wsl_relay.py --drop 3:s2c:7) discarded the 8th of 12 "
                                          "identical heartbeats from the server; its TCP acknowledged the bytes")},
    },
    "app-modify": {
        "description": "the ingress is the WebSocket relay of app-drop (wsl_relay.py, a new handshake upstream, "
                       "each side with its own permessage-deflate), which forwards three messages changed, as a "
                       "buggy or meddling proxy would (--alter): client->server message 6 of conn 1 with its text "
                       "field rewritten by a content filter (\"[filtered]\", 9 bytes shorter), server->client "
                       "message 3 of conn 2 with one byte changed (\"text\" -> \"Text\"), and server->client "
                       "message 11 of conn 3, the last one before the client closes, likewise. Every message is "
                       "delivered, three of them changed",
        "expect": {(1, "c2s"): dict(verdict="modified", hop="server", changed=[6],
                                    cause="the ingress relay (wsl_relay.py --alter 1:c2s:6:filter) rewrote the "
                                          "message's text field; the server hop (relay->server) is the first to carry "
                                          "the changed message"),
                   (2, "s2c"): dict(verdict="modified", hop="ingress", changed=[3],
                                    cause="the ingress relay (wsl_relay.py --alter 2:s2c:3:flip) changed one byte; the "
                                          "ingress hop (relay->haproxy) is the first to carry the changed message"),
                   (3, "s2c"): dict(verdict="modified", hop="ingress", changed=[11],
                                    cause="the ingress relay (wsl_relay.py --alter 3:s2c:11:flip) changed one byte of "
                                          "the last message; the client closes right after receiving it")},
    },
    "backpressure": {
        "description": "the server stops reading conn 2's socket for 4 s (asyncio pause_reading), 0.3 s after it "
                       "opens, while the client keeps sending 3 KB messages; TCP buffers are small (tcp_rmem and "
                       "tcp_wmem 4096 in the client, lb, ingress and server namespaces), so zero windows spread "
                       "upstream from the server. Then the server reads again and everything is delivered, late",
        "expect": {},
    },
    "capture-stops": {
        "description": "healthy traffic (12 messages each way at 0.2 s intervals), but the ingress hop's tcpdump "
                       "is stopped (SIGINT) once the client has sent message 9 of conn 1, while the traffic goes on: the "
                       "network delivered everything, the ingress capture simply ends early. tcpdump does not "
                       "write the packets still in the kernel's capture buffer when it gets SIGINT, so its file "
                       "ends up to a second before the signal (capture_stopped has both times)",
        "expect": "auto:capture_gap:ingress",
    },
    "capture-drops": {
        "description": "8 connections exchange 100 messages each way 20 ms apart, mostly identical "
                       "({\"type\":\"typing\"}, {\"type\":\"heartbeat\"}); a second tcpdump on the fw's f0 "
                       "(hop fwdrop, listed after fw) runs at the same time with a 32 KiB kernel buffer (-B 32 -U) "
                       "writing its file through a pipe drained at 100 kB/s, as on a busy host with a slow disk, so "
                       "the kernel drops packets (its \"packets dropped by kernel\" count is in kernel_drops). "
                       "Nothing was lost on the wire: fw and fwdrop watched the same packets",
        "expect": "auto:capture_gap:fwdrop",
    },
    "capture-drops-deflate": {
        "description": "capture-drops with permessage-deflate and context takeover: after a hole in the fwdrop "
                       "capture the deflate window is unknown, so the messages that refer back into it cannot be "
                       "inflated there (never to wrong bytes); nothing was lost on the wire",
        "expect": "auto:capture_gap:fwdrop",
    },
    "capture-drops-loss": {
        "description": "capture-drops, plus a real loss: fw drops (iptables FORWARD -m string DROP) every packet "
                       "carrying client->server message 30 of conn 5, while the fwdrop capture (-B 32) drops "
                       "packets elsewhere",
        "expect": "auto:capture_gap:fwdrop",
        "loss": fw_drop_c2s(5, 30),
    },
}

# The user-space tunnel scenarios (run.sh tunnel=, wsl_tunnel.py): what carries the fw<->ingress link.
TUNNELS = {
    "ipip": "IPv4-in-IPv4 (RFC 2003, IPv4 protocol 4) over the underlay 10.231.30.0/24",
    "gre": "GRE (RFC 2784/2890, key 1001 and sequence numbers, protocol type 0x0800) over the underlay "
           "10.231.30.0/24",
    "ip4ip6": "IPv4-in-IPv6 (RFC 2473, next header 4) over the IPv6 underlay fd31:30::/64",
    "mpls": "MPLS on Ethernet (RFC 3032) carrying IPv4, fw pushing labels 16002 and 24, ingress 24 alone (the "
            "transport label popped before the last hop)",
    "mplspw": "an Ethernet pseudowire over MPLS (RFC 4448) with control word (RFC 4385, sequenced), fw pushing "
              "labels 16002 and 200, ingress 200 alone (tn0 is a TAP device, so ARP travels inside too)",
    "pppoe": "PPPoE (RFC 2516), fw the host and ingress the access concentrator, with discovery, LCP and IPCP "
             "before the captures start (the capture holds session packets, PPP protocol 0x0021)",
}
TUNNEL_FILTER = {"ipip": "ip proto 4", "gre": "ip proto 47", "ip4ip6": "ip6 proto 4", "mpls": "mpls",
                 "mplspw": "mpls", "pppoe": "pppoed or pppoes"}
for _name, _base in (("ipip-c2s-drop", "c2s-drop"), ("ip4ip6-c2s-drop", "c2s-drop"),
                     ("mplspw-c2s-drop", "c2s-drop"), ("gre-s2c-drop", "s2c-drop"),
                     ("mpls-s2c-drop", "s2c-drop"), ("pppoe-s2c-drop", "s2c-drop")):
    SCENARIOS[_name] = {
        "description": ("as %s, with the fw<->ingress link carried by wsl_tunnel.py (a tunnel endpoint in user space, "
                        "in fw and ingress) and the ingress hop captured on the underlay; %s. The tunnel: %s"
                        % (_base, SCENARIOS[_base]["description"].split("; ")[0], TUNNELS[_name.split("-")[0]])),
        "expect": SCENARIOS[_base]["expect"],
    }

# The port-mirror scenarios (run.sh mirror=): an Open vSwitch bridge (userspace netdev datapath) on the
# fw<->ingress link mirrors it into a tunnel port toward a collector, whose capture is the ingress hop.
MIRRORS = {
    "erspan": "ERSPAN type II (GRE protocol 0x88be, sequence numbers; session 1, index 3)",
    "geneve": "Geneve (UDP 6081, VNI 5001)",
    "erspan3": "ERSPAN type III (GRE protocol 0x22eb, sequence numbers; session 2, direction egress, hardware id 4)",
    "gretap": "GRE with key 1234 carrying Ethernet (protocol 0x6558, transparent Ethernet bridging)",
}
MIRROR_FILTER = {"erspan": "ip proto 47", "erspan3": "ip proto 47", "gretap": "ip proto 47", "geneve": "udp port 6081"}
for _name, _base in (("erspan-c2s-drop", "c2s-drop"), ("geneve-s2c-drop", "s2c-drop"),
                     ("erspan3-s2c-drop", "s2c-drop"), ("gretap-c2s-drop", "c2s-drop")):
    SCENARIOS[_name] = {
        "description": ("as %s, with the ingress hop's capture a port-mirror copy: an Open vSwitch bridge (userspace "
                        "netdev datapath) on the fw<->ingress link mirrors every packet crossing it into %s toward "
                        "a collector namespace, as a switch's ERSPAN session or a cloud traffic mirror does; %s"
                        % (_base, MIRRORS[_name.split("-")[0]], SCENARIOS[_base]["description"].split("; ")[0])),
        "expect": SCENARIOS[_base]["expect"],
    }

# What the server's side of truth.json rests on when the server writes no log (Tomcat's echo
# endpoints).
SERVER_FROM_CAPTURE_NOTE = ("The server writes no log: its side (messages received and sent, "
                            "its address, its close) is read from the server hop's capture with tshark, "
                            "which is the server's own view of the wire. The client checked every echo "
                            "byte for byte against what it sent.")

# What the truth means for the RFC 8441 scenarios (--h2).
H2_NOTE = ("WebSocket over HTTP/2: the client (wsl_h2_client.js) runs every WebSocket as an extended CONNECT "
           "stream (:protocol websocket) of one HTTP/2 connection to haproxy; the client and lb hops carry that "
           "connection, so their connections are named h2:<path> in h2_hop_keys, and h2_stream is the stream "
           "id the client logged. haproxy speaks HTTP/1.1 to nginx with a Sec-WebSocket-Key of its own per "
           "stream, which the server logged: 'key' is that key, as the fw, ingress and server hops show it. "
           "tshark 4.0 decodes HTTP/2 but not the WebSocket frames inside it: wsl_h2_wire.py reads those from "
           "the DATA payloads of tshark's HTTP/2 streams; its stream endings are close frames, END_STREAM "
           "('fin'), RST_STREAM ('rst') and the TCP connection's own FIN and RST.")

# What the truth means for hops whose hops.yaml entry has no key log (tls-nokeys).
NOKEYS_NOTE = ("Hops without a key log in hops.yaml ({hops}) carry TLS that wspath cannot decrypt; their "
               "messages can only be judged by TLS record counts and sizes. The truth here is what really "
               "happened (application logs, and tshark decrypting every TLS hop with keys.txt, which is in "
               "this directory for that cross-check only): a loss downstream of the TLS hops is still fully "
               "known from the readable hops ({readable}), so it is 'lost' at its hop; directions that were "
               "delivered are 'delivered' (both ends' logs agree, every close was a normal 1000 close "
               "handshake started by the client, and the opaque hops' TLS records are enough to carry "
               "every message), though for the opaque hops a tool can only say so at lower confidence.")


def capture_points(ingress, scenario=""):
    """CAPTURE_POINTS with the ingress proxy named as it was (nginx unless --ingress says otherwise)."""
    tunnel = scenario.split("-")[0]
    if tunnel in TUNNELS:
        cp = dict(CAPTURE_POINTS)
        cp["ingress"] = ("ingress namespace, i0 = the tunnel's underlay facing the fw (the haproxy<->nginx "
                         "connection inside %s, after the firewall); tcpdump -i i0 '%s'; Ethernet, microseconds"
                         % (TUNNELS[tunnel], TUNNEL_FILTER[tunnel]))
        return cp
    if tunnel in MIRRORS:
        cp = dict(CAPTURE_POINTS)
        cp["ingress"] = ("col namespace, m0 = the mirror collector (10.231.40.2, MTU 9000): the fw<->ingress link "
                         "(haproxy<->nginx connection, after the firewall) crosses an Open vSwitch bridge that mirrors "
                         "every packet of it, both directions, into %s from 10.231.40.1; tcpdump -i m0 '%s'; "
                         "Ethernet, microseconds" % (MIRRORS[tunnel], MIRROR_FILTER[tunnel]))
        return cp
    if scenario.startswith("vxlan-"):
        cp = dict(CAPTURE_POINTS)
        cp["ingress"] = ("ingress namespace, i0 = the VXLAN underlay facing the fw (10.231.30.0/24; the "
                         "haproxy<->nginx connection inside VXLAN VNI 42, UDP 4789, after the firewall, "
                         "outer IPv4 fragmented when a segment is full-size); tcpdump -i i0 "
                         "'tcp or udp port 4789 or (ip[6:2] & 0x1fff != 0)'; Ethernet, microseconds")
        return cp
    if not ingress:
        return CAPTURE_POINTS
    name = ingress.split()[0]
    return {h: t.replace("nginx", name) for h, t in CAPTURE_POINTS.items()}


def dumps(truth):
    """Indented JSON with each message and each tshark count on one line, to keep files small."""
    compact = {}

    def leaf(o):
        token = "@@%d@@" % len(compact)
        compact[token] = json.dumps(o, sort_keys=True, separators=(",", ":"))
        return token

    def walk(o, key=None):
        if key in ("messages",):
            return [leaf(m) for m in o]
        if key == "tshark":
            return {h: leaf(c) for h, c in o.items()}
        if isinstance(o, dict):
            return {k: walk(v, k) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    text = json.dumps(walk(truth), indent=1, sort_keys=True)
    for token, js in compact.items():
        text = text.replace('"%s"' % token, js)
    return text


def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# The bridge scenarios' last hop: the TCP side of websockify (hops.yaml bridge: tcp), after server.
BRIDGE_HOP = "echo"
BRIDGE_POINT = ("server namespace, lo: websockify's TCP connections to the echo server (127.0.0.1:5901), "
                "the bridge's TCP side (hops.yaml bridge: tcp, port 5901); tcpdump -i lo tcp port 5901; "
                "loopback, microseconds")
BRIDGE_NOTE = ("WebSocket to TCP: websockify terminates the WebSocket on the server's port and bridges each "
               "connection to a TCP echo server (wsl_tcp_echo.py) on the server's loopback, captured as hop echo "
               "(hops.yaml bridge: tcp). There are no frames there: tshark's counts at echo are the client's "
               "messages whose bytes tshark's TCP payloads carry, in order, from the start of each direction "
               "(truth.py bridge_counts); the echo server's log (every chunk received, hex) gives the server "
               "side of the application's view. Endings are not derived at echo (no WebSocket there).")


def use_bridge_hop():
    """Adds the bridge scenarios' TCP-side capture, echo, to the hops, after server."""
    if BRIDGE_HOP not in HOPS:
        HOPS.append(BRIDGE_HOP)
        FILES[BRIDGE_HOP] = BRIDGE_HOP + ".pcap"
        CAPTURE_POINTS[BRIDGE_HOP] = BRIDGE_POINT


def in_order(data, payloads):
    """How many of payloads follow one another from the start of data, byte for byte."""
    pos = n = 0
    for p in payloads:
        if data[pos:pos + len(p)] != p:
            break
        pos, n = pos + len(p), n + 1
    return n


def bridge_conn(scenario, data, conns, args, trips):
    """The client connection whose messages begin data (a bridged TCP stream's client bytes): the
    one with the most of its messages there in order (chatter's first messages are the same on
    every connection; the numbered ones tell them apart)."""
    best, most = None, 0
    for conn in range(1, conns + 1):
        want = [m.raw() for m in wsl_msgs.schedule(args.mix, conn, wsl_msgs.C2S, args.count, args.big, trips)]
        n = in_order(data, want)
        if n > most:
            best, most = conn, n
    return best


def bridge_counts(out, args, trips):
    """{key: {"c2s"/"s2c": counts}} at the echo hop from tshark's TCP payloads: the client's
    messages found in order in each direction of each bridged TCP connection (the echo server
    sends the same bytes back); and {key: the server->client bytes}, for counting them again in
    the messages the bridge framed (reframed)."""
    lines = subprocess.run(["tshark", "-n", "-r", os.path.join(out, FILES[BRIDGE_HOP]), "-Y", "tcp.len > 0 && "
                            "!tcp.analysis.retransmission", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
                            "-e", "tcp.payload"], check=True, capture_output=True, text=True).stdout.splitlines()
    data = {}
    for ln in lines:
        stream, sport, payload = (ln.split("\t") + ["", "", ""])[:3]
        d = "s2c" if sport == "5901" else "c2s"
        data.setdefault(stream, {"c2s": b"", "s2c": b""})[d] += bytes.fromhex(payload.replace(":", ""))
    res, s2c = {}, {}
    for stream, dd in data.items():
        conn = bridge_conn(args.scenario, dd["c2s"], args.conns, args, trips)
        if conn is None:
            continue
        want = [m.raw() for m in wsl_msgs.schedule(args.mix, conn, wsl_msgs.C2S, args.count, args.big, trips)]
        res[wsl_msgs.conn_key(args.scenario, conn)] = {
            d: {"data": in_order(dd[d], want), "frames": 0, "ping": 0, "pong": 0, "close": 0} for d in ("c2s", "s2c")}
        s2c[wsl_msgs.conn_key(args.scenario, conn)] = dd["s2c"]
    return res, s2c


def reframed(sched, recv, conn, notes):
    """The bridge's server->client WebSocket messages: the bridge frames whatever one read of its TCP
    side returns, so when the echo server wrote two echoes at once (it read two client messages in
    one go) they travel as one message. Each message the client received must be the next echoes
    joined, in order; the echoes it did not receive stay one message each. Returns the messages (as
    Msg, payload the joined echoes) and the client's receive events renumbered to them."""
    out, events, j = [], [], 0
    for e in recv:
        k = next((k for k in range(1, len(sched) - j + 1)
                  if hashlib.sha256(b"".join(m.raw() for m in sched[j:j + k])).hexdigest() == e.get("sha256")), 0)
        if not k:
            notes.append(f"conn {conn} s2c: the client's message {e.get('idx')} is not the next echoes joined")
            return sched, recv
        part = sched[j:j + k]
        raw = b"".join(m.raw() for m in part)
        m = wsl_msgs.Msg(len(out), "+".join(x.kind for x in part),
                         raw.decode() if all(x.opcode == "text" for x in part) else raw)
        m.echo = True
        out.append(m)
        events.append(dict(e, idx=m.idx, ok=True, echoes=[x.idx for x in part]))
        j += k
    for x in sched[j:]:
        m = wsl_msgs.Msg(len(out), x.kind, x.payload)
        m.echo = True
        out.append(m)
    return out, events


def echo_events(path, args, trips):
    """The server side's events (wsl_peer.Log format) from the echo server's log: per bridged TCP
    connection, open, one recv per client message received in order and one send per message
    echoed (the echo server writes back what it reads), closed."""
    data, closed = {}, set()
    for e in read_log(path):
        if e["ev"] == "tcp_data":
            data[e["tcp"]] = data.get(e["tcp"], b"") + bytes.fromhex(e["hex"])
        elif e["ev"] == "tcp_closed":
            closed.add(e["tcp"])
    ev = []
    for tcp, b in sorted(data.items()):
        conn = bridge_conn(args.scenario, b, args.conns, args, trips)
        if conn is None:
            continue
        want = [m.raw() for m in wsl_msgs.schedule(args.mix, conn, wsl_msgs.C2S, args.count, args.big, trips)]
        n = in_order(b, want)
        ev.append(dict(ev="open", side="server", conn=conn, key=wsl_msgs.conn_key(args.scenario, conn), tcp=tcp))
        ev += [dict(ev="recv", side="server", conn=conn, dir="c2s", idx=i, ok=True) for i in range(n)]
        ev += [dict(ev="send", side="server", conn=conn, dir="s2c", idx=i) for i in range(n)]
        ev.append(dict(ev="closed", side="server", conn=conn, code=None, reason=None, received=n,
                       tcp_closed=tcp in closed))
    return ev


def use_drop_hop():
    """Adds the capture-drops scenarios' second fw capture, fwdrop, to the hops, after fw."""
    if DROP_HOP not in HOPS:
        HOPS.insert(HOPS.index("fw") + 1, DROP_HOP)
        FILES[DROP_HOP] = DROP_HOP + ".pcap"
        CAPTURE_POINTS[DROP_HOP] = DROP_POINT


# Views of one capture (--views, run.sh fw_if=any): tcpdump -i any on the fw sees each forwarded
# segment twice, arriving and leaving (Linux cooked SLL2, which records the interface). wspath
# compares the two interfaces as the hops fw.in (f0, facing the lb) and fw.out (f1, facing
# ingress); tshark reads each with a filter on the interface index.
VIEW_FILTER = {}


def use_views(spec):
    """spec is HOP:IN:OUT: HOP's capture becomes the hops HOP.in and HOP.out. IN and OUT are interface
    indices of a Linux SLL2 capture (tcpdump -i any), or names of a pcapng file's interfaces (dumpcap
    -i f0 -i f1, each packet's Enhanced Packet Block naming its interface: tshark's frame.interface_name)."""
    hop, i_in, i_out = spec.split(":")
    at = HOPS.index(hop)
    HOPS[at:at + 1] = [hop + ".in", hop + ".out"]
    for v, idx, side in ((".in", i_in, "facing the client"), (".out", i_out, "facing the server")):
        FILES[hop + v] = FILES[hop]
        other = f"the same file(s) as {hop}{'.out' if v == '.in' else '.in'}"
        if idx.isdigit():
            VIEW_FILTER[hop + v] = f"sll.ifindex == {idx}"
            CAPTURE_POINTS[hop + v] = (f"{hop} namespace, tcpdump -i any (Linux SLL2): the packets of interface index "
                                       f"{idx}, {side}; {other}")
        else:
            VIEW_FILTER[hop + v] = f'frame.interface_name == "{idx}"'
            CAPTURE_POINTS[hop + v] = (f"{hop} namespace, dumpcap on two interfaces at once (pcapng, one Interface "
                                       f"Description Block each): the packets of interface {idx}, {side}; {other}")


def hop_path(out, hop, td):
    """The capture file of one hop: the lb's rotated files merged, a view's packets of its interface
    alone (written apart, since tshark reassembles TCP over the packets it reads, and a display
    filter would leave the second copy of every segment a retransmission), in the temporary
    directory td."""
    files = sorted(glob.glob(os.path.join(out, FILES[hop])))
    path = files[0]
    if len(files) > 1:
        path = os.path.join(td, "merged.pcap")
        subprocess.run(["mergecap", "-F", "pcap", "-w", path] + files, check=True)
    if hop in VIEW_FILTER:
        view = os.path.join(td, "view.pcap")
        subprocess.run(["tshark", "-n", "-r", path, "-Y", VIEW_FILTER[hop], "-F", "pcap", "-w", view], check=True,
                       capture_output=True)
        path = view
    return path


def not_captured(out, ref, hop):
    """{key: {"c2s"/"s2c": [indices]}}: the data messages seen at hop ref whose packets hop's
    capture lacks, for two captures of the same TCP connections (fw and fwdrop watch one
    interface). A message is identified by the packet that ends it (ports, absolute sequence
    number, length), which either capture has or not; the lab's capture-drops messages each fit in
    one packet. A retransmitted copy counts as the packet."""
    have = set()
    for ln in hop_lines(out, hop, ["-T", "fields", "-E", "separator=/t", "-e", "tcp.srcport", "-e", "tcp.dstport",
                                   "-e", "tcp.seq_raw", "-e", "tcp.len"]):
        have.add(tuple(ln.split("\t")))
    lines = hop_lines(out, ref, ["-Y", "websocket || http.sec_websocket_key", "-T", "fields", "-E", "occurrence=a",
                                 "-E", "aggregator=,", "-E", "separator=/t", "-e", "tcp.stream", "-e",
                                 "http.sec_websocket_key", "-e", "tcp.analysis.retransmission", "-e", "tcp.srcport",
                                 "-e", "tcp.dstport", "-e", "tcp.seq_raw", "-e", "tcp.len", "-e", "websocket.opcode",
                                 "-e", "websocket.fin", "-e", "websocket.mask"])
    keys, idx, res = {}, {}, {}
    for ln in lines:
        stream, key, retrans, sport, dport, seq, n, ops, fins, masks = (ln.split("\t") + [""] * 10)[:10]
        if key:
            keys[stream] = key
        if retrans or not ops:
            continue
        k = keys.get(stream, "stream-" + stream)
        for op, fin, mask in zip(ops.split(","), fins.split(","), masks.split(",")):
            if int(op) not in (0, 1, 2) or fin not in ("1", "True"):
                continue
            d = "c2s" if mask in ("1", "True") else "s2c"
            i = idx.setdefault((k, d), 0)
            idx[(k, d)] = i + 1
            if (sport, dport, seq, n) not in have:
                res.setdefault(k, {}).setdefault(d, []).append(i)
    return res


def hop_lines(out, hop, args):
    """tshark's output lines for one hop's capture (the lb's rotated files merged), run with args."""
    with tempfile.TemporaryDirectory() as td:
        return subprocess.run(["tshark", "-n", "-r", hop_path(out, hop, td), *TSHARK_DECODE, *args], check=True,
                              capture_output=True, text=True).stdout.splitlines()


SERVER_PORTS = {"80", "8080", "8443", "8765"}
# What tshark cannot know: the lab's HTTP ports, and that MPLS label 200 (mplspw-* scenarios) is an
# Ethernet pseudowire with control word (tshark would guess from the payload's first bytes).
TSHARK_DECODE = ["-d", "tcp.port==8080,http", "-d", "tcp.port==8765,http", "-d", "mpls.label==200,pwethcw"]


def tcp_trouble(out):
    """{hop: {key: {"c2s"/"s2c": {"zero_window", "window_full"}}}}: tshark's TCP analysis per hop.
    A zero window advertised by the server side of a connection holds back client->server data, so
    it counts for c2s (and the reverse for s2c); window_full is counted for the direction of the
    data segment that filled the window."""
    res = {}
    for hop in HOPS:
        lines = hop_lines(out, hop, ["-Y", "http.sec_websocket_key || tcp.analysis.zero_window || "
                                           "tcp.analysis.window_full", "-T", "fields", "-E", "separator=/t",
                                     "-e", "tcp.stream", "-e", "http.sec_websocket_key", "-e", "tcp.srcport",
                                     "-e", "tcp.analysis.zero_window", "-e", "tcp.analysis.window_full"])
        keys, per = {}, {}
        for ln in lines:
            stream, key, sport, zw, wf = (ln.split("\t") + [""] * 5)[:5]
            if key:
                keys[stream] = key
                continue
            from_server = sport in SERVER_PORTS
            k = keys.get(stream, "stream-" + stream)
            c = per.setdefault(k, {d: {"zero_window": 0, "window_full": 0} for d in ("c2s", "s2c")})
            if zw:
                c["c2s" if from_server else "s2c"]["zero_window"] += 1
            if wf:
                c["s2c" if from_server else "c2s"]["window_full"] += 1
        res[hop] = per
    return res


def acked_at(out, hop, key):
    """At hop, for the connection with this Sec-WebSocket-Key: (bytes the client side sent, highest
    acknowledgment the server side gave), relative sequence numbers as tshark counts them."""
    lines = hop_lines(out, hop, ["-T", "fields", "-E", "separator=/t", "-e", "tcp.stream", "-e",
                                 "http.sec_websocket_key", "-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.len",
                                 "-e", "tcp.ack"])
    stream = next((ln.split("\t")[0] for ln in lines if ln.split("\t")[1:2] == [key]), None)
    sent = acked = 0
    for ln in lines:
        st, _, sport, seq, ln_, ack = (ln.split("\t") + [""] * 6)[:6]
        if st != stream or not seq:
            continue
        if sport in SERVER_PORTS:
            acked = max(acked, int(ack or 0))
        else:
            sent = max(sent, int(seq) + int(ln_ or 0))
    return sent, acked


def capture_span(out, hop):
    """(first, last) packet time of a hop's capture, seconds since the epoch, as tshark reads them."""
    lines = hop_lines(out, hop, ["-T", "fields", "-e", "frame.time_epoch"])
    ts = [float(x) for x in lines if x.strip()]
    return (min(ts), max(ts)) if ts else (None, None)


class FirstCopies:
    """Which packets are the first copy of their segment at a hop. tshark marks a segment as a
    retransmission when it comes after later ones, also when this hop never saw the first copy
    (dropped on the way here, as in the lossy scenario): such a copy is the only one this hop
    has and counts. A retransmission of a segment seen before (same connection, sender and
    sequence number) does not."""

    def __init__(self):
        self.seen = set()

    def new(self, stream, sport, seq, retrans):
        k = (stream, sport, seq)
        if retrans and k in self.seen:
            return False
        self.seen.add(k)
        return True


def tshark_counts(out, tls_port=None, keylog=None):
    """{hop: {key: {"c2s"/"s2c": {"data", "frames", "ping", "pong", "close"}}}} from tshark,
    decrypting TLS on tls_port with the key log when given."""
    tls_opts = []
    if tls_port:
        tls_opts = ["-d", f"tcp.port=={tls_port},tls", "-o", f"http.tls.port:{tls_port}",
                    "-o", "tls.keylog_file:" + os.path.abspath(os.path.join(out, keylog))]
    res = {}
    for hop in HOPS:
        with tempfile.TemporaryDirectory() as td:
            cmd = ["tshark", "-n", "-r", hop_path(out, hop, td), *TSHARK_DECODE, *tls_opts,
                   "-Y", "websocket || http.sec_websocket_key", "-T", "fields",
                   "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t",
                   "-e", "tcp.stream", "-e", "http.sec_websocket_key", "-e", "tcp.analysis.retransmission",
                   "-e", "websocket.opcode", "-e", "websocket.fin", "-e", "websocket.mask",
                   "-e", "tcp.srcport", "-e", "tcp.seq_raw"]
            lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
        keys, frames, first = {}, [], FirstCopies()
        for ln in lines:
            stream, key, retrans, ops, fins, masks, sport, seq = (ln.split("\t") + [""] * 8)[:8]
            if key:
                keys[stream] = key
            if not first.new(stream, sport, seq, retrans) or not ops:
                continue
            for op, fin, mask in zip(ops.split(","), fins.split(","), masks.split(",")):
                frames.append((stream, int(op), fin in ("1", "True"), mask in ("1", "True")))
        per = {}
        for stream, op, fin, mask in frames:
            key = keys.get(stream, "stream-" + stream)
            c = per.setdefault(key, {}).setdefault("c2s" if mask else "s2c",
                                                   {"data": 0, "frames": 0, "ping": 0, "pong": 0, "close": 0})
            c["frames"] += 1
            if op in (0, 1, 2) and fin:
                c["data"] += 1
            elif op == 8:
                c["close"] += 1
            elif op == 9:
                c["ping"] += 1
            elif op == 10:
                c["pong"] += 1
        res[hop] = per
    return res


def tshark_endings(out, tls_port=None, keylog=None):
    """{hop: {key: {"client"/"server": [(time, kind, code)]}}}: the close frames, FINs and RSTs each
    side sent at each hop, as tshark reads them (retransmissions left out), oldest first. kind is
    "close", "fin" or "rst"; code is the close frame's status code or None."""
    tls_opts = []
    if tls_port:
        tls_opts = ["-d", f"tcp.port=={tls_port},tls", "-o", f"http.tls.port:{tls_port}",
                    "-o", "tls.keylog_file:" + os.path.abspath(os.path.join(out, keylog))]
    res = {}
    for hop in HOPS:
        lines = hop_lines(out, hop, [*tls_opts, "-Y", "http.sec_websocket_key || websocket.opcode == 8 || "
                                                      "tcp.flags.fin == 1 || tcp.flags.reset == 1",
                                     "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                                     "-E", "separator=/t", "-e", "tcp.stream", "-e", "http.sec_websocket_key",
                                     "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.flags.fin",
                                     "-e", "tcp.flags.reset", "-e", "websocket.opcode",
                                     "-e", "websocket.payload.close.status_code",
                                     "-e", "tcp.analysis.retransmission", "-e", "tcp.seq_raw"])
        keys, per, first = {}, {}, FirstCopies()
        for ln in lines:
            stream, key, t, sport, fin, rst, ops, codes, retrans, seq = (ln.split("\t") + [""] * 10)[:10]
            if key:
                keys[stream] = key
            if not first.new(stream, sport, seq, retrans):
                continue
            side = "server" if sport in SERVER_PORTS else "client"
            ev = per.setdefault(keys.get(stream, "stream-" + stream), {"client": [], "server": []})[side]
            if "8" in ops.split(","):
                code = codes.split(",")[0]
                ev.append((float(t), "close", int(code) if code else None))
            if fin in ("1", "True"):
                ev.append((float(t), "fin", None))
            if rst in ("1", "True"):
                ev.append((float(t), "rst", None))
        for sides in per.values():
            for evs in sides.values():
                evs.sort(key=lambda e: e[0])
        res[hop] = per
    return res


ONE_WAY_NOTE = ("one_way: the run also captured the fw's f0 with tcpdump -Q, which keeps the packets of one direction "
                "only, as a capture point on a path with asymmetric routing (the answers coming back another way) or "
                "with a one-way filter does; hops-oneway.yaml is hops.yaml with that capture as the fw hop's. The "
                "truth holds for both hops files: the dropped direction is the one that capture saw, and a hop that "
                "saw none of a direction's packets can only be left out of judging it. packets counts each capture's "
                "TCP segments by sender (tshark): the one-way capture must hold none of the other side's and as "
                "many of its side's as fw.pcap. tshark's counts and endings at fw are fw.pcap's")


def one_way(out, spec):
    """truth.json's one_way for run.sh's fw_oneway (--one-way HOP:FILE:HOPSFILE:in|out), and the problems
    found: the one-way capture must hold no segment of the side tcpdump -Q left out, and exactly the
    segments of the other side the hop's full capture holds."""
    hop, name, hops_file, q = spec.split(":")
    seen = "client_to_server" if q == "in" else "server_to_client"
    packets, notes = {}, []
    for label, f in (("full", FILES[hop]), ("one_way", name)):
        lines = subprocess.run(["tshark", "-n", "-r", os.path.join(out, f), "-T", "fields", "-e", "tcp.srcport"],
                               check=True, capture_output=True, text=True).stdout.split()
        srv = sum(1 for p in lines if p in SERVER_PORTS)
        packets[label] = {"client": len(lines) - srv, "server": srv}
    kept, left = ("client", "server") if q == "in" else ("server", "client")
    if packets["one_way"][left] != 0 or packets["one_way"][kept] == 0:
        notes.append(f"{name} is not one way ({q}): {packets['one_way']}")
    if packets["one_way"][kept] != packets["full"][kept]:
        notes.append(f"{name} holds {packets['one_way'][kept]} {kept} segments, {FILES[hop]} {packets['full'][kept]}")
    return {"hop": hop, "file": name, "hops_file": hops_file, "tcpdump": f"-Q {q}", "seen": seen,
            "packets": packets, "note": ONE_WAY_NOTE}, notes


def hop_ending(sides):
    """How a connection ended at a hop, in wspath's terms (capture.Ending): "close" when both sides
    sent a close frame, else "reset" after a RST, "fin" after a FIN, "open" when none of them."""
    kinds = {s: {e[1] for e in sides[s]} for s in ("client", "server")}
    if "close" in kinds["client"] and "close" in kinds["server"]:
        return "close"
    if "rst" in kinds["client"] | kinds["server"]:
        return "reset"
    if "fin" in kinds["client"] | kinds["server"]:
        return "fin"
    return "open"


# Where each hop's capture point sits: component i of the path (client, lb, fw, ingress, server) is
# on the server side of hop i's capture point and on the client side of every later one; the client
# application is on the client side of all of them.
def closer_side(hop, closed_by):
    """The side of hop's capture point on which the component closed_by sits."""
    return "server" if HOPS.index(closed_by) >= max(HOPS.index(hop), 1) else "client"


DERIVED_NOTE = ("Read from the captures with tshark (truth.py derive_from_captures): 'endings' says per hop how "
                "the connection ended there ('close': both sides sent a close frame; else 'reset' after a RST, "
                "'fin' after a FIN, 'open'; null where tshark does not see the connection's handshake); a closed direction's 'ending' is the earliest close frame, FIN or "
                "RST at its hop, with the side that sent it, which is the side of that capture point where "
                "'closed_by' sits. 'first_missing' is the first message the receiver lacks; 'not_captured' is "
                "what a capture gap's hop lacks (count, and index of the first message it lacks). "
                "'low_confidence' is true where the direction was delivered through a TLS hop that hops.yaml "
                "gives no key log.")


def dname_short(name):
    """"c2s" or "s2c" for a direction named as wspath names it."""
    return next(k for k, v in DIRS.items() if v == name)


def derive_from_captures(out, truth):
    """Adds to truth what the captures show, read by tshark: per connection and hop how the
    connection ended there ("endings"); per closed direction the event that ended it at its hop
    ("ending": the earliest close frame, FIN or RST there, which must come from the side where
    closed_by sits); per direction the first missing message ("first_missing", the receiver's
    first lacking message) and, for a capture gap, what the gap hop's capture lacks
    ("not_captured"); per direction whether a tool can only judge it at lower confidence
    ("low_confidence": delivered through a TLS hop that hops.yaml gives no key log). Returns
    problems found."""
    notes = []
    if DERIVED_NOTE not in truth["notes"]:
        truth["notes"].append(DERIVED_NOTE)
    tls = truth.get("tls") or {}
    if truth.get("bridge"):
        use_bridge_hop()
    if "kernel_drops" in truth:
        use_drop_hop()
        lacks = not_captured(out, "fw", DROP_HOP)
    ends = tshark_endings(out, tls.get("port"), tls.get("keylog"))
    h2 = truth.get("h2")
    if h2:  # RFC 8441 hops: the streams' endings, read from tshark's HTTP/2 (wsl_h2_wire)
        for hop in h2["hops"]:
            wire = wsl_h2_wire.read(out, FILES[hop], h2["port"], tls.get("port"), tls.get("keylog"))
            ends[hop].update({k: v["events"] for k, v in wire.items()})
    opaque = [h for h in tls.get("tls_hops", []) if h not in tls.get("keylog_hops", [])]
    for c in truth["connections"]:
        hop_key = {h: c["key"] for h in HOPS}
        if c.get("upstream_key"):
            hop_key["server"] = c["upstream_key"]
        hop_key.update(c.get("h2_hop_keys", {}))
        at = {h: ends[h].get(hop_key[h], {"client": [], "server": []}) for h in HOPS}
        # null where tshark does not see the connection's handshake (a capture cut by a snap length)
        c["endings"] = {h: hop_ending(at[h]) if hop_key[h] in ends[h] else None for h in HOPS}
        if DROP_HOP in c["endings"] and all(d["tshark"][DROP_HOP]["frames"] == 0 for d in c["directions"].values()):
            # The dropping capture lost the 101: tshark sees no WebSocket there, so no close frame.
            c["endings"][DROP_HOP] = None
        for dname, d in c["directions"].items():
            v = d["verdict"]
            tag = f"conn {c['conn']} {dname} ({v})"
            d["first_missing"] = d["missing"][0] if d["missing"] else None
            d["low_confidence"] = (v == "delivered" and bool(opaque)) or bool(d.get("low_confidence_because"))
            if v == "capture_gap" and d["hop"] == DROP_HOP:
                # Holes anywhere in the capture, not only at its end: which messages, by packet.
                lack = lacks.get(c["key"], {}).get(dname_short(dname), [])
                d["not_captured"] = {"hop": d["hop"], "count": len(lack), "first": lack[0] if lack else None}
                if not lack:
                    notes.append(f"{tag}: {DROP_HOP}'s capture has every packet of the direction")
            elif v == "capture_gap":
                n = d["tshark"][d["hop"]]["data"]
                d["not_captured"] = {"hop": d["hop"], "count": d["sent"] - n, "first": n if n < d["sent"] else None}
            if v != "closed":
                continue
            evs = sorted([(e, s) for s in ("client", "server") for e in at[d["hop"]][s]], key=lambda x: x[0][0])
            if not evs:
                notes.append(f"{tag}: tshark sees nothing end the connection at {d['hop']}")
                continue
            (t, kind, code), side = evs[0]
            d["ending"] = {"hop": d["hop"], "side": side, "kind": kind, "code": code}
            if d.get("reset_unread") and kind != "rst":
                notes.append(f"{tag}: the receiver's log lacks messages its host's capture has, but the "
                             f"connection there ended by {kind}, not a RST")
            if not d.get("closed_by"):
                notes.append(f"{tag}: the scenario table gives no closed_by")
            elif side != closer_side(d["hop"], d["closed_by"]):
                notes.append(f"{tag}: at {d['hop']} the {side} side ended the connection first, but "
                             f"{d['closed_by']} is on the {closer_side(d['hop'], d['closed_by'])} side")
    return notes


def server_events_from_capture(out, scenario, conns, counts):
    """Events in wsl_peer.Log's format for a server that logs nothing (Tomcat's echo endpoints),
    from the server hop's capture: open (address from the Upgrade request), recv and send (one per
    data message tshark counts there, in order), ping, and closed (the close code the server got)."""
    path = os.path.join(out, FILES["server"])
    cmd = ["tshark", "-n", "-r", path, "-d", "tcp.port==8080,http", "-d", "tcp.port==8765,http",
           "-Y", "websocket || http.sec_websocket_key", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
           "-E", "separator=/t", "-e", "tcp.stream", "-e", "http.sec_websocket_key", "-e", "ip.dst",
           "-e", "tcp.dstport", "-e", "websocket.mask", "-e", "websocket.payload.close.status_code",
           "-e", "tcp.analysis.retransmission"]
    lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    local, close = {}, {}
    keys = {}
    for ln in lines:
        stream, key, dst, dport, masks, codes, retrans = (ln.split("\t") + [""] * 7)[:7]
        if key:
            keys[stream] = key
            local[key] = f"{dst}:{dport}"
        if codes and not retrans and masks.split(",")[0] in ("1", "True") and stream in keys:
            close.setdefault(keys[stream], int(codes.split(",")[0]))
    ev = []
    for conn in range(1, conns + 1):
        key = wsl_msgs.conn_key(scenario, conn)
        if key not in local:
            continue
        srv = counts["server"].get(key, {})
        ev.append(dict(ev="open", side="server", conn=conn, key=key, local=local[key]))
        n = srv.get("c2s", {}).get("data", 0)
        ev += [dict(ev="recv", side="server", conn=conn, dir="c2s", idx=i, ok=True) for i in range(n)]
        ev += [dict(ev="send", side="server", conn=conn, dir="s2c", idx=i)
               for i in range(srv.get("s2c", {}).get("data", 0))]
        ev += [dict(ev="ping", side="server", conn=conn, dir="s2c", idx=None)
               for _ in range(srv.get("s2c", {}).get("ping", 0))]
        ev.append(dict(ev="closed", side="server", conn=conn, code=close.get(key), reason=None, received=n))
    return ev


def socketio_direction(wire, wire_pings, key, conn, d, sched, ev, app_sent, recv, notes):
    """For a socket.io connection (--socketio): the data messages of one direction are what the
    wire carries (engine.io and socket.io packets, a binary event as two messages), read per hop.
    Checks that the sender's hop and every other hop carry the same messages, that the "chat"
    events in them are the schedule's, byte for byte, as both applications logged, and that the
    engine.io heartbeats on the wire are the ones the server logged. Returns (sent: indexes of the
    wire messages at the sender's hop, received: how many reached the receiver's hop, extra fields
    for truth.json)."""
    flow = HOPS if d == "c2s" else HOPS[::-1]
    at = {h: wire[h].get(key, {}).get(d, []) for h in HOPS}
    src = at[flow[0]]
    tag = f"conn {conn} {d} (socket.io)"
    for h in flow[1:]:
        if at[h] != src[:len(at[h])]:
            notes.append(f"{tag}: messages at {h} are not a prefix of those at {flow[0]}")
    got = wsl_sio_wire.events(at[flow[-1]])
    want = [m.payload for m in sched]
    if got != want:
        notes.append(f"{tag}: the receiver's hop carries {len(got)} chat events, not the schedule's {len(want)}")
    if len(app_sent) != len(want) or len(recv) != len(got) or not all(e["ok"] for e in recv):
        notes.append(f"{tag}: logs say {len(app_sent)} sent, {len(recv)} received; the wire has {len(got)}")
    kinds = {}
    for m in src:
        k = wsl_sio_wire.kind(*m)
        kinds[k] = kinds.get(k, 0) + 1
    logged = {"s2c": ("ping", "engine.io ping"), "c2s": ("pong", "engine.io pong")}[d]
    n = sum(1 for e in ev if e["ev"] == logged[0] and e["side"] == "server")
    if n != kinds.get(logged[1], 0):
        notes.append(f"{tag}: server logged {n} engine.io {logged[0]}s, the wire has {kinds.get(logged[1], 0)}")
    received = len(at[flow[-1]])
    messages = wsl_sio_wire.describe(src)
    for m in messages:
        m["received"] = m["index"] < received
    extra = {"messages": messages, "wire_kinds": kinds,
             "pings_sent": wire_pings[flow[0]].get(key, {}).get(d, {}).get("ping", 0),
             "chat_events": [dict(m.describe(), sent=True, received=i < len(got)) for i, m in enumerate(sched)],
             "wire_note": "socket.io: messages lists every WebSocket data message on the wire at the sender's "
                          "hop (engine.io and socket.io packets included: open, connect, heartbeats, events, "
                          "disconnect; an event with binary data is a '451-' text message plus a binary "
                          "attachment), with the SHA-256 of its payload; sent, received and missing count "
                          "those. chat_events lists the scheduled payloads the applications emitted, as "
                          "socket.io handed them over. wire_kinds counts the messages by packet type."}
    return list(range(len(src))), received, extra


def write_readme(out, truth):
    """README.md of a generated case: what it shows, how it was made, with which versions."""
    ingress = [] if truth.get("ingress") else ["nginx"]  # Caddy's or Apache's package is added below
    pk = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *ingress, "haproxy",
                         "python3-websockets", "tcpdump", "tshark", "iptables", "iproute2"]
                        + (["openvswitch-switch"] if truth["scenario"].split("-")[0] in MIRRORS else [])
                        + (["tomcat10", "tomcat10-examples"] if "Tomcat" in truth.get("server", {}).get("software", "")
                           else [])
                        + [p for p, n in (("caddy", "Caddy"), ("apache2", "Apache"), ("lighttpd", "lighttpd"),
                                          ("varnish", "Varnish"), ("nghttp2-proxy", "nghttpx"), ("socat", "socat"), ("h2o", "h2o"))
                           if truth.get("ingress", {}).get("software", "").startswith(n)]
                        + (["stunnel4"] if truth["scenario"].startswith("stunnel") else [])
                        + (["nghttp2-proxy"] if truth["scenario"].startswith("nghttpx-h2") else []),
                        capture_output=True, text=True).stdout.strip()
    kernel = os.uname().release
    lines = [f"# {truth['scenario']}", "", truth["description"] + ".", ""]
    srv = truth.get("server", {})
    if srv:
        lines += [f"Server: {srv['software']}" + (" (echo: server-to-client messages are the client's, "
                  "echoed back; the server frames them its own way)" if srv.get("echo") else "") + ".", ""]
        if srv.get("log_note"):
            lines += [srv["log_note"], ""]
    if truth.get("ingress"):
        lines += [f"Ingress proxy (instead of nginx): {truth['ingress']['software']}.", ""]
    if truth.get("bridge"):
        lines += [truth["bridge"]["note"], ""]
    if truth.get("h2"):
        lines += [truth["h2"]["note"], "", "Client: Node.js " + subprocess.run(["node", "--version"], capture_output=True,
                  text=True).stdout.strip() + " http2 module (examples/netlab/wsl_h2_client.js); haproxy's front end "
                  + ("`alpn h2` on TLS" if truth.get("tls") else "`proto h2` (h2c, prior knowledge)") + ".", ""]
    if truth.get("tls"):
        t = truth["tls"]
        lines += [f"TLS: {t['version']} ({t['cipher']}) between client and haproxy on port {t['port']}; key log "
                  f"`keys.txt` (written by the Python client's `SSLContext.keylog_filename`), given in hops.yaml "
                  f"for: {', '.join(t['keylog_hops']) or 'no hop'}. Check with "
                  "`tshark -r client.pcap -o tls.keylog_file:keys.txt -d tcp.port==8443,tls "
                  "-o http.tls.port:8443 -Y websocket`.", ""]
        if t.get("note"):
            lines += [t["note"], ""]
    lines += [
             "Generated by the wspath network lab (examples/netlab, see its README.md):", "", "```",
             f"examples/netlab/run.sh {truth['scenario']} examples/{truth['scenario']}", "```", "",
             "Expected verdicts (truth.json has every message with its SHA-256, the application logs' "
             "view and tshark's per-hop counts):", ""]
    bad = []
    for c in truth["connections"]:
        for d, v in sorted(c["directions"].items()):
            extra = f", closed by {v['closed_by']}" if v.get("closed_by") else ""
            if v.get("changed"):
                bad.append(f"- conn {c['conn']} ({c['key']}) {d}: **{v['verdict']}** at hop `{v['hop']}`; changed "
                           f"messages {[x['index'] for x in v['changed']]} (all delivered): {v['cause']}")
            elif v["verdict"] != "delivered":
                bad.append(f"- conn {c['conn']} ({c['key']}) {d}: **{v['verdict']}** at hop `{v['hop']}`"
                           f"{extra}; missing messages {v['missing']}, not sent {v['not_sent']}: {v['cause']}")
    others = "every other connection and direction: **delivered**" if bad else "every connection and direction: **delivered**"
    lines += bad + ["- " + others, "", "Capture points:", ""]
    lines += [f"- `{h}`: {truth['capture_points'][h]}" for h in truth["hops"]]
    if truth.get("kernel_drops"):
        lines += ["", "What each tcpdump printed when it stopped (\"N packets dropped by kernel\"): " + ", ".join(
            f"{h} {n}" for h, n in truth["kernel_drops"].items()) + ". `hops-fwdrop-first.yaml` lists the same "
            "captures with fwdrop before fw; where nothing was lost, `hops-two.yaml` and "
            "`hops-two-fwdrop-first.yaml` list only the two fw captures, in both orders. The verdicts are "
            "the same in every order."]
    lines += ["", "Made with (dpkg-query), Linux " + kernel + ":", "", "```", pk, "```", "",
              "Timing, ports, masking keys and TCP segmentation differ between runs; payloads, "
              "Sec-WebSocket-Keys and verdicts do not.", ""]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--client-log", required=True)
    p.add_argument("--server-log", required=True)
    p.add_argument("--conns", type=int, required=True)
    p.add_argument("--tls-port", type=int, help="TLS port between client and lb (wss:// scenarios)")
    p.add_argument("--keylog", help="key log file name inside --out, for tshark")
    p.add_argument("--tls-version", help="1.3 or 1.2: the TLS version the scenario asked haproxy for")
    p.add_argument("--keylog-hops", default="", help="space-separated hops given the key log in hops.yaml")
    p.add_argument("--backend", default="", help="the server software, when not wsl_server.py")
    p.add_argument("--ingress", default="",
                   help="the ingress proxy software, when not nginx (nginx.conf)")
    p.add_argument("--socketio", action="store_true",
                   help="socket.io application: the messages are what the wire carries (wsl_sio_wire.py)")
    p.add_argument("--server-from-capture", action="store_true",
                   help="the server writes no log: derive its events from the server hop's capture")
    p.add_argument("--relay-log", help="the ingress is wsl_relay.py, which logged here (app-drop): the server "
                                       "hop's connections carry the relay's own Sec-WebSocket-Keys")
    p.add_argument("--stopped-capture", help="hop:epoch: the hop whose tcpdump got SIGINT while the traffic "
                                             "went on, and when")
    p.add_argument("--stall", help="wsl_server.py's --stall conn:delay:seconds (backpressure)")
    p.add_argument("--views", help="HOP:IN:OUT: HOP's capture (tcpdump -i any, SLL2; or dumpcap on two interfaces, "
                                    "pcapng) is compared as HOP.in and HOP.out, its packets of interface index (or "
                                    "pcapng interface name) IN and OUT")
    p.add_argument("--file", action="append", default=[], help="HOP:FILE: HOP's capture is FILE (fw.pcapng)")
    p.add_argument("--one-way", help="HOP:FILE:HOPSFILE:in|out: FILE is a second capture of HOP's interface with "
                                      "tcpdump -Q in|out (one direction only), HOPSFILE the hops file giving it as HOP's")
    p.add_argument("--kernel-drops", help="space-separated hop:N, each tcpdump's \"N packets dropped by kernel\" "
                                          "(capture-drops scenarios, which add the fwdrop hop)")
    p.add_argument("--bridge", help="the server is websockify bridging to wsl_tcp_echo.py, whose log this is: the "
                                    "echo hop (bridge: tcp) is added, and the server side's events come from it")
    p.add_argument("--h2", action="store_true",
                   help="the client speaks WebSocket over HTTP/2 (wsl_h2_client.js) to haproxy, which speaks "
                        "HTTP/1.1 onwards: client and lb hops are read by wsl_h2_wire, the other hops carry "
                        "the Sec-WebSocket-Key haproxy made (the server logs it)")
    wsl_peer.add_schedule_args(p)
    args = p.parse_args()
    sc = SCENARIOS[args.scenario]
    if sc.get("lossy"):
        # Segments dropped on the way to a hop come there after later ones: tshark dissects them
        # only when told to reassemble out of order.
        TSHARK_DECODE.extend(["-o", "tcp.reassemble_out_of_order:TRUE"])
    trips = wsl_msgs.parse_tripwires(args.tripwire)
    notes = []
    kernel_drops = None
    if args.kernel_drops:
        use_drop_hop()
        kernel_drops = {h: int(n or -1) for h, n in (x.split(":") for x in args.kernel_drops.split())}
        if kernel_drops.get(DROP_HOP, 0) <= 0:
            notes.append(f"the {DROP_HOP} tcpdump reported no packets dropped by kernel: {kernel_drops}")
        if any(n != 0 for h, n in kernel_drops.items() if h != DROP_HOP):
            notes.append(f"tcpdumps other than {DROP_HOP} dropped packets: {kernel_drops}")
    if args.bridge:
        use_bridge_hop()
    for hf in args.file:
        hop, name = hf.split(":", 1)
        FILES[hop] = name
    if args.views:
        use_views(args.views)
    counts = tshark_counts(args.out, args.tls_port, args.keylog)
    if args.bridge:
        counts[BRIDGE_HOP], bridge_s2c = bridge_counts(args.out, args, trips)
    h2_hops = ["client", "lb"] if args.h2 else []
    h2_wire = {h: wsl_h2_wire.read(args.out, FILES[h], 8080, args.tls_port, args.keylog) for h in h2_hops}
    for h in h2_hops:
        counts[h] = {k: {d: v[d] for d in ("c2s", "s2c")} for k, v in h2_wire[h].items()}
    wire = None
    if args.socketio:
        wire, problems = wsl_sio_wire.wire(args.out, HOPS, FILES)
        notes += problems
    if args.server_from_capture:
        events = read_log(args.client_log) + server_events_from_capture(args.out, args.scenario, args.conns, counts)
    elif args.bridge:
        events = read_log(args.client_log) + echo_events(args.bridge, args, trips)
    else:
        events = read_log(args.client_log) + read_log(args.server_log)
    relay = read_log(args.relay_log) if args.relay_log else []
    trouble = tcp_trouble(args.out) if args.stall else None
    stopped = None
    if args.stopped_capture:
        hop, sigint = args.stopped_capture.split(":")
        first, last = capture_span(args.out, hop)
        ends = [capture_span(args.out, h)[1] for h in HOPS if h != hop]
        last_send = max(e["t"] for e in events if e["ev"] in ("send", "recv"))
        stopped = {"hop": hop, "sigint": round(float(sigint), 6), "first_packet": first, "last_packet": last,
                   "other_hops_last_packet": min(ends), "last_application_message": last_send}
        if not last < last_send - 0.5:
            notes.append(f"{hop}'s capture ends at {last}, not clearly before the last message at {last_send}")
    tls = None
    if args.tls_port:
        seen = {(e["version"], e["cipher"]) for e in events if e["ev"] == "tls"}
        want_version = {"1.3": "TLSv1.3", "1.2": "TLSv1.2"}[args.tls_version]
        if len(seen) != 1 or next(iter(seen))[0] != want_version:
            notes.append(f"TLS: client logged {sorted(seen)}, scenario wants {want_version}")
        version, cipher = sorted(seen)[0] if seen else ("?", "?")
        kh = args.keylog_hops.split()
        nokeys = [h for h in ("client", "lb") if h not in kh]
        tls = {"port": args.tls_port, "version": version, "cipher": cipher, "keylog": args.keylog,
               "tls_hops": ["client", "lb"], "keylog_hops": kh,
               "note": NOKEYS_NOTE.format(hops=", ".join(nokeys), readable=", ".join(
                   [h + " decrypted" for h in kh] + ["fw", "ingress", "server"])) if nokeys else ""}

    conns = []
    for conn in range(1, args.conns + 1):
        key = wsl_msgs.conn_key(args.scenario, conn)
        ev = [e for e in events if e.get("conn") == conn]
        opened = {e["side"]: e for e in ev if e["ev"] == "open"}
        closed = {e["side"]: e for e in ev if e["ev"] == "closed"}
        h2_keys = {}
        if args.h2:
            # No key on HTTP/2; haproxy makes one for its HTTP/1.1 side, which the server logs.
            key = opened.get("server", {}).get("key")
            path = opened.get("client", {}).get("path")
            h2_keys = {h: "h2:" + str(path) for h in h2_hops}
            for h in h2_hops:
                sid = h2_wire[h].get(h2_keys[h], {}).get("stream")
                if sid != opened.get("client", {}).get("stream"):
                    notes.append(f"conn {conn}: tshark sees {path} on HTTP/2 stream {sid} at {h}, the client "
                                 f"logged stream {opened.get('client', {}).get('stream')}")
        elif opened.get("client", {}).get("key") != key:
            notes.append(f"conn {conn}: client key mismatch")
        hop_key = {h: key for h in HOPS}
        hop_key.update(h2_keys)
        if args.relay_log:
            up = next((e for e in relay if e["ev"] == "open" and e["conn"] == conn), {})
            hop_key["server"] = up.get("up_key")
            if up.get("down_key") != key or opened.get("server", {}).get("key") != up.get("up_key"):
                notes.append(f"conn {conn}: relay keys {up.get('down_key')} -> {up.get('up_key')} do not match "
                             f"the client's {key} and the server's {opened.get('server', {}).get('key')}")
        entry = {
            "conn": conn, "key": key, "path": opened.get("client", {}).get("path", f"/chat/{conn}"),
            "client": opened.get("client", {}).get("local"),
            "server": opened.get("server", {}).get("local"),
            "extensions": opened.get("client", {}).get("extensions", ""),
            **({"upstream_key": hop_key["server"]} if args.relay_log else {}),
            **({"h2_stream": opened.get("client", {}).get("stream"), "h2_hop_keys": h2_keys} if args.h2 else {}),
            "client_close": {k: closed.get("client", {}).get(k) for k in ("code", "reason")},
            "server_close": {k: closed.get("server", {}).get(k) for k in ("code", "reason")},
            "directions": {},
        }
        for d in ("c2s", "s2c"):
            sender, receiver = ("client", "server") if d == "c2s" else ("server", "client")
            flow = HOPS if d == "c2s" else HOPS[::-1]
            sched = wsl_msgs.expected(args.mix, conn, d, args.count, args.big, trips, args.echo)
            sent = sorted(e["idx"] for e in ev if e["ev"] == "send" and e["side"] == sender and e["dir"] == d)
            failed = sorted(e["idx"] for e in ev if e["ev"] == "send_failed" and e["side"] == sender and e["dir"] == d)
            recv = [e for e in ev if e["ev"] == "recv" and e["side"] == receiver and e["dir"] == d]
            if args.bridge and d == "s2c":
                # The bridge may join echoes into one message: count what it framed, at every hop.
                echoed = len(sent)
                framed, recv = reframed(sched[:echoed], recv, conn, notes)
                sent = [m.idx for m in framed]
                for i, m in enumerate(sched[echoed:]):  # never echoed: never sent
                    m.idx = len(framed) + i
                sched = framed + sched[echoed:]
                if key in bridge_s2c:
                    counts[BRIDGE_HOP][key]["s2c"]["data"] = in_order(bridge_s2c[key], [m.raw() for m in sched])
            if sc.get("refused_after_end"):
                # A sender killed mid-run may have sent its last message without logging it:
                # what the receiver logged was sent.
                sent = sorted(set(sent) | {e["idx"] for e in recv if "idx" in e})
            exp = sc["expect"]
            dropped = exp.get((conn, d), {}).get("dropped") if isinstance(exp, dict) else None
            changed = exp.get((conn, d), {}).get("changed") if isinstance(exp, dict) else None
            if not dropped and not changed and not all(e["ok"] for e in recv):
                notes.append(f"conn {conn} {d}: receiver saw a payload that differs from the schedule")
            received = len(recv)
            pings = sum(1 for e in ev if e["ev"] == "ping" and e["side"] == sender and e["dir"] == d)
            extra = {}
            if args.socketio:
                sent, received, extra = socketio_direction(wire, counts, key, conn, d, sched, ev, sent, recv,
                                                          notes)
            missing = [i for i in sent if i >= received]
            if dropped:
                # The relay dropped messages in the middle: which ones arrived is known by digest.
                got = [e.get("sha256") for e in recv]
                missing = [m.idx for m in sched if m.idx in sent and m.digest() not in got]
                if got != [m.digest() for m in sched if m.idx not in dropped]:
                    notes.append(f"conn {conn} {d}: receiver's digests are not the schedule without {dropped}")
                gone = [e for e in relay if e["ev"] == "dropped" and e["conn"] == conn and e["dir"] == d]
                lack = Counter(m.digest() for m in sched if m.idx in sent) - Counter(got)
                if not missing and lack == Counter(e["sha256"] for e in gone):
                    # Identical copies: the receiver lacks as many as the relay dropped, and the
                    # relay, which counted them, says which.
                    missing = [e["idx"] for e in gone]
                if [e["idx"] for e in gone] != dropped or any(e["sha256"] != sched[e["idx"]].digest() for e in gone):
                    notes.append(f"conn {conn} {d}: relay log says it dropped {[e['idx'] for e in gone]}")
            if changed:
                # The relay forwarded messages changed: its log has both digests, the receiver's the
                # changed one, every other message arrived intact.
                if [e["idx"] for e in recv if not e["ok"]] != changed:
                    notes.append(f"conn {conn} {d}: receiver's changed messages are {[e['idx'] for e in recv if not e['ok']]}")
                alt = [e for e in relay if e["ev"] == "altered" and e["conn"] == conn and e["dir"] == d]
                got = {e["idx"]: e.get("sha256") for e in recv}
                if [e["idx"] for e in alt] != changed or any(e["sha256"] != sched[e["idx"]].digest() or
                                                             got.get(e["idx"]) != e["sha256_sent"] for e in alt):
                    notes.append(f"conn {conn} {d}: relay log says it altered {[e['idx'] for e in alt]}")
                extra["changed"] = [{"index": e["idx"], "how": e["how"], "sha256": e["sha256"], "length": e["length"],
                                     "sha256_changed": e["sha256_sent"], "length_changed": e["length_sent"],
                                     "first_difference": e["first_difference"]} for e in alt]
            if exp == "all:capture_gap:ingress":
                want = dict(verdict="capture_gap", hop="ingress",
                            cause="ingress capture snap length 80 bytes cut the payloads")
            elif exp == "auto:capture_gap:ingress":
                n = counts["ingress"].get(key, {}).get(d, {}).get("data", 0)
                want = dict(verdict="delivered", hop=None)
                if n < len(sent):
                    want = dict(verdict="capture_gap", hop="ingress",
                                cause=f"the ingress tcpdump was stopped (SIGINT) while the traffic went on: its "
                                      f"capture has the first {n} of {len(sent)} messages; the network delivered all")
            elif exp == "auto:capture_gap:fwdrop" and (conn, d) in sc.get("loss", {}):
                want = dict(sc["loss"][(conn, d)])
            elif exp == "auto:capture_gap:fwdrop":
                n = counts[DROP_HOP].get(key, {}).get(d, {}).get("data", 0)
                want = dict(verdict="delivered", hop=None)
                if n < len(sent):
                    want = dict(verdict="capture_gap", hop=DROP_HOP,
                                cause=f"the {DROP_HOP} tcpdump dropped packets (kernel buffer full): tshark decodes "
                                      f"{n} of the {len(sent)} messages there; the network delivered all")
            else:
                want = dict(exp.get((conn, d), dict(verdict="delivered", hop=None)))
            if sc.get("killed") == receiver and want["verdict"] == "delivered" and missing:
                want = reset_unread(flow, receiver)
            if want.get("first_missing") == "auto":
                want["first_missing"] = missing[0] if missing else None
            if want.get("first_missing") == "upto":
                want = coalesced(want, missing)
            if want.get("hop") == "auto":
                short = [h for h in flow if counts[h].get(hop_key[h], {}).get(d, {}).get("data", 0) < len(sent)]
                want["hop"] = short[0] if short else want["closed_by"]
            tsh = {h: counts[h].get(hop_key[h], {}).get(d, {"data": 0, "frames": 0, "ping": 0, "pong": 0, "close": 0})
                   for h in HOPS}
            if want.get("not_seen_at") and received < len(sent) and \
                    all(tsh[h]["data"] > received for h in want["not_seen_at"]):
                # The capture still saw the first missing message (the reroute came after it): the
                # loss is placed as in the plain scenario, at full confidence.
                want = {k: v for k, v in want.items() if k not in ("not_seen_at", "low_confidence_because")}
            # Cross-checks of construction against the logs and tshark.
            v = want["verdict"]
            tag = f"conn {conn} {d} ({v})"
            # server-killed: the libraries refuse to send once the server's end has come (not_sent).
            if v in ("delivered", "capture_gap", "modified") and (missing or (failed and not sc.get("refused_after_end"))):
                notes.append(f"{tag}: receiver lacks {missing}, send failures {failed}")
            if v == "lost" and (not missing or missing[0] != want["first_missing"]):
                notes.append(f"{tag}: expected first missing {want['first_missing']}, app logs say {missing[:1]}")
            for h in flow:
                n = tsh[h]["data"]
                if v in ("delivered", "modified") and n != len(sent):
                    notes.append(f"{tag}: tshark counts {n} data messages at {h}, sender sent {len(sent)}")
                if v == "capture_gap":
                    if h == want["hop"] and n >= len(sent) and len(sent) > 0:
                        notes.append(f"{tag}: tshark decodes all {n} messages at the snapped hop {h}")
                    if h != want["hop"] and n != len(sent):
                        notes.append(f"{tag}: tshark counts {n} at {h}, sender sent {len(sent)}")
            if v in ("lost", "closed") and missing:
                i = flow.index(want["hop"])
                for h in flow[:i]:
                    if h in want.get("not_seen_at", ()):
                        continue  # that capture no longer saw this direction (reroute-s2c-drop)
                    if sc.get("partial_before_loss") and h == flow[i - 1] and tsh[h]["data"] == received:
                        # The sender's TCP got only the message's first segment through its capture
                        # point, retransmitted again and again: tshark dissects no partial message.
                        continue
                    if tsh[h]["data"] < received + 1 and h != DROP_HOP:  # the dropping capture may lack it
                        notes.append(f"{tag}: message {received} not seen by tshark at {h} before {want['hop']}")
                # reset_unread: the receiver's host took in what its application never read.
                reached = len(sent) if want.get("reset_unread") else received
                if tsh[flow[-1]]["data"] != reached:
                    notes.append(f"{tag}: tshark counts {tsh[flow[-1]]['data']} at {flow[-1]}, receiver got {received}"
                                 + (f", sender sent {len(sent)}" if want.get("reset_unread") else ""))
            if dropped:
                # The hop before the relay's upstream side saw every byte acknowledged by the relay's TCP.
                before = flow[flow.index(want["hop"]) - 1]
                nbytes, acked = acked_at(args.out, before, hop_key[before])
                if acked < nbytes:
                    notes.append(f"{tag}: at {before} the relay acknowledged {acked} of {nbytes} bytes")
                extra["acked_at_" + before] = {"client_bytes": nbytes, "relay_acked": acked}
            if trouble is not None:
                extra["tcp_trouble"] = {h: trouble[h].get(hop_key[h], {}).get(d, {"zero_window": 0, "window_full": 0})
                                        for h in HOPS}
                if d == "c2s" and conn == int(args.stall.split(":")[0]) and \
                        not extra["tcp_trouble"]["server"]["zero_window"]:
                    notes.append(f"{tag}: the server stalled reading but advertised no zero window")
            entry["directions"][DIRS[d]] = {
                **want,
                "sent": len(sent),
                "received": received,
                "missing": missing,
                "not_sent": failed,
                "pings_sent": pings,
                "messages": [dict(m.describe(), sent=m.idx in sent,
                                  received=m.idx in sent and m.idx not in missing if dropped else m.idx < received)
                             for m in sched],
                "tshark": tsh,
                **extra,
            }
        conns.append(entry)

    truth = {
        "scenario": args.scenario,
        "description": sc["description"],
        "hops": HOPS,
        "capture_points": capture_points(args.ingress, args.scenario),
        "params": {"conns": args.conns, "count": args.count, "interval": args.interval, "mix": args.mix,
                   "big": args.big, "compress": args.compress == "on", "tripwires": sorted(args.tripwire),
                   "idle": sorted(args.idle)},
        "notes": ["Directions are named as wspath names them. 'hop' is the first hop, in the direction of "
                  "flow (client->server: client, lb, fw, ingress, server; server->client: the reverse), whose "
                  "capture lacks messages that an earlier hop's capture has; for 'closed' with nothing in "
                  "flight it is the hop that closed. Message digests are SHA-256 of the payload after "
                  "unmasking and decompression. tshark counts exclude segments tshark marks as retransmissions; "
                  "'data' counts final frames of text/binary messages."],
        "connections": conns,
        "cross_check": {"ok": not notes, "problems": notes},
    }
    if tls:
        truth["tls"] = tls
    if args.bridge:
        truth["bridge"] = {"hop": BRIDGE_HOP, "port": 5901, "note": BRIDGE_NOTE}
    if args.h2:
        truth["h2"] = {"hops": h2_hops, "port": args.tls_port or 8080, "note": H2_NOTE}
    if stopped:
        truth["capture_stopped"] = stopped
    if kernel_drops is not None:
        truth["kernel_drops"] = kernel_drops
    if args.one_way:
        truth["one_way"], problems = one_way(args.out, args.one_way)
        notes += problems
    if args.stall:
        c = int(args.stall.split(":")[0])
        times = {e["ev"]: e["t"] for e in events if e["side"] == "server" and e.get("conn") == c
                 and e["ev"] in ("stall_start", "stall_end")}
        truth["stall"] = {"conn": c, "spec": args.stall, "server_stopped_reading": times.get("stall_start"),
                          "server_read_again": times.get("stall_end"),
                          "note": "tcp_trouble (per direction) counts tshark's tcp.analysis.zero_window "
                                  "(advertised by the direction's receiver) and tcp.analysis.window_full "
                                  "(the sender filled the window) at each hop"}
        if None in times.values() or len(times) != 2:
            notes.append(f"server logged no stall for conn {c}")
    if args.echo:  # only then, so the other scenarios' truth.json keeps its keys
        truth["params"]["echo"] = True
    if args.ingress:  # only then, so the nginx scenarios' truth.json keeps its keys
        truth["ingress"] = {"software": args.ingress}
    if args.backend:
        truth["server"] = {"software": args.backend, "echo": args.echo,
                           "log_note": SERVER_FROM_CAPTURE_NOTE
                           if args.server_from_capture else ""}
    notes += derive_from_captures(args.out, truth)
    truth["cross_check"]["ok"] = not notes
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        f.write(dumps(truth) + "\n")
    write_readme(args.out, truth)
    if notes:
        print("truth.py: cross-check failed:\n  " + "\n  ".join(notes), file=sys.stderr)
        sys.exit(1)


def rederive(out):
    """Recomputes, in an existing case directory, the fields derive_from_captures adds, from its
    truth.json and captures alone (the applications' logs are not kept): for cases made before
    those fields existed. Exits 1, leaving truth.json as it was, when the captures disagree."""
    path = os.path.join(out, "truth.json")
    with open(path) as f:
        truth = json.load(f)
    notes = derive_from_captures(out, truth)
    if notes or not truth["cross_check"]["ok"]:
        print("truth.py: cross-check failed:\n  " + "\n  ".join(notes + truth["cross_check"]["problems"]),
              file=sys.stderr)
        sys.exit(1)
    with open(path, "w") as f:
        f.write(dumps(truth) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rederive"]:
        # truth.py --rederive CASE_DIR...: see rederive.
        for d in sys.argv[2:]:
            rederive(d)
    else:
        main()
