"""TLS settings of HAProxy-style binds and servers, as values (HAProxy 2.6 configuration
manual §5.1 "Bind options" and §5.2 "Server and default-server options"; src/cfgparse-ssl.c).

The config reader fills them from `bind ... ssl crt ...` and `server ... ssl ...` words
(config/haproxy/ssl_options.py); the runtime builds Python `ssl` contexts from them
(dataplane/haproxy/tls.py).  Paths are resolved against `crt-base` / `ca-base` by the
reader (the lines of a `crt-list`, read by the runtime, with the bind's `crt_base` /
`ca_base`); a `crt` naming a directory is listed by the runtime (the reader does no I/O).
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
    no_versions: frozenset[str] = frozenset()  # `no-tlsv11`...: versions turned off
    no_tickets: bool = False  # `no-tls-tickets`
    prefer_client_ciphers: bool = False  # `prefer-client-ciphers`
    ciphersuites: str | None = None  # TLS 1.3 suites (`ciphersuites`)
    curves: str | None = None  # `curves`: the key exchange groups, "X25519:P-256"
    ecdhe: str | None = None  # `ecdhe`: one group (used when `curves` is not given)
    crt_base: str | None = None  # the global `crt-base` / `ca-base`, for crt-list lines
    ca_base: str | None = None
    crl_file: str | None = None  # `crl-file`: client certificates checked against it
    strict_sni: bool = False  # `strict-sni`: no certificate for the SNI: no handshake
    no_ca_names: bool = False  # `no-ca-names`: the CA names are not sent to clients
    # `ca-ignore-err` / `crt-ignore-err`: the X509 verify errors (1..94) let through on a
    # CA of the client's chain / on its certificate (all: every one)
    ca_ignore_err: frozenset[int] = frozenset()
    crt_ignore_err: frozenset[int] = frozenset()


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
    no_versions: frozenset[str] = frozenset()  # `no-tlsv11`...: versions turned off
    no_tickets: bool = False  # `no-tls-tickets`
    no_reuse: bool = False  # `no-ssl-reuse`: every connection makes a full handshake
    ciphersuites: str | None = None  # TLS 1.3 suites (`ciphersuites`)
    tickets: bool = False  # `tls-tickets` after `ssl`: the global `no-tls-tickets` undone
    crl_file: str | None = None  # `crl-file`: the server's certificate checked against it
    # `verifyhost`: the name the server's certificate must carry when no SNI is sent (the
    # SNI sent is checked otherwise), with `verify required`
    verifyhost: str | None = None
    check_sni: str | None = None  # `check-sni`: the SNI of the health checks
    check_alpn: tuple[str, ...] | None = None  # `check-alpn`: the checks' ALPN protocols


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
    # the certificate this side presented (a bind's, as SNI picked it): its key and
    # signature algorithms, as `proxy-v2-options cert-key` / `cert-sig` send them
    local_key_alg: str = ""  # "RSA2048"
    local_sig_alg: str = ""  # "RSA-SHA256"
    resumed: bool = False  # an abbreviated handshake (a session resumed: no new keys)


@dataclass(frozen=True, slots=True)
class TlsDefaults:
    """The global `ssl-default-bind-*` or `ssl-default-server-*` settings (cfgparse-ssl.c
    ssl_parse_default_bind_options / _server_options, ssl_parse_global_ciphers): what a
    bind's `ssl` (bind_parse_ssl) or a server's TLS (ssl_sock_init_srv) starts from; its
    own words win, its turned-off versions add up."""

    ciphers: str | None = None
    min_ver: str | None = None
    max_ver: str | None = None
    no_versions: frozenset[str] = frozenset()
    no_tickets: bool = False
    prefer_client_ciphers: bool = False  # binds only
    ciphersuites: str | None = None  # `ssl-default-{bind,server}-ciphersuites`
    curves: str | None = None  # `ssl-default-bind-curves` (binds only)
    # binds only: `ssl-dh-param-file` (DH parameters for every certificate without its
    # own) and `tune.ssl.default-dh-param` (0: no DHE unless a certificate brings its own)
    dh_param_file: str | None = None
    default_dh_param: int = 0
    # process-wide, kept with the binds' defaults: `maxsslconn` (TLS connections at once,
    # both sides; 0: no limit), `tune.ssl.cachesize` (the binds' session cache; None:
    # OpenSSL's, 0: none) and `tune.ssl.lifetime` (sessions' and tickets' lifetime, s)
    max_conns: int = 0
    cache_size: int | None = None
    lifetime_s: int = 0


NO_DEFAULTS = TlsDefaults()
ALL_ERRORS = frozenset(range(95))  # `ca-ignore-err all`: 0..SSL_MAX_VFY_ERROR_CODE (94)

# CONF_TLSV12: a bind's minimum when none is set (ssl_sock_prepare_ctx, HAProxy >= 2.2)
BIND_DEFAULT_MIN = "TLSv1.2"


def version_range(
    min_ver: str | None,
    max_ver: str | None,
    no_versions: frozenset[str],
    available: tuple[str, ...],
    default_min: str | None = None,
) -> tuple[str, str] | None:
    """The (lowest, highest) protocol versions a context allows, as ssl_sock_prepare_ctx /
    ssl_sock_prepare_srv_ssl_ctx work them out: turned-off versions count only without
    `ssl-min-ver`/`ssl-max-ver`; the range runs from the first version left on to the last
    (a hole inside it is only warned of by HAProxy); None when every version is off.
    `available`: the versions the TLS library has; `default_min`: a bind's minimum."""
    off = set(no_versions) if not (min_ver or max_ver) else set()
    if min_ver is None and default_min is not None:
        if max_ver is None or VERSIONS.index(max_ver) >= VERSIONS.index(default_min):
            min_ver = default_min
        else:
            min_ver = max_ver
    low = VERSIONS.index(min_ver) if min_ver else 0
    high = VERSIONS.index(max_ver) if max_ver else len(VERSIONS) - 1
    on = [v for i, v in enumerate(VERSIONS) if low <= i <= high and v in available and v not in off]
    if not on:
        return None
    return on[0], on[-1]
