"""The VRRP driver around the sans-I/O core in pylvs.proto.vrrp.

sockets: raw protocol-112 sockets per (family, interface, unicast/multicast) and VRID dispatch;
executor: the core's commands carried out through a `HostEffects`; trackers: vrrp_script and
track_file; wiring: sockets, initial and polled tracker events; notifications: scripts, FIFO,
SMTP; units: lone instances and sync groups behind one shape; manager: `VrrpManager`, what the
daemon runs; run: `python -m pylvs.vrrp.run -f keepalived.conf` (VRRP only).
"""
