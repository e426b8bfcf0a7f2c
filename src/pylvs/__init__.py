"""pylvs: LVS + Keepalived (+ HAProxy) high-availability load balancer in Python."""

__version__ = "0.1.0"
