"""The asyncio user-space full-NAT proxy data plane (TCP and UDP, IPv4 and IPv6, no root).

`ProxyDataPlane` (plane.py) owns one listener per virtual service: `tcp.TcpListener` relays
TCP connections, `udp.UdpListener` UDP flows; `context` defines what is counted as a packet.
"""

from pylvs.dataplane.proxy.context import ProxyContext
from pylvs.dataplane.proxy.plane import ProxyDataPlane
from pylvs.dataplane.proxy.tcp import TcpListener
from pylvs.dataplane.proxy.udp import UdpListener

__all__ = ["ProxyContext", "ProxyDataPlane", "TcpListener", "UdpListener"]
