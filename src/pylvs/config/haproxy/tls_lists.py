"""The cipher, TLS 1.3 suite and curve lists HAProxy hands OpenSSL when it prepares the TLS
contexts (src/ssl_sock.c ssl_sock_prepare_srv_ctx / ssl_sock_prepare_ctx, 2.6), after
reading: a list OpenSSL refuses (SSL_CTX_set_cipher_list, SSL_CTX_set_ciphersuites,
SSL_CTX_set1_curves_list) is an alert, for a server in its context ("[F:L] : 'server B/S' :
unable to set SSL cipher list to 'X'."), for a bind naming it.  A server's list is its own or
the global `ssl-default-server-*` one; a bind's, its own or `ssl-default-bind-*`.  Whether
OpenSSL takes a list is a host fact (config/keywords/context.py `tls_list_ok`): unknown, it is
not checked.
"""

from __future__ import annotations

from pylvs.config.errors import Cite
from pylvs.config.haproxy.model import Bind, Proxy
from pylvs.config.haproxy.ssl_global import tls_defaults
from pylvs.config.haproxy.ssl_options import bind_tls, server_tls
from pylvs.config.keywords import Context

Others = tuple[tuple[str, tuple[str, ...]], ...]
_SAID = {"ciphers": "SSL cipher list", "ciphersuites": "TLS 1.3 cipher suites"}
_SAID["curves"] = "SSL curves list"


def _refused(kind: str, value: str | None, ctx: Context) -> bool:
    ok = ctx.host.tls_list_ok
    return value is not None and ok is not None and not ok(kind, value)


def check_servers(p: Proxy, global_others: Others, ctx: Context) -> None:
    defaults = tls_defaults(global_others, "server")
    for s in p.servers:
        tls, use_ssl = server_tls(s.others)
        if tls is None or not (use_ssl == 1 or tls.check_ssl):
            continue
        lists = (
            ("ciphers", tls.ciphers or defaults.ciphers),
            ("ciphersuites", tls.ciphersuites or defaults.ciphersuites),
        )
        for kind, value in lists:
            if _refused(kind, value, ctx):
                ctx.error(
                    s.loc,
                    f"'server {p.name}/{s.name}' : unable to set {_SAID[kind]} to '{value}'.",
                    cite=Cite.PLACE,
                )
                break


def check_bind(p: Proxy, b: Bind, global_others: Others, ctx: Context) -> None:
    tls = bind_tls(b.others, "")
    if tls is None:
        return
    defaults = tls_defaults(global_others, "bind")
    lists = (
        ("ciphers", tls.ciphers or defaults.ciphers),
        ("ciphersuites", tls.ciphersuites or defaults.ciphersuites),
        ("curves", tls.curves or defaults.curves),
    )
    # ssl_sock_prepare_ctx runs for the bind's default context and for each certificate's,
    # adding its complaint to one message each time: HAProxy prints it that many times
    times = 1 + len(tls.certs)
    for kind, value in lists:
        if _refused(kind, value, ctx):
            said = (
                f"Proxy '{p.name}': unable to set {_SAID[kind]} to '{value}' for bind '{b.arg}'"
                f" at [{b.loc.file}:{b.loc.line}]."
            )
            ctx.error(b.loc, "\n".join([said] * times), cite=Cite.NONE)
