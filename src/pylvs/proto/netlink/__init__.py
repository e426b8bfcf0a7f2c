"""Netlink without I/O: attribute tables (attrs), message framing (message), and the generic
netlink controller (ctrl).  The sockets that carry these bytes live in the drivers
(dataplane/ipvs/genl.py)."""
