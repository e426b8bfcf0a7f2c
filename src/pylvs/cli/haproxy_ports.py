"""Taking the ports over from the processes `-sf`/`-st` name (src/haproxy.c `main`).

HAProxy binds its listeners with up to MAX_START_RETRIES (100) tries 10 ms apart while old
processes are given: when a port is still held it sends them SIGTTOU (pause: they stop
listening; one that cannot pause stops softly) and tries again.  Here the addresses of the
configuration's `bind` lines are tried the same way before the runtime starts (a trial bind,
closed at once), so the runtime's own binding finds them free; `fd@` and unix path listeners
are skipped (a path is renamed over), an `abns@` name is tried as a port is (an old process
pausing unbinds it: proto_uxst.c uxst_suspend_receiver).  When they stay held, the old
processes get SIGTTIN (resume) and the start fails, as HAProxy's "Some protocols failed to
start their listeners! Exiting.".
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import time
from collections.abc import Iterator, Sequence

from pylvs.config.haproxy.model import Endpoint, HaproxyConfig

MAX_START_RETRIES = 100
RETRY_DELAY = 0.010


def ports(config: HaproxyConfig) -> Iterator[Endpoint]:
    """Every TCP address:port and abstract unix name the configuration's frontends bind."""
    for proxy in config.proxies:
        for bind in proxy.binds:
            for endpoint in bind.endpoints:
                tcp = endpoint.family in ("ipv4", "ipv6") and endpoint.port is not None
                if tcp or (endpoint.family == "abns" and endpoint.path):
                    yield endpoint


def held(endpoint: Endpoint) -> bool:
    """Whether another socket listens on the endpoint (a trial bind says EADDRINUSE)."""
    if endpoint.family == "abns":  # a name only one socket holds: the old one unbinds it
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as u:
            try:
                u.bind("\0" + (endpoint.path or ""))
            except OSError as e:
                return e.errno == errno.EADDRINUSE
        return False
    v6 = endpoint.ip.version == 6 if endpoint.ip is not None else endpoint.family == "ipv6"
    host = str(endpoint.ip) if endpoint.ip is not None else ("::" if v6 else "0.0.0.0")
    with socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, endpoint.port or 0))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def tell(pids: Sequence[int], sig: int) -> int:
    """haproxy.c tell_old_pids: how many processes the signal reached."""
    reached = 0
    for pid in pids:
        try:
            os.kill(pid, sig)
            reached += 1
        except OSError:
            pass
    return reached


def take_over(config: HaproxyConfig, old_pids: Sequence[int]) -> list[Endpoint]:
    """Wait for the old processes to free the ports; returns those still held."""
    wanted = list(ports(config))
    busy = [e for e in wanted if held(e)]
    retry = MAX_START_RETRIES
    while busy and old_pids and retry > 0:
        if tell(old_pids, signal.SIGTTOU) == 0:
            break  # nobody to wait for
        time.sleep(RETRY_DELAY)
        retry -= 1
        busy = [e for e in busy if held(e)]
    if busy and retry != MAX_START_RETRIES and old_pids:
        tell(old_pids, signal.SIGTTIN)
    return busy
