"""The kernel's IPVS through its generic netlink family, without I/O.

`spec` declares the family's commands and attribute tables, `values` the typed values that
cross the edge, `codec` the requests (as libipvs builds them) and the answers, `convert`
the mapping onto pylvs's model and libipvs's error wording, `procfs` the connection table
of /proc/net/ip_vs_conn.  The socket is dataplane/ipvs's.
"""
