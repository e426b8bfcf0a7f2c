"""Logging to stderr and syslog, as keepalived does (`-l` console, syslog facility daemon).

Syslog goes to /dev/log when that socket exists; a host without a syslog daemon just gets
stderr.  Lines carry keepalived's wording where it exists, so operators' log filters keep
working.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys


def setup_logging(level: str = "INFO", *, syslog: bool = True, ident: str = "pylvs") -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    if syslog and os.path.exists("/dev/log"):
        try:
            handler = logging.handlers.SysLogHandler(
                "/dev/log", facility=logging.handlers.SysLogHandler.LOG_DAEMON
            )
        except OSError:
            return
        handler.ident = f"{ident}[{os.getpid()}]: "
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
