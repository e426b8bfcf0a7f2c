"""TLS fetches: what the frontend connection's handshake was (`ssl_fc*`), the client's
certificate (`ssl_c_*`) and the server connection's handshake (`ssl_bc*`) (HAProxy 2.6
src/ssl_sample.c).

They read `Session.tls` / `Stream.bc_tls` (model/tls.TlsFacts), which the runtime fills once
the handshake is done (dataplane/haproxy/tls.py).  On a connection without TLS they give no
sample, except the booleans, which are false (smp_fetch_ssl_fc: 0 when the transport is not
ssl_sock).  The DN fetches give OpenSSL's one-line form, or with an entry name the value
of that entry (`ssl_c_s_dn(CN)`; occurrence 1 first, negative from the end, default the
last), as ssl_sock_get_dn_entry does; the names are known only for a verified certificate.
"""

from __future__ import annotations

import hashlib

from pylvs.model.tls import TlsFacts
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, fetch
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp


def _text(value: str | None) -> Smp | None:
    return None if value is None else Smp(ty.STR, value.encode())


def _fc(s: Stream) -> TlsFacts | None:
    return s.sess.tls


@fetch("ssl_fc")
def _ssl_fc(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, int(_fc(s) is not None))


@fetch("ssl_fc_sni")
def _ssl_fc_sni(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _text(t.sni) if t is not None else None


@fetch("ssl_fc_has_sni")
def _ssl_fc_has_sni(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return Smp(ty.BOOL, int(t is not None and bool(t.sni)))


@fetch("ssl_fc_protocol")
def _ssl_fc_protocol(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _text(t.protocol) if t is not None else None


@fetch("ssl_fc_cipher")
def _ssl_fc_cipher(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _text(t.cipher) if t is not None else None


@fetch("ssl_fc_alg_keysize", "ssl_fc_use_keysize")
def _ssl_fc_keysize(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return Smp(ty.SINT, t.alg_keysize) if t is not None else None


@fetch("ssl_fc_alpn")
def _ssl_fc_alpn(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _text(t.alpn) if t is not None else None


@fetch("ssl_c_used", "ssl_fc_has_crt")
def _ssl_c_used(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return Smp(ty.BOOL, int(t is not None and t.peer_der is not None))


@fetch("ssl_c_verify", "ssl_c_err", "ssl_c_ca_err")
def _ssl_c_verify(s: Stream, a: Args) -> Smp | None:
    """X509_V_OK: a certificate that failed its verification failed the handshake."""
    return Smp(ty.SINT, 0) if _fc(s) is not None else None


@fetch("ssl_c_der")
def _ssl_c_der(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return Smp(ty.BIN, t.peer_der) if t is not None and t.peer_der is not None else None


@fetch("ssl_c_sha1")
def _ssl_c_sha1(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    if t is None or t.peer_der is None:
        return None
    return Smp(ty.BIN, hashlib.sha1(t.peer_der).digest())


def dn_entry(dn: str, name: str, occ: int) -> str | None:
    """ssl_sock_get_dn_entry on a one-line DN: the `occ`th `name` (1 first, -1 last)."""
    values = [p.split("=", 1)[1] for p in dn.split("/")[1:] if p.split("=", 1)[0] == name]
    if not values or occ == 0 or abs(occ) > len(values):
        return None
    return values[occ - 1] if occ > 0 else values[occ]


def _dn(dn: str | None, a: Args) -> Smp | None:
    if dn is None:
        return None
    if a and a[0] is not None:
        name = a[0].decode() if isinstance(a[0], bytes) else str(a[0])
        occ = a[1] if len(a) > 1 and isinstance(a[1], int) else -1
        return _text(dn_entry(dn, name, occ))
    return _text(dn)


@fetch("ssl_c_s_dn")
def _ssl_c_s_dn(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _dn(t.peer_subject, a) if t is not None else None


@fetch("ssl_c_i_dn")
def _ssl_c_i_dn(s: Stream, a: Args) -> Smp | None:
    t = _fc(s)
    return _dn(t.peer_issuer, a) if t is not None else None


# -- the server side ------------------------------------------------------------------------


@fetch("ssl_bc")
def _ssl_bc(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, int(s.bc_tls is not None))


@fetch("ssl_bc_protocol")
def _ssl_bc_protocol(s: Stream, a: Args) -> Smp | None:
    return _text(s.bc_tls.protocol) if s.bc_tls is not None else None


@fetch("ssl_bc_cipher")
def _ssl_bc_cipher(s: Stream, a: Args) -> Smp | None:
    return _text(s.bc_tls.cipher) if s.bc_tls is not None else None


@fetch("ssl_bc_alpn")
def _ssl_bc_alpn(s: Stream, a: Args) -> Smp | None:
    return _text(s.bc_tls.alpn) if s.bc_tls is not None else None


@fetch("ssl_bc_alg_keysize", "ssl_bc_use_keysize")
def _ssl_bc_keysize(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, s.bc_tls.alg_keysize) if s.bc_tls is not None else None
