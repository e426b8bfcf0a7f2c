"""The TLS words of `bind` and `server` lines that pylvs acts on, and the global
`ssl-server-verify` (HAProxy 2.6 configuration manual §5.1, §5.2, §3.1; src/cfgparse-ssl.c
`bind_kws` / `srv_kws`, src/ssl_crtlist.c, src/ssl_ckch.c for the file checks).

The readers (addresses.read_bind, server.read_options) ask `bind_arity` / `server_arity`
whether a word is one of these, check its value here (`check_bind` / `check_server`: HAProxy's
messages) and keep it, as written and in order, in the line's `others`; the converter turns
those words into model/tls.py's specs (`bind_tls`, `server_tls`), so a server's words laid
over its `default-server`'s follow HAProxy's order (a later `no-ssl` undoes an inherited
`ssl`).  Files are checked where the host lets the reader read them (HostFacts.read_file): a
certificate without a certificate or a key, a CA file without a certificate, a crt-list
with a bad line are located errors, as HAProxy refuses them at start.  TLS words not listed
here stay in config/haproxy/unsupported.py (warned, not acted on).
"""

from __future__ import annotations

from pylvs.config.errors import Cite, Kind, Location, Problems
from pylvs.config.haproxy.model import HaproxyConfig
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word
from pylvs.model.tls import ALL_ERRORS, VERSIONS, TlsBindSpec, TlsServerSpec
from pylvs.proto.crtlist import parse_crt_list

# `no-tlsv11`, `force-tlsv12`...: the versions' words (cfgparse-ssl.c parse_tls_method_options)
WORD_VERSION = dict(zip(("sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13"), VERSIONS, strict=True))
VERSION_FLAGS = tuple(f"{p}-{w}" for p in ("no", "force") for w in WORD_VERSION)
_SERVER_FLAGS: tuple[str, ...] = ("ssl", "no-ssl", "check-ssl", "no-check-ssl", "no-tls-tickets")
_SERVER_FLAGS += ("ssl-reuse", "no-ssl-reuse", "tls-tickets")
_SERVER_FLAGS += VERSION_FLAGS
_SERVER_VALUES: tuple[str, ...] = (
    "verify",
    "ca-file",
    "sni",
    "crt",
    "alpn",
    "ssl-min-ver",
    "ssl-max-ver",
)
_SERVER_VALUES += ("ciphers", "ciphersuites", "crl-file", "verifyhost", "check-sni", "check-alpn")
_BIND_VALUES: tuple[str, ...] = (
    "crt",
    "crt-list",
    "ca-file",
    "verify",
    "alpn",
    "ssl-min-ver",
    "ssl-max-ver",
)
_BIND_VALUES += ("ciphers", "ciphersuites", "curves", "ecdhe", "crl-file")
_BIND_VALUES += ("ca-ignore-err", "crt-ignore-err")
SERVER = {**dict.fromkeys(_SERVER_FLAGS, 0), **dict.fromkeys(_SERVER_VALUES, 1)}
_BIND_FLAGS = ("ssl", "no-tls-tickets", "prefer-client-ciphers", *VERSION_FLAGS)
_BIND_FLAGS += ("strict-sni", "no-ca-names")
BIND = {**dict.fromkeys(_BIND_FLAGS, 0), **dict.fromkeys(_BIND_VALUES, 1)}
_SERVER_VERIFY = ("none", "required")
_BIND_VERIFY = ("none", "optional", "required")
_DEFAULT_VERIFY_ALERT = (
    "verify is enabled by default but no CA file specified. If you're running on a LAN where"
    " you're certain to trust the server's certificate, please set an explicit 'verify none'"
    " statement on the 'server' line, or use 'ssl-server-verify none' in the global section"
    " to disable server-side verifications by default."
)


def _common(key: str, v: Word, ctx: Context, prefix: str, end: str = "") -> bool:
    """The checks `bind` and `server` share: versions, ALPN names, the files.  A server's
    complaints end with server.c display_parser_err's dot (`end`)."""
    text = v.text
    problem = None
    if key == "crt":
        problem = _crt_problem(text, ctx)
    elif key == "crt-list":
        problem = _crt_list_problem(text, ctx)
    if problem is not None:
        ctx.error(v.loc, prefix + problem)
        return False
    if key in ("ssl-min-ver", "ssl-max-ver") and text not in VERSIONS:
        ctx.error(v.loc, f"{prefix}'{text}' : unknown ssl/tls version{end}")
        return False
    if key in ("alpn", "check-alpn"):
        names = text.split(",")
        if not text or any(not n or len(n) > 255 for n in names):
            long = next((n for n in names if len(n) > 255), "")
            msg = f"ALPN protocol name too long : '{long}'" if long else "missing ALPN"
            ctx.error(v.loc, f"{prefix}'{key}' : {msg}{end}")
            return False
    if key in ("ca-file", "crl-file") and not _ca_file_ok(text, ctx):
        if end and key == "ca-file" and ctx.host.exists and not ctx.host.exists(text):
            # ssl_store_load_locations_file's own alert first, in the server's context; the
            # keyword's then comes without it (haproxy 2.6.12 prints it so)
            ctx.error(
                v.loc, f"{prefix}Couldn't open the ca-file '{text}' (No such file or directory)."
            )
            ctx.error(v.loc, f"'{key}' : unable to load {text}{end}", cite=Cite.BARE)
            return False
        ctx.error(v.loc, f"{prefix}'{key}' : unable to load {text}{end}")
        return False
    if key in ("ca-ignore-err", "crt-ignore-err") and ignored_errors(text) is None:
        code = next(c for c in (atoi(p) for p in text.split(",")) if not 0 < c <= MAX_ERROR)
        ctx.error(
            v.loc,
            f"{prefix}'{key}' : ID '{code}' out of range (1..{MAX_ERROR}) in error IDs list"
            f" '{text}'",
        )
        return False
    return True


MAX_ERROR = 94


def ignored_errors(text: str) -> frozenset[int] | None:
    """`ca-ignore-err` / `crt-ignore-err`: "all" or IDs separated by commas, each read with
    atoi (cfgparse-ssl.c bind_parse_ignore_err; 2.6.12 knows the codes up to 94,
    SSL_MAX_VFY_ERROR_CODE); None: an ID out of range."""
    if text == "all":
        return ALL_ERRORS
    codes = [atoi(p) for p in text.split(",")]
    return None if any(not 0 < c <= MAX_ERROR for c in codes) else frozenset(codes)


def atoi(text: str) -> int:
    """C's atoi: the leading digits (after a sign), 0 without any."""
    digits = text.lstrip()
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    n = len(digits) - len(digits.lstrip("0123456789"))
    return sign * int(digits[:n]) if n else 0


Others = list[tuple[str, tuple[str, ...]]]


def read_server_word(
    args: tuple[Word, ...], i: int, ctx: Context, who: str, others: Others
) -> int | None:
    """The TLS word at args[i] of a server line, kept in `others`: how many words it took,
    None after an error."""
    key = args[i].text
    n = SERVER[key]
    if n and i + n >= len(args):
        ctx.error(args[i].loc, f"'{who}' : '{key}' expects an argument.")
        return None
    values = tuple(based(key, a, ctx) for a in args[i + 1 : i + 1 + n])
    if n and not check_server(key, values[0], ctx, who):
        return None
    others.append((key, tuple(a.text for a in values)))
    return 1 + n


# What each bind keyword's parser says when its value is missing (listener.c, cfgparse-ssl.c;
# the others say "missing value")
BIND_MISSING = {
    "id": "expects an integer argument",
    "name": "missing name",
    "alpn": "missing the comma-delimited ALPN protocol suite",
    "ca-file": "missing CAfile path",
    "ca-verify-file": "missing CAfile path",
    "ciphers": "missing cipher suite",
    "ciphersuites": "missing cipher suite",
    "crt": "missing certificate location",
    "crt-list": "missing certificate location",
    "crl-file": "missing CRLfile path",
    "curves": "missing curve suite",
    "ecdhe": "missing named curve",
    "ca-ignore-err": "missing error IDs list",
    "crt-ignore-err": "missing error IDs list",
    "ssl-min-ver": "missing the ssl/tls version",
    "ssl-max-ver": "missing the ssl/tls version",
}


def read_bind_word(
    args: tuple[Word, ...], i: int, ctx: Context, what: str, others: Others, *, named: str = ""
) -> int | None:
    """The TLS word at args[i] of a bind line (args[0]: its address), kept in `others`;
    `named` is how listener.c names the line in its complaints (else "'bind ADDR' : ")."""
    key = args[i].text
    n = BIND[key]
    if n and i + n >= len(args):
        said = f"{named}'{key}' : {BIND_MISSING.get(key, 'missing value')}"
        ctx.error(args[i].loc, said if named else f"'{what}' : missing value for option '{key}'.")
        return None
    values = tuple(based(key, a, ctx) for a in args[i + 1 : i + 1 + n])
    if n and not check_bind(key, values[0], ctx, named or f"'{what} {args[0].text}' : "):
        return None
    kept = tuple(a.text for a in values)
    if key == "crt-list":  # its lines are read by the runtime, under the bases of now
        kept += (ctx.paths.get("crt-base", ""), ctx.paths.get("ca-base", ""))
    others.append((key, kept))
    return 1 + n


# the words whose relative paths the global `ca-base` / `crt-base` prefix (cfgparse-ssl.c:
# bind_parse_crt, ssl_bind_parse_ca_file_common, ssl_bind_parse_crl_file, srv_parse_*; a
# `crt-list` path is taken as written, its lines are prefixed by the runtime)
_BASE_OF = {"crt": "crt-base", "ca-file": "ca-base", "crl-file": "ca-base"}


def based(key: str, v: Word, ctx: Context) -> Word:
    """`v` with its path under the base directory of `key`, when one applies."""
    base = ctx.paths.get(_BASE_OF.get(key, ""))
    if base is None or v.text.startswith("/"):
        return v
    return v._replace(text=f"{base}/{v.text}")


def check_bind(key: str, v: Word, ctx: Context, prefix: str) -> bool:
    """A bind TLS word's value; False after an error (located at the value)."""
    if key == "verify" and v.text not in _BIND_VERIFY:
        ctx.error(
            v.loc,
            f"{prefix}'verify' : unknown verify method '{v.text}', only 'none', 'optional',"
            " and 'required' are supported",
        )
        return False
    return _common(key, v, ctx, prefix)


SNI_FORMS = ("ssl_fc_sni", "req.hdr(host)", "hdr(host)")


def check_server(key: str, v: Word, ctx: Context, who: str) -> bool:
    """A server TLS word's value; False after an error."""
    prefix = f"'{who}' : "
    if key == "sni" and not _sni_acted_on(v.text):
        ctx.warning(
            v.loc,
            f"{prefix}'sni {v.text}' : pylvs sends the name of `sni str(NAME)`, `sni ssl_fc_sni`"
            " and `sni req.hdr(host)` only; this expression is not evaluated (no SNI is sent)",
            Kind.UNSUPPORTED,
        )
    if key == "verify" and v.text not in _SERVER_VERIFY:
        ctx.error(
            v.loc,
            f"{prefix}'verify' : unknown verify method '{v.text}', only 'none' and 'required'"
            " are supported.",
        )
        return False
    return _common(key, v, ctx, prefix, ".")


def _sni_acted_on(text: str) -> bool:
    low = text.lower()
    return (text.startswith("str(") and text.endswith(")")) or low in SNI_FORMS


def _crt_problem(path: str, ctx: Context) -> str | None:
    """What HAProxy says of a certificate file it cannot use (src/ssl_ckch.c), or None.
    A path the reader cannot read but which exists is taken for a directory (the runtime
    lists it)."""
    if ctx.host.exists is not None and not ctx.host.exists(path):
        return f"unable to stat SSL certificate from file '{path}' : No such file or directory."
    data = ctx.host.read_file(path) if ctx.host.read_file is not None else None
    if data is None:
        return None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return f"unable to load certificate from file '{path}'."
    if b"PRIVATE KEY-----" not in data:
        key = path + ".key"
        other = ctx.host.read_file(key) if ctx.host.read_file is not None else None
        if other is None or b"PRIVATE KEY-----" not in other:
            return f"No Private Key found in '{key}'."
    return None


def _ca_file_ok(path: str, ctx: Context) -> bool:
    if ctx.host.read_file is None:
        return True
    data = ctx.host.read_file(path)
    if data is None:
        return False
    return b"-----BEGIN CERTIFICATE-----" in data or b"-----BEGIN X509 CRL-----" in data


def _crt_list_problem(path: str, ctx: Context) -> str | None:
    if ctx.host.read_file is None:
        return None
    data = ctx.host.read_file(path)
    if data is None:
        return f"cannot open file '{path}' : No such file or directory"
    got = parse_crt_list(data.decode("utf-8", "replace"), path)
    return got if isinstance(got, str) else None


def bind_tls(others: tuple[tuple[str, tuple[str, ...]], ...], where: str) -> TlsBindSpec | None:
    """A bind's TLS spec from its words (None: no `ssl`: the crt words then only load)."""
    if not any(k == "ssl" for k, _ in others):
        return None
    certs: list[str] = []
    lists: list[str] = []
    bases: dict[str, str] = {}
    values: dict[str, str] = {}
    flags: set[str] = set()
    for key, args in others:
        if key == "crt":
            certs.append(args[0])
        elif key == "crt-list":
            lists.append(args[0])
            bases = {k: v for k, v in zip(("crt-base", "ca-base"), args[1:], strict=False) if v}
        elif key in BIND and args:
            values[key] = args[0]
        elif key in BIND:
            flag_word(key, values, flags)
    return TlsBindSpec(
        certs=tuple(certs),
        crt_lists=tuple(lists),
        ca_file=values.get("ca-file"),
        verify=values.get("verify", "none"),
        alpn=tuple(values["alpn"].split(",")) if "alpn" in values else (),
        min_ver=values.get("ssl-min-ver"),
        max_ver=values.get("ssl-max-ver"),
        ciphers=values.get("ciphers"),
        where=where,
        no_versions=versions_off(flags),
        no_tickets="no-tls-tickets" in flags,
        prefer_client_ciphers="prefer-client-ciphers" in flags,
        ciphersuites=values.get("ciphersuites"),
        curves=values.get("curves"),
        ecdhe=values.get("ecdhe"),
        crt_base=bases.get("crt-base"),
        ca_base=bases.get("ca-base"),
        crl_file=values.get("crl-file"),
        strict_sni="strict-sni" in flags,
        no_ca_names="no-ca-names" in flags,
        ca_ignore_err=ignored_errors(values.get("ca-ignore-err", "")) or frozenset(),
        crt_ignore_err=ignored_errors(values.get("crt-ignore-err", "")) or frozenset(),
    )


def versions_off(flags: set[str]) -> frozenset[str]:
    """The versions `no-sslv3`, `no-tlsv10`... turned off."""
    return frozenset(WORD_VERSION[f[3:]] for f in flags if f[3:] in WORD_VERSION)


def flag_word(key: str, values: dict[str, str], flags: set[str]) -> None:
    """A flag word: `force-X` is `ssl-min-ver X ssl-max-ver X` (parse_tls_method_options)."""
    if key.startswith("force-"):
        values["ssl-min-ver"] = values["ssl-max-ver"] = WORD_VERSION[key[6:]]
    else:
        flags.add(key)


def server_tls(
    others: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[TlsServerSpec | None, int]:
    """A server's TLS spec and `use_ssl` (HAProxy's srv->use_ssl: 1 `ssl`, -1 `no-ssl`, 0
    neither) from its words in order (src/cfgparse-ssl.c srv_parse_ssl / srv_parse_no_ssl:
    the TLS context exists once `ssl` or `check-ssl` was said, even if `no-ssl` follows)."""
    use_ssl = 0
    prepared = False
    check_ssl = False
    values: dict[str, str] = {}
    flags: set[str] = set()
    for key, args in others:
        if key in ("no-tls-tickets", "tls-tickets"):  # the later word wins; `ssl` after
            flags.discard("no-tls-tickets")  # `tls-tickets` lays the defaults on again
            flags.discard("tls-tickets")
            flags.add(key)
        elif key in VERSION_FLAGS:
            flag_word(key, values, flags)
        elif key in ("ssl-reuse", "no-ssl-reuse"):  # the later word wins
            flags.discard("no-ssl-reuse")
            flags.add(key)
        elif key == "ssl":
            use_ssl, prepared = 1, True
            flags.discard("tls-tickets")
        elif key == "no-ssl":
            prepared = prepared or use_ssl == 1
            use_ssl = -1
        elif key in ("check-ssl", "no-check-ssl"):
            check_ssl = key == "check-ssl"
            prepared = prepared or check_ssl
            if check_ssl:
                flags.discard("tls-tickets")
        elif key in SERVER and args:
            values[key] = args[0]
    if not prepared:
        return None, use_ssl
    tls = TlsServerSpec(
        verify=values.get("verify"),
        ca_file=values.get("ca-file"),
        sni=values.get("sni"),
        crt=values.get("crt"),
        alpn=tuple(values["alpn"].split(",")) if "alpn" in values else (),
        min_ver=values.get("ssl-min-ver"),
        max_ver=values.get("ssl-max-ver"),
        ciphers=values.get("ciphers"),
        check_ssl=check_ssl,
        no_versions=versions_off(flags),
        no_tickets="no-tls-tickets" in flags,
        no_reuse="no-ssl-reuse" in flags,
        ciphersuites=values.get("ciphersuites"),
        tickets="tls-tickets" in flags,
        crl_file=values.get("crl-file"),
        verifyhost=values.get("verifyhost"),
        check_sni=values.get("check-sni"),
        check_alpn=tuple(values["check-alpn"].split(",")) if "check-alpn" in values else None,
    )
    return tls, use_ssl


def check_tls(
    others: tuple[tuple[str, tuple[str, ...]], ...], *, own: bool
) -> TlsServerSpec | None:
    """The TLS of a server's health checks: `check-ssl`, or the server's own `ssl` when the
    checks go to the server's address (src/check.c init_srv_check; not for `add server`'s
    servers, whose checks use TLS only with `check-ssl`: `own` is then set)."""
    tls, use_ssl = server_tls(others)
    if tls is None:
        return None
    return tls if tls.check_ssl or (not own and use_ssl == 1) else None


def effective_verify(tls: TlsServerSpec, global_verify: str) -> str:
    return tls.verify if tls.verify is not None else global_verify


def check_server_verify(
    tls: TlsServerSpec, global_verify: str, loc: Location, problems: Problems, who: str
) -> bool:
    """src/ssl_sock.c ssl_sock_prepare_srv_ctx: verifying without a CA file is refused, in
    words chosen by the global `ssl-server-verify` (required by default), whatever the
    server's own `verify` says; the server's context names it ("[F:L] : 'server B/S' : ")."""
    if effective_verify(tls, global_verify) != "required" or tls.ca_file is not None:
        return True
    said = (
        _DEFAULT_VERIFY_ALERT
        if global_verify == "required"
        else "verify is enabled but no CA file specified."
    )
    problems.error(loc, f"'{who}' : {said}", Kind.CONFIG, Cite.PLACE)
    return False


def check_servers(config: HaproxyConfig, problems: Problems) -> str:
    """The global `ssl-server-verify`, after refusing the servers whose TLS would verify
    without a CA file (those that use TLS for traffic or checks)."""
    verify = global_server_verify(config.global_.others)
    for proxy in config.proxies:
        for s in proxy.servers:
            tls, use_ssl = server_tls(s.others)
            if tls is not None and (use_ssl == 1 or tls.check_ssl):
                check_server_verify(tls, verify, s.loc, problems, f"server {proxy.name}/{s.name}")
    return verify


def global_server_verify(others: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The global `ssl-server-verify` (kept in Global.others by `read_global_verify`)."""
    value = "required"
    for key, args in others:
        if key == "ssl-server-verify" and args:
            value = args[0]
    return value


def read_global_verify(
    st: Statement, ctx: Context, others: list[tuple[str, tuple[str, ...]]]
) -> None:
    """`ssl-server-verify none|required` (cfgparse-ssl.c ssl_parse_global_ssl_server_verify)."""
    if len(st.args) != 1 or st.args[0].text not in _SERVER_VERIFY:
        ctx.error(
            st.loc,
            f"'{st.name}' expects 'none' or 'required' as argument.",
        )
        return
    others.append((st.name, (st.args[0].text,)))
