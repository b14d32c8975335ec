#!/usr/bin/python3
"""An 802.1Q peer for kernels without VLAN support: send one ICMPv6 Echo
Request tagged with a VLAN id on a raw packet socket and report the tagged
Echo Replies that come back, as JSON. Run inside a host's namespace.

usage: vlan-peer.py IFACE DST_MAC SRC_MAC SRC DST VLAN
"""
import json
import sys

from scapy.all import AsyncSniffer, Dot1Q, Ether, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, conf, sendp

conf.verb = 0
iface, dst_mac, src_mac, src, dst, vid = sys.argv[1:7]
vid = int(vid)
ident = 0x4650

sniffer = AsyncSniffer(iface=iface, lfilter=lambda p: ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == ident)
sniffer.start()
import time
time.sleep(0.3)
for seq in range(3):
    sendp(Ether(src=src_mac, dst=dst_mac) / Dot1Q(vlan=vid) / IPv6(src=src, dst=dst, hlim=64)
          / ICMPv6EchoRequest(id=ident, seq=seq, data=b"fastpath 802.1Q"), iface=iface)
    time.sleep(0.2)
time.sleep(1.0)
sniffer.stop()
out = []
for p in sniffer.results:
    out.append({
        "vlan": p[Dot1Q].vlan if Dot1Q in p else None,
        "src": p[IPv6].src,
        "dst": p[IPv6].dst,
        "hlim": p[IPv6].hlim,
        "seq": p[ICMPv6EchoReply].seq,
    })
print(json.dumps(out))
