"""The PROXY header a server gets first (`send-proxy`, `send-proxy-v2`, `proxy-v2-options`),
built from a stream as src/connection.c make_proxy_line does (HAProxy 2.6).

The addresses are the stream's (sc_src/sc_dst of its client side: what a PROXY header, the
session rules and the content or http-request `set-src`/`set-dst` left), else the
connection's facts.  The v2 TLVs: `authority` passes on the client's own PROXY authority,
else its TLS SNI (sent only when it had one), `unique-id` the stream's unique id, built by
the frontend's `unique-id-format` on first use (empty without one, nothing without a
stream: stream_generate_unique_id), `crc32c` as proto/proxyproto.py writes it; a TLS
client's ALPN protocol goes in every v2 header, and the `ssl` options' TLV tells its
handshake (`ssl_value`: flags, verify result, version, `cert-cn`, `cert-key`, `cert-sig`,
`ssl-cipher`).  For mode http the header is also part of the server
connection's identity: an idle connection is reused only by a stream whose header is the
same (backend.c connect_server hashes the proxy line into the connection's key).
"""

from __future__ import annotations

import struct

from pylvs.model.proxy_spec import ConnFacts, ServerSpec
from pylvs.model.tls import TlsFacts
from pylvs.proto import proxyproto
from pylvs.proto.rules.http_flow import UNIQUEID_LEN
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.sample.stream import Stream


def server_header(
    spec: ServerSpec, facts: ConnFacts, stream: Stream | None, unique: LogFormat | None = None
) -> bytes | None:
    """The bytes `spec` gets before the client's, or None when it asks for no header;
    `unique`: the frontend's `unique-id-format`, for a stream that has no id yet."""
    version = spec.proxy_version
    if not version:
        return None
    src, src_port, dst, dst_port = facts.src, facts.src_port, facts.dst, facts.dst_port
    if stream is not None and stream.src is not None and stream.dst is not None:
        src, src_port, dst, dst_port = stream.src, stream.src_port, stream.dst, stream.dst_port
    options = spec.proxy_v2_options
    unique_id = None
    if "unique-id" in options:
        if stream is None:
            options = options - {"unique-id"}
        else:
            if stream.unique_id is None and stream.make_unique_id is not None:
                stream.unique_id = stream.make_unique_id(stream)
            elif stream.unique_id is None and unique is not None:
                stream.unique_id = unique.build(stream)[:UNIQUEID_LEN]
            unique_id = stream.unique_id
    tls = facts.tls
    if tls is None and stream is not None:
        tls = stream.sess.tls
    authority = facts.pp_authority
    if authority is None and tls is not None and tls.sni:  # ssl_sock_get_sni
        authority = tls.sni.encode()
    return proxyproto.header(
        version,
        src,
        src_port,
        dst,
        dst_port,
        options=options,
        authority=authority,
        unique_id=unique_id,
        alpn=tls.alpn.encode() if tls is not None and tls.alpn else None,
        ssl=ssl_value(tls, options),
    )


# struct tlv_ssl's client flags, PP2_SUBTYPE_SSL_* (include/haproxy/connection-t.h)
CLIENT_SSL, CLIENT_CERT_CONN, CLIENT_CERT_SESS = 0x01, 0x02, 0x04
SSL_VERSION, SSL_CN, SSL_CIPHER, SSL_SIG_ALG, SSL_KEY_ALG = 0x21, 0x22, 0x23, 0x24, 0x25


def ssl_value(tls: TlsFacts | None, options: frozenset[str]) -> bytes:
    """The SSL TLV's value as make_proxy_line_v2 writes it: the client flags (TLS; a client
    certificate sent and checked on this connection), the verify result (0: verified),
    then the sub-TLVs: the version always, the client certificate's CN (`cert-cn`), the
    presented certificate's key and signature algorithms (`cert-key`, `cert-sig`), the
    cipher (`ssl-cipher`)."""
    if tls is None:
        return proxyproto.SSL_NONE
    client = CLIENT_SSL
    if tls.peer_der:
        client |= CLIENT_CERT_SESS | (CLIENT_CERT_CONN if tls.peer_verified else 0)
    subs = [proxyproto.tlv(SSL_VERSION, tls.protocol.encode())] if tls.protocol else []
    cn = _common_name(tls.peer_subject)
    if "cert-cn" in options and cn:
        subs.append(proxyproto.tlv(SSL_CN, cn.encode()))
    if "cert-key" in options and tls.local_key_alg:
        subs.append(proxyproto.tlv(SSL_KEY_ALG, tls.local_key_alg.encode()))
    if "cert-sig" in options and tls.local_sig_alg:
        subs.append(proxyproto.tlv(SSL_SIG_ALG, tls.local_sig_alg.encode()))
    if "ssl-cipher" in options and tls.cipher:
        subs.append(proxyproto.tlv(SSL_CIPHER, tls.cipher.encode()))
    return struct.pack("!BI", client, 0) + b"".join(subs)


def _common_name(subject: str | None) -> str | None:
    """The first CN of a one-line subject ("/C=FR/CN=name")."""
    for part in (subject or "").split("/"):
        if part.startswith("CN="):
            return part[3:]
    return None
