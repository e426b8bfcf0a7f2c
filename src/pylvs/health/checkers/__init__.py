"""One driver module per keepalived checker kind; importing the package registers them all.

FILE_CHECK has no probe (the manager watches the tracked file, system/trackfile.py) and
BFD_CHECK needs a BFD session pylvs does not run.
"""

from pylvs.health.checkers import dns, http, misc, ping, smtp, tcp, udp

__all__ = ["dns", "http", "misc", "ping", "smtp", "tcp", "udp"]
