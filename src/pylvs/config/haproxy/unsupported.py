"""The haproxy.cfg keywords pylvs reads and does not act on: the one list (issue 18 #5, 20 #1).

HAProxy 2.6 acts on every keyword and option here; pylvs checks it as HAProxy does (a bad
value is still an error), keeps it in the model as written (`others`), warns "pylvs does not
do ..." (problem kind UNSUPPORTED: `pylvs check --strict` fails on it) and runs without it.
`docs/unsupported-haproxy.md` is generated from this list (`python -m
pylvs.config.haproxy.unsupported > docs/unsupported-haproxy.md`; a test keeps them equal).  An
entry leaves the list when the runtime starts acting on it.

Arities are HAProxy's (src/server.c, src/cfgparse-tcp.c, src/ssl_crtlist.c, src/ssl_sock.c
`srv_kws` / `bind_kws` registrations): how many words follow the option.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from pylvs.config.keywords.unsupported import markdown as unsupported_markdown
from pylvs.config.keywords.unsupported import message


@dataclass(frozen=True, slots=True)
class Unsupported:
    where: str  # "global", "proxy", "server", "bind", or "section"
    keyword: str
    why: str


def _w(text: str) -> list[str]:
    return text.split()


_TLS = (
    "this TLS option is not implemented (pylvs's TLS is Python's ssl module: `ssl`, `crt`,"
    " `crt-list`, `ca-file`, `verify`, `alpn`, `sni`, `ciphers`, `ciphersuites`, `curves`,"
    " `ecdhe`, `ssl-min-ver`/`ssl-max-ver`, `no-tlsv1x`/`force-tlsv1x`, `ca-base`/`crt-base`,"
    " `ssl-default-{bind,server}-{ciphers,ciphersuites,options}`, `ssl-default-bind-curves`,"
    " `ssl-dh-param-file`, `tune.ssl.default-dh-param`, `maxsslconn`, `maxsslrate`,"
    " `tune.ssl.cachesize`, `tune.ssl.lifetime`)"
)
_THREADS = "pylvs runs one event loop; HAProxy's threads and CPU pinning do not apply"
_POLLER = "HAProxy's pollers and socket tuning do not apply to pylvs's event loop"
_TUNE = "HAProxy's internal buffer and scheduler tuning has no pylvs equivalent"
_COMP = "HTTP compression runs at tune.comp.maxlevel with zlib's default memory and window"
_QUIC = "QUIC is not implemented"
_MAIL = "e-mail alerts are not sent"
_FCGI = "FastCGI is not implemented"
_SOCKS = (
    "a server's traffic does not go through its SOCKS4 proxy (its health check does, with"
    " check-via-socks4)"
)
_NS = "pylvs runs in the network namespace it is started in"
_PROC = "pylvs runs as one process started by the service manager"
_HTTPCLIENT = "HAProxy's internal HTTP client is not implemented"
_DEBUG = "HAProxy's debugging and profiling aids do not apply"
_EXT = "external health-check programs are not run"
_FILTER = "stream filters (SPOE, trace, bandwidth limits) are not implemented"
_H2 = "HTTP/2 runs with HAProxy's default settings (100 streams, 64 KiB windows, 16 KiB frames)"
_NETSCALER = "NetScaler client IP insertion is not read"

_GLOBAL: dict[str, str] = {
    **dict.fromkeys(
        _w(
            "issuers-chain-path "
            "ssl-engine ssl-load-extra-del-ext "
            "ssl-load-extra-files ssl-mode-async ssl-propquery ssl-provider ssl-provider-path "
            "ssl-skip-self-issued-ca "
            "tune.ssl.capture-buffer-size tune.ssl.capture-cipherlist-size "
            "tune.ssl.force-private-cache tune.ssl.hard-maxrecord "
            "tune.ssl.keylog tune.ssl.maxrecord tune.ssl.ssl-ctx-cache-size "
            "httpclient.ssl.ca-file httpclient.ssl.verify"
        ),
        _TLS,
    ),
    **dict.fromkeys(_w("nbthread cpu-map numa-cpu-mapping thread-groups thread-group"), _THREADS),
    **dict.fromkeys(
        _w(
            "busy-polling noepoll nokqueue noevports nopoll noreuseport "
            "tune.rcvbuf.client tune.rcvbuf.server tune.sndbuf.client "
            "tune.sndbuf.server tune.maxaccept tune.maxpollevents tune.fd.edge-triggered "
            "tune.listener.multi-queue tune.recv_enough"
        ),
        _POLLER,
    ),
    **dict.fromkeys(
        _w(
            "tune.buffers.limit tune.buffers.reserve tune.chksize tune.fail-alloc "
            "tune.idle-pool.shared tune.idletimer tune.pattern.cache-size "
            "tune.pool-high-fd-ratio tune.pool-low-fd-ratio tune.runqueue-depth "
            "tune.sched.low-latency tune.vars.check-max-size tune.vars.global-max-size "
            "tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size "
            "tune.vars.txn-max-size no-memory-trimming"
        ),
        _TUNE,
    ),
    **dict.fromkeys(
        _w("maxcomprate maxcompcpuusage maxzlibmem tune.zlib.memlevel tune.zlib.windowsize"),
        _COMP,
    ),
    **dict.fromkeys(
        _w(
            "cluster-secret tune.quic.backend.max-idle-timeout "
            "tune.quic.frontend.conn-tx-buffers.limit tune.quic.frontend.max-idle-timeout "
            "tune.quic.frontend.max-streams-bidi tune.quic.retry-threshold"
        ),
        _QUIC,
    ),
    **dict.fromkeys(
        _w(
            "tune.h2.header-table-size tune.h2.initial-window-size tune.h2.max-concurrent-streams "
            "tune.h2.max-frame-size h2-workaround-bogus-websocket-clients"
        ),
        _H2,
    ),
    **dict.fromkeys(_w("httpclient.resolvers.id httpclient.resolvers.prefer"), _HTTPCLIENT),
    **dict.fromkeys(
        _w("set-dumpable profiling.tasks profiling.memory expose-experimental-directives"),
        _DEBUG,
    ),
    **dict.fromkeys(
        _w(
            "unix-bind insecure-fork-wanted insecure-setuid-wanted mworker-max-reloads "
            "fd-hard-limit"
        ),
        _PROC,
    ),
    "external-check": _EXT,
    "default-path": "relative paths are taken from the current directory",
    "h1-case-adjust": "header names are sent as received",
    "h1-case-adjust-file": "header names are sent as received",
    "tune.http.logurilen": "logged URIs are not truncated",
    "close-spread-time": "idle connections are closed at once on soft-stop",
}

_PROXY: dict[str, str] = {
    "filter": _FILTER,
    "email-alert": _MAIL,
    "use-fcgi-app": _FCGI,
    "external-check": _EXT,
    "log-format-sd": "log lines carry no structured data",
    "error-log-format": "connection errors are logged in pylvs's format",
    "max-keep-alive-queue": "an idle server connection is not waited for",
    "max-session-srv-conns": "server connections are not kept per session",
    "http-send-name-header": "the server's name is not sent in a request header",
    "clitcpka-cnt": _POLLER,
    "clitcpka-idle": _POLLER,
    "clitcpka-intvl": _POLLER,
    "srvtcpka-cnt": _POLLER,
    "srvtcpka-idle": _POLLER,
    "srvtcpka-intvl": _POLLER,
}

# server options: arity, why
_SERVER: dict[str, tuple[int, str]] = {
    "allow-0rtt": (0, _TLS),
    **dict.fromkeys(
        _w("npn"),
        (1, _TLS),
    ),
    "socks4": (1, _SOCKS),
    "namespace": (1, _NS),
    "tfo": (0, _POLLER),
    "no-tfo": (0, _POLLER),
    "tcp-ut": (1, _POLLER),
    "ws": (1, "WebSocket goes over HTTP/1.1 only"),
    "log-proto": (1, "servers of log-forward sections are not used"),
    "redir": (1, "redirecting clients to a server's address is not implemented"),
    "pool-low-conn": (1, "idle server connections are not pooled per thread"),
    "pool-max-conn": (1, "idle server connections are not pooled per thread"),
    "pool-purge-delay": (1, "idle server connections are not pooled per thread"),
    "max-reuse": (1, "idle server connections are not pooled per thread"),
}

# bind options: arity, why
_BIND: dict[str, tuple[int, str]] = {
    **dict.fromkeys(
        _w("allow-0rtt generate-certificates"),
        (0, _TLS),
    ),
    **dict.fromkeys(
        _w("ca-sign-file ca-sign-pass ca-verify-file npn tls-ticket-keys"),
        (1, _TLS),
    ),
    "quic-force-retry": (0, _QUIC),
    "accept-netscaler-cip": (1, _NETSCALER),
    "defer-accept": (0, _POLLER),
    "tfo": (0, _POLLER),
    "mss": (1, _POLLER),
    "tcp-ut": (1, _POLLER),
    "nice": (1, _POLLER),
    "namespace": (1, _NS),
    "process": (1, _THREADS),
    "thread": (1, _THREADS),
    "shards": (1, _THREADS),
    "severity-output": (1, "the master CLI is not implemented"),
}

_SECTIONS: dict[str, str] = {
    "mailers": _MAIL,
    "program": "programs are started only in master-worker mode (`pylvs haproxy -W`)",
    "ring": "log rings are not implemented",
    "log-forward": "log forwarding is not implemented",
    "fcgi-app": _FCGI,
}

UNSUPPORTED: tuple[Unsupported, ...] = (
    *(Unsupported("global", k, w) for k, w in sorted(_GLOBAL.items())),
    *(Unsupported("proxy", k, w) for k, w in sorted(_PROXY.items())),
    *(Unsupported("server", k, w) for k, (_, w) in sorted(_SERVER.items())),
    *(Unsupported("bind", k, w) for k, (_, w) in sorted(_BIND.items())),
    *(Unsupported("section", k, w) for k, w in sorted(_SECTIONS.items())),
)
GLOBAL = _GLOBAL
PROXY = _PROXY
SERVER = _SERVER
BIND = _BIND
SECTIONS = _SECTIONS
__all__ = ["BIND", "GLOBAL", "PROXY", "SECTIONS", "SERVER", "UNSUPPORTED", "markdown", "message"]


def markdown() -> str:
    return unsupported_markdown(
        "haproxy.cfg keywords pylvs reads but does not act on",
        "Generated from `src/pylvs/config/haproxy/unsupported.py`. `pylvs check` checks each\n"
        'of these as HAProxy 2.6 does and warns ("pylvs does not do ..."); with `--strict` it\n'
        "fails. pylvs then runs without what the keyword asks for.",
        ((u.where, u.keyword, u.why) for u in UNSUPPORTED),
    )


if __name__ == "__main__":
    sys.stdout.write(markdown())
