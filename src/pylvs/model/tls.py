"""TLS settings of HAProxy-style binds and servers, as values (HAProxy 2.6 configuration
manual §5.1 "Bind options" and §5.2 "Server and default-server options"; src/cfgparse-ssl.c).

The config reader fills them from `bind ... ssl crt ...` and `server ... ssl ...` words
(config/haproxy/ssl_options.py); the runtime builds Python `ssl` contexts from them
(dataplane/haproxy/tls.py).  Paths are as written, resolved against `crt-base` / `ca-base`
by the reader; a `crt` naming a directory is listed by the runtime (the reader does no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass

# HAProxy's protocol version names (`ssl-min-ver` / `ssl-max-ver`, src/ssl_sock.c methodVersions)
VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True, slots=True)
class CrtListEntry:
    """One line of a `crt-list` file: a certificate, its SNI filters ("!name" excludes) and
    the bind options it overrides (only `alpn`, `verify`, `ca-file` and the versions are
    read from them here)."""

    crt: str
    filters: tuple[str, ...] = ()
    alpn: tuple[str, ...] | None = None
    verify: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class TlsBindSpec:
    """`bind ... ssl`: the certificates offered (SNI picks among them: their CN and DNS
    subject alternative names, wildcards included; the first is the default) and what the
    handshake asks of clients."""

    certs: tuple[str, ...] = ()  # `crt` files or directories, in order
    crt_lists: tuple[str, ...] = ()  # `crt-list` files
    ca_file: str | None = None  # CAs client certificates are verified against
    verify: str = "none"  # none | optional | required
    alpn: tuple[str, ...] = ()
    min_ver: str | None = None
    max_ver: str | None = None
    ciphers: str | None = None  # TLS <= 1.2 cipher list (OpenSSL syntax)
    where: str = ""  # FILE:LINE of the bind line


@dataclass(frozen=True, slots=True)
class TlsServerSpec:
    """A server's TLS settings (`ssl` or an inherited `default-server ssl` prepared them;
    `ServerSpec.use_ssl` says whether traffic uses them, `set server B/S ssl` flips it)."""

    verify: str | None = None  # none | required (None: the global `ssl-server-verify`)
    ca_file: str | None = None
    sni: str | None = None  # the `sni` sample expression, as written
    crt: str | None = None  # client certificate (and key) file
    alpn: tuple[str, ...] = ()
    min_ver: str | None = None
    max_ver: str | None = None
    ciphers: str | None = None
    check_ssl: bool = False  # `check-ssl`: health checks speak TLS too


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """What a finished handshake tells the ssl_fc* / ssl_c* / ssl_bc* fetches
    (src/ssl_sample.c): the protocol and cipher, the SNI and ALPN names, the peer's
    certificate (its DER; its names in OpenSSL's one-line form when it was verified)."""

    protocol: str = ""  # "TLSv1.3"
    cipher: str = ""  # OpenSSL's name: "TLS_AES_256_GCM_SHA384"
    alg_keysize: int = 0
    sni: str | None = None
    alpn: str | None = None
    peer_der: bytes | None = None
    peer_subject: str | None = None  # "/C=FR/CN=client"
    peer_issuer: str | None = None
    peer_verified: bool = False
