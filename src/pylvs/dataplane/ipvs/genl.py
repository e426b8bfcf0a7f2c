"""One kept generic netlink socket that talks to the kernel's IPVS family (the driver).

The bytes come from the pure codec (proto/ipvs/codec.py); this module only sends them and
collects the answer: the messages of a dump up to NLMSG_DONE, or an answer and the
acknowledgement (NLMSG_ERROR with 0) of a request, raising `KernelError` with the kernel's
errno when it refused.  A request is a few tens of microseconds (the kernel handles it
inside sendmsg), so callers on the event loop call it directly; long dumps run in a worker
thread on a socket of their own (the plane keeps two), and each socket has a lock so a
request and its answer are never interleaved with another's.

Finding the family: CTRL_CMD_GETFAMILY "IPVS"; when the kernel has no such family the ip_vs
module is loaded with `modprobe -- ip_vs` (what ipvsadm does: ipvsadm.c `modprobe_ipvs`) and
the lookup repeated; if it is still missing, `IpvsUnavailableError` says why.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import threading
from collections.abc import Callable

from pylvs.proto.ipvs.codec import Request
from pylvs.proto.ipvs.spec import IPVS_GENL_NAME
from pylvs.proto.netlink import ctrl
from pylvs.proto.netlink.message import Ack, Done, Message, parse

NETLINK_GENERIC = 16
RCVBUF = 1 << 20
TIMEOUT = struct.pack("@ll", 10, 0)  # SO_RCVTIMEO / SO_SNDTIMEO: 10 s


class KernelError(OSError):
    """The kernel refused a request: `errno` is its (positive) error number."""


class IpvsUnavailableError(RuntimeError):
    """The kernel has no IPVS (no ip_vs module, or no permission to use it)."""


class GenlSocket:
    """A NETLINK_GENERIC socket with its own sequence numbers."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, TIMEOUT)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, TIMEOUT)
        self._sock.bind((0, 0))
        self.pid: int = self._sock.getsockname()[0]
        self._seq = int.from_bytes(os.urandom(2), "little")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._sock.close()

    def talk(self, raw_of: Callable[[int, int], bytes], *, dump: bool) -> list[Message]:
        """Send the request `raw_of(seq, pid)` builds; its answer messages, in order."""
        with self._lock:
            self._seq = (self._seq + 1) & 0xFFFFFFFF
            seq = self._seq
            self._sock.send(raw_of(seq, self.pid))
            return self._collect(seq, dump)

    def _collect(self, seq: int, dump: bool) -> list[Message]:
        out: list[Message] = []
        while True:
            data = self._sock.recv(RCVBUF)
            for part in parse(data):
                if part.seq != seq:
                    continue  # a late answer to an earlier request that timed out
                if isinstance(part, Ack):
                    if part.error:
                        raise KernelError(-part.error, os.strerror(-part.error))
                    if not dump:
                        return out
                elif isinstance(part, Done):
                    if part.error:
                        raise KernelError(-part.error, os.strerror(-part.error))
                    return out
                else:
                    out.append(part)

    def family(self, name: str) -> ctrl.Family:
        """The family's number (KernelError ENOENT when it is not registered)."""
        answer = self.talk(lambda seq, pid: ctrl.get_family(name, seq=seq, pid=pid), dump=False)
        if not answer:
            raise KernelError(errno.ENOENT, f"no answer for the {name} family")
        return ctrl.family_of(answer[0])


class IpvsSocket:
    """A GenlSocket bound to the IPVS family: `call(request)` returns the answer."""

    def __init__(self, family: int | None = None) -> None:
        self._genl = GenlSocket()
        try:
            self.family = family if family is not None else resolve(self._genl)
        except BaseException:
            self._genl.close()
            raise

    def call(self, request: Request) -> list[Message]:
        family = self.family
        return self._genl.talk(lambda seq, pid: request.encode(family, seq, pid), dump=request.dump)

    def close(self) -> None:
        self._genl.close()


def modprobe(module: str) -> str:
    """Load `module` (ipvsadm runs `/sbin/modprobe -- ip_vs`); "" or modprobe's complaint."""
    try:
        done = subprocess.run(
            ["modprobe", "--", module], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"modprobe {module}: {e}"
    return "" if done.returncode == 0 else (done.stderr.strip() or f"modprobe {module} failed")


def resolve(genl: GenlSocket) -> int:
    """The IPVS family number, loading ip_vs first when the kernel does not have it yet."""
    try:
        return genl.family(IPVS_GENL_NAME).id
    except KernelError as e:
        if e.errno != errno.ENOENT:
            raise IpvsUnavailableError(f"generic netlink: {e.strerror}") from None
    complaint = modprobe("ip_vs")
    try:
        return genl.family(IPVS_GENL_NAME).id
    except KernelError:
        why = complaint or "the ip_vs module loaded but registered no IPVS netlink family"
        raise IpvsUnavailableError(
            f"the kernel has no IP Virtual Server ({why}); build it with CONFIG_IP_VS "
            "or install the ip_vs module, or choose another --dataplane"
        ) from None


def kernel_has_ipvs() -> bool:
    """IPVS is loaded (/proc/net/ip_vs) or its module can be (modprobe --dry-run)."""
    if os.path.exists("/proc/net/ip_vs"):
        return True
    try:
        found = subprocess.run(
            ["modprobe", "--dry-run", "--quiet", "ip_vs"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0
