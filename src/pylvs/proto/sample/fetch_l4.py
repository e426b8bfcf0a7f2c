"""Layer 4 fetches: the client connection's addresses and ports (src/tcp_sample.c).

`src`/`dst` give an IPV4 or IPV6 sample as the connection's family is (an IPv4 client on an
IPv6 socket is the mapped address, as the kernel reports it): the stream's addresses, as a
PROXY header and the session, content and http-request `set-src`/`set-dst` left them;
`fc_src`/`fc_dst` are the connection's, which only `tcp-request connection set-src|set-dst`
change (HAProxy 2.5+, src/tcp_sample.c smp_fetch_src: conn_src against sc_src).  A session
without an address (a unix socket) has none.  `fc_pp_authority` and `fc_pp_unique_id` are
the TLVs of the client's PROXY v2 header (src/connection.c), absent without one.
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


@fetch("src")
def _src(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.src)


@fetch("dst")
def _dst(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.dst)


@fetch("src_port")
def _src_port(s: Stream, a: Args) -> Smp | None:
    return None if s.src is None else Smp(ty.SINT, s.src_port)


@fetch("dst_port")
def _dst_port(s: Stream, a: Args) -> Smp | None:
    return None if s.dst is None else Smp(ty.SINT, s.dst_port)


@fetch("fc_src")
def _fc_src(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.sess.fc_src)


@fetch("fc_dst")
def _fc_dst(s: Stream, a: Args) -> Smp | None:
    return addr_sample(s.sess.fc_dst)


@fetch("fc_src_port")
def _fc_src_port(s: Stream, a: Args) -> Smp | None:
    return None if s.sess.fc_src is None else Smp(ty.SINT, s.sess.fc_src_port)


@fetch("fc_dst_port")
def _fc_dst_port(s: Stream, a: Args) -> Smp | None:
    return None if s.sess.fc_dst is None else Smp(ty.SINT, s.sess.fc_dst_port)


def _pp_text(value: bytes | None) -> Smp | None:
    return None if value is None else Smp(ty.STR, value)


@fetch("fc_pp_authority")
def _fc_pp_authority(s: Stream, a: Args) -> Smp | None:
    return _pp_text(s.sess.pp_authority)


@fetch("fc_pp_unique_id")
def _fc_pp_unique_id(s: Stream, a: Args) -> Smp | None:
    return _pp_text(s.sess.pp_unique_id)
