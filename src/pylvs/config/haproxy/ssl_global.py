"""The global section's TLS keywords (HAProxy 2.6 configuration manual §3.1; src/cfgparse-ssl.c
ssl_parse_global_ca_crt_base, ssl_parse_global_ciphers, ssl_parse_global_curves,
ssl_parse_default_bind_options / _server_options, ssl_parse_global_dh_param_file,
ssl_parse_global_default_dh).

`ca-base` / `crt-base` take effect on the lines after them: the reader keeps them in the
Context (`paths`) and the bind and server readers resolve relative `ca-file`, `crl-file`
and `crt` paths there (ssl_options.py), as HAProxy does while parsing; they are also kept in
Global.others for the lines of `crt-list` files, which the runtime reads.  The defaults
(`ssl-default-{bind,server}-*`, the DH settings, `maxsslconn`, the session cache's size and
lifetime) are kept in Global.others, checked as HAProxy checks them, and gathered by
`tls_defaults` into model/tls.py's TlsDefaults.
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.haproxy.ssl_options import VERSION_FLAGS, atoi, flag_word, versions_off
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement
from pylvs.model.tls import VERSIONS, TlsDefaults

Others = list[tuple[str, tuple[str, ...]]]
_SUITES = (
    "ssl-default-bind-ciphers",
    "ssl-default-server-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-server-ciphersuites",
)


def _too_many(st: Statement, ctx: Context, n: int) -> bool:
    """too_many_args: HAProxy's words for an extra argument."""
    if len(st.args) <= n:
        return False
    ctx.error(st.args[n].loc, f"'{st.name}' cannot handle unexpected argument '{st.args[n].text}'.")
    return True


def read_base(st: Statement, ctx: Context, others: Others) -> None:
    """`ca-base DIR` / `crt-base DIR`: once each."""
    if _too_many(st, ctx, 1):
        return
    if st.name in ctx.paths:
        ctx.error(st.loc, f"'{st.name}' already specified.")
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"global statement '{st.name}' expects a directory path as an argument.")
        return
    ctx.paths[st.name] = st.args[0].text
    others.append((st.name, (st.args[0].text,)))


def _read_list(st: Statement, ctx: Context, others: Others) -> None:
    """`ssl-default-*-ciphers`, `-ciphersuites`, `ssl-default-bind-curves`: one list."""
    what = (
        "a curves suite as an arguments"
        if st.name.endswith("curves")
        else "a cipher suite as an argument"
    )
    if _too_many(st, ctx, 1):
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"global statement '{st.name}' expects {what}.")
        return
    others.append((st.name, (st.args[0].text,)))


def _read_options(st: Statement, ctx: Context, others: Others) -> None:
    """`ssl-default-{bind,server}-options`: version words, `no-tls-tickets`,
    `prefer-client-ciphers` (binds)."""
    name, args = st.name, tuple(a.text for a in st.args)
    if not args:
        ctx.error(st.loc, f"global statement '{name}' expects an option as an argument.")
        return
    bind = "-bind-" in name
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("ssl-min-ver", "ssl-max-ver"):
            problem = None
            if i + 1 >= len(args):
                problem = f"'{word}' : missing the ssl/tls version"
            elif args[i + 1] not in VERSIONS:
                problem = f"'{args[i + 1]}' : unknown ssl/tls version"
            if problem is not None:
                ctx.error(st.loc, f"{problem} on global statement '{name}'.")
                return
            i += 1
        elif word not in ("no-tls-tickets", *VERSION_FLAGS) and not (
            bind and word == "prefer-client-ciphers"
        ):
            ctx.error(st.loc, f"unknown option '{word}' on global statement '{name}'.")
            return
        i += 1
    others.append((name, args))


def _read_dh_file(st: Statement, ctx: Context, others: Others) -> None:
    """`ssl-dh-param-file FILE`: read at parse time (ssl_sock_load_global_dh_param_from_file);
    the path is taken as written (no `ca-base`)."""
    if _too_many(st, ctx, 1):
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects a file path as an argument.")
        return
    path = st.args[0].text
    if ctx.host.read_file is not None:
        data = ctx.host.read_file(path)
        if data is None or b"DH PARAMETERS-----" not in data:
            ctx.error(st.loc, f"'{st.name}': unable to load DH parameters from file <{path}>.")
            return
    others.append((st.name, (path,)))


def _read_default_dh(st: Statement, ctx: Context, others: Others) -> None:
    """`tune.ssl.default-dh-param BITS` (read with atoi: "x" is 0)."""
    if _too_many(st, ctx, 1):
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects an integer argument.")
        return
    if atoi(st.args[0].text) < 1024:
        ctx.error(st.loc, f"'{st.name}' expects a value >= 1024.")
        return
    others.append((st.name, (str(atoi(st.args[0].text)),)))


def _read_int(st: Statement, ctx: Context, others: Others) -> None:
    """`maxsslconn N`, `tune.ssl.cachesize N` (ssl_parse_global_int: atoi, >= 0)."""
    if _too_many(st, ctx, 1):
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects an integer argument.")
        return
    if atoi(st.args[0].text) < 0:
        ctx.error(st.loc, f"'{st.name}' expects a positive numeric value.")
        return
    others.append((st.name, (str(atoi(st.args[0].text)),)))


# parse_time_err's units, for a time in seconds: (multiplier, divisor)
_SECONDS = {"us": (1, 1_000_000), "ms": (1, 1000), "s": (1, 1), "m": (60, 1), "h": (3600, 1)}
_SECONDS["d"] = (86400, 1)


def _read_lifetime(st: Statement, ctx: Context, others: Others) -> None:
    """`tune.ssl.lifetime TIME` (ssl_parse_global_lifetime: seconds by default)."""
    if _too_many(st, ctx, 1):
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects ssl sessions <lifetime> in seconds as argument.")
        return
    text = st.args[0].text
    n = len(text) - len(text.lstrip("0123456789"))
    unit = text[n:]
    if not n or (unit and unit not in _SECONDS):
        bad = (text[n:] or text)[:1]
        ctx.error(st.loc, f"unexpected character '{bad}' in argument to <{st.name}>.")
        return
    mult, div = _SECONDS.get(unit, (1, 1))
    seconds = (int(text[:n]) * mult + div - 1) // div
    if seconds > 2**31 - 1:
        ctx.error(
            st.loc,
            f"timer overflow in argument '{text}' to <{st.name}> (maximum value is 2147483647 s"
            " or ~68 years).",
        )
        return
    others.append((st.name, (str(seconds),)))


Reader = Callable[[Statement, Context, Others], None]
KEYWORDS: dict[str, Reader] = {
    "ca-base": read_base,
    "crt-base": read_base,
    **dict.fromkeys(_SUITES, _read_list),
    "ssl-default-bind-curves": _read_list,
    "ssl-default-bind-options": _read_options,
    "ssl-default-server-options": _read_options,
    "ssl-dh-param-file": _read_dh_file,
    "tune.ssl.default-dh-param": _read_default_dh,
    "maxsslconn": _read_int,
    "tune.ssl.cachesize": _read_int,
    "tune.ssl.lifetime": _read_lifetime,
}
# kept with the binds' defaults (tls_defaults)
_PROCESS: tuple[str, ...] = ("ssl-dh-param-file", "tune.ssl.default-dh-param", "maxsslconn")
_PROCESS += ("tune.ssl.cachesize", "tune.ssl.lifetime")


def bases(others: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """The global `ca-base` / `crt-base` (kept by `read_base`)."""
    return {k: a[0] for k, a in others if k in ("ca-base", "crt-base")}


def tls_defaults(others: tuple[tuple[str, tuple[str, ...]], ...], side: str) -> TlsDefaults:
    """The global defaults of `side` ("bind" or "server"), the last line of each winning
    (as the global section sets them in order); the DH settings are the binds'."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    for key, args in others:
        if key.startswith(f"ssl-default-{side}-") and not key.endswith("-options"):
            values[key.rsplit("-", 1)[1]] = args[0]
        elif key == f"ssl-default-{side}-options":
            words = iter(args)
            for word in words:
                if word in ("ssl-min-ver", "ssl-max-ver"):
                    values[word] = next(words)
                else:
                    flag_word(word, values, flags)
        elif side == "bind" and key in _PROCESS:
            values[key] = args[0]
    return TlsDefaults(
        ciphers=values.get("ciphers"),
        min_ver=values.get("ssl-min-ver"),
        max_ver=values.get("ssl-max-ver"),
        no_versions=versions_off(flags),
        no_tickets="no-tls-tickets" in flags,
        prefer_client_ciphers="prefer-client-ciphers" in flags,
        ciphersuites=values.get("ciphersuites"),
        curves=values.get("curves"),
        dh_param_file=values.get("ssl-dh-param-file"),
        default_dh_param=int(values.get("tune.ssl.default-dh-param", "0")),
        max_conns=int(values.get("maxsslconn", "0")),
        cache_size=int(values["tune.ssl.cachesize"]) if "tune.ssl.cachesize" in values else None,
        lifetime_s=int(values.get("tune.ssl.lifetime", "0")),
    )
