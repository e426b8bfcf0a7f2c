"""Layer 4 fetches: the client connection's addresses and ports (src/tcp_sample.c).

`src`/`dst` give an IPV4 or IPV6 sample as the connection's family is (an IPv4 client on an
IPv6 socket is the mapped address, as the kernel reports it); `fc_src`/`fc_dst` are the same
as seen before `set-src`/`set-dst`.  A session without an address (a unix socket) has none.
"""

from __future__ import annotations

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, fetch
from pylvs.proto.sample.stream import Address, Stream
from pylvs.proto.sample.types import Smp


def addr_sample(addr: Address | None) -> Smp | None:
    if addr is None:
        return None
    return Smp(ty.IPV4 if addr.version == 4 else ty.IPV6, addr.packed)


@fetch("src", "fc_src")
def _src(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.sess.src)


@fetch("dst", "fc_dst")
def _dst(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.sess.dst)


@fetch("src_port", "fc_src_port")
def _src_port(s: Stream, a: Args) -> Smp | None:
    return None if s.sess.src is None else Smp(ty.SINT, s.sess.src_port)


@fetch("dst_port", "fc_dst_port")
def _dst_port(s: Stream, a: Args) -> Smp | None:
    return None if s.sess.dst is None else Smp(ty.SINT, s.sess.dst_port)
