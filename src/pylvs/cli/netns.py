"""keepalived -s NAME: run inside the network namespace `ip netns add NAME` made.

iproute2 bind-mounts each named namespace at /run/netns/NAME (lib/namespace.c `netns_switch`);
entering it is setns(2) on that file with CLONE_NEWNET.  Python 3.11 has no os.setns, so the
C library's is called.  This happens first, before any thread or socket exists: setns
applies to the calling thread only, and sockets keep the namespace they were made in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000


def enter_netns(name: str) -> None:
    """Move this process into namespace `name`; OSError names the path on failure."""
    if "/" in name or name in ("", ".", ".."):
        raise OSError(f"invalid network namespace name {name!r}")
    path = os.path.join(NETNS_DIR, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise OSError(
            e.errno, f"network namespace {name}: {path}: {e.strerror} (see `ip netns list`)"
        ) from None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot enter network namespace {name}: {os.strerror(err)}")
    finally:
        os.close(fd)
