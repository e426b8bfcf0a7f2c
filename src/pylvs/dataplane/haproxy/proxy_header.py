"""The PROXY header a server gets first (`send-proxy`, `send-proxy-v2`, `proxy-v2-options`),
built from a stream as src/connection.c make_proxy_line does (HAProxy 2.6).

The addresses are the stream's (sc_src/sc_dst of its client side: what a PROXY header, the
session rules and the content or http-request `set-src`/`set-dst` left), else the
connection's facts.  The v2 TLVs: `authority` passes on the client's own PROXY authority
(sent only when it had one: pylvs's clients have no TLS SNI), `unique-id` the stream's
unique id, built by the frontend's `unique-id-format` on first use (empty without one,
nothing without a stream: stream_generate_unique_id), `crc32c` and the `ssl` ones as
proto/proxyproto.py writes them.  For mode http the header is also part of the server
connection's identity: an idle connection is reused only by a stream whose header is the
same (backend.c connect_server hashes the proxy line into the connection's key).
"""

from __future__ import annotations

from pylvs.model.proxy_spec import ConnFacts, ServerSpec
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
    return proxyproto.header(
        version,
        src,
        src_port,
        dst,
        dst_port,
        options=options,
        authority=facts.pp_authority,
        unique_id=unique_id,
    )
