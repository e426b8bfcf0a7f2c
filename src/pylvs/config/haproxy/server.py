"""`server NAME ADDRESS [options]` and `default-server [options]` (HAProxy 2.6 §5.2;
src/server.c `_srv_parse_init`, src/check.c, src/ssl_sock.c).

Options are read into `ServerOptions` (None: not given); `reader.py` lays a server's options
over its proxy's `default-server` and HAProxy's defaults (weight 1, inter 2s, rise 2, fall 3).
Ranges and messages follow HAProxy: `weight` 0..256, `inter`/`fastinter`/`downinter` > 0,
`rise`/`fall` > 0, `id` > 0, `observe layer4|layer7`, `on-error`, `on-marked-down
shutdown-sessions`, `on-marked-up shutdown-backup-sessions`.  An unknown option is an alert with
HAProxy's "did you mean" suggestion.  TLS options (ssl_options.py) are checked there and
kept in `others` for the converter; options pylvs does not act on (some TLS ones, SOCKS4,
run-time DNS, ...: config/haproxy/unsupported.py) are kept as written with a warning.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from pylvs.config.errors import Kind, Problems, Severity
from pylvs.config.haproxy import ssl_options, unsupported
from pylvs.config.haproxy.addresses import MUX_MODES, server_target, socks4_target
from pylvs.config.haproxy.model import ServerOptions
from pylvs.config.haproxy.syntax import suggestion
from pylvs.config.haproxy.values import lenient, literal_ip, number, time_ms
from pylvs.config.keywords import Context
from pylvs.config.tree import Word
from pylvs.proto.proxyproto import V2_OPTIONS
from pylvs.sched.haproxy.cnum import atoi

_FLAGS: dict[str, tuple[str, bool]] = {
    "check": ("check", True),
    "no-check": ("check", False),
    "backup": ("backup", True),
    "no-backup": ("backup", False),
    "disabled": ("disabled", True),
    "enabled": ("disabled", False),
    "send-proxy": ("send_proxy", True),
    "no-send-proxy": ("send_proxy", False),
    "send-proxy-v2": ("send_proxy_v2", True),
    "no-send-proxy-v2": ("send_proxy_v2", False),
    "check-send-proxy": ("check_send_proxy", True),
    "no-check-send-proxy": ("check_send_proxy", False),
    "check-via-socks4": ("check_via_socks4", True),
    "agent-check": ("agent_check", True),
    "no-agent-check": ("agent_check", False),
    "non-stick": ("non_stick", True),
    "stick": ("non_stick", False),
}
# `send-proxy-v2-ssl[-cn]`: `send-proxy-v2` with `proxy-v2-options ssl[,cert-cn]`; their
# `no-` forms take the header and those options off (cfgparse-ssl.c srv_parse_send_proxy_*)
_PP_SSL = {
    "send-proxy-v2-ssl": (True, frozenset({"ssl"})),
    "send-proxy-v2-ssl-cn": (True, frozenset({"ssl", "cert-cn"})),
    "no-send-proxy-v2-ssl": (False, frozenset({"ssl"})),
    "no-send-proxy-v2-ssl-cn": (False, frozenset({"ssl", "cert-cn"})),
}
_TIMES = {
    "inter": "inter_ms",
    "fastinter": "fastinter_ms",
    "downinter": "downinter_ms",
    "slowstart": "slowstart_ms",
    "agent-inter": "agent_inter_ms",
}
_COUNTS = {
    "rise": ("rise", 1, 2**31 - 1),
    "fall": ("fall", 1, 2**31 - 1),
    "maxconn": ("maxconn", 0, 2**31 - 1),
    "maxqueue": ("maxqueue", 0, 2**31 - 1),
    "minconn": ("minconn", 0, 2**31 - 1),
    "error-limit": ("error_limit", 1, 2**31 - 1),
}
_CHOICES = {
    "observe": ("observe", ("none", "layer4", "layer7")),
    "on-error": ("on_error", ("fastinter", "fail-check", "sudden-death", "mark-down")),
    "on-marked-down": ("on_marked_down", ("shutdown-sessions",)),
    "on-marked-up": ("on_marked_up", ("shutdown-backup-sessions",)),
}
# How server.c srv_parse_observe/on_error/on_marked_* name the choices
_CHOICE_WORDS = {
    "observe": "one of 'none', 'layer4', 'layer7'",
    "on-error": "one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down'",
    "on-marked-down": "'shutdown-sessions'",
    "on-marked-up": "'shutdown-backup-sessions'",
}
# What server.c says of an option missing its value, where it is not "expects an argument."
_MISSING = {"cookie": "expects <value> as argument.."}
_MISSING.update({k: "expects an integer argument.." for k in ("rise", "fall", "error-limit")})
_SOURCE_MISSING = (
    "expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name>"
    " as argument"
)
# Options server.c reads with atol without looking: a missing value is 0
_EMPTY_OK = ("maxconn", "maxqueue", "minconn", "weight")
_WORDS = {"cookie": "cookie", "resolvers": "resolvers", "track": "track"}
_WORDS.update({"agent-addr": "agent_addr", "agent-send": "agent_send", "proto": "proto"})
_WORDS["check-proto"] = "check_proto"
KNOWN = sorted(
    {*_FLAGS, *_TIMES, *_COUNTS, *_CHOICES, *_WORDS, *unsupported.SERVER, *ssl_options.SERVER}
    | {"weight", "port", "addr", "id", "init-addr", "agent-port", "source", "usesrc"}
    | {"proxy-v2-options", "resolve-prefer", "resolve-net", "resolve-opts"}
    | set(_PP_SSL)
)
_RESOLVE_OPTS = ("allow-dup-ip", "ignore-weight", "prevent-dup-ip")


def read_options(
    args: tuple[Word, ...], ctx: Context, who: str, server: str, *, default: bool
) -> tuple[ServerOptions, int | None] | None:
    """The options of a server line (after its address) and its `id`; None on an error."""
    values: dict[str, object] = {}
    others: list[tuple[str, tuple[str, ...]]] = []
    sid: int | None = None
    i = 0
    while i < len(args):
        w = args[i]
        key = w.text
        if key in _FLAGS or key in _PP_SSL:
            _flag(key, values)
            i += 1
            continue
        if key in ssl_options.SERVER or key in unsupported.SERVER:
            # TLS words (checked and kept for convert.py) or words pylvs does not act on
            read = ssl_options.read_server_word if key in ssl_options.SERVER else _unsupported
            taken = read(args, i, ctx, who, others)
            if taken is None:
                return None
            i += taken
            continue
        if key == "source":
            end = _source_end(args, i + 1)
            if end == i + 1:
                ctx.error(w.loc, f"'{who}' : 'source' {_SOURCE_MISSING}..")
                return None
            values["source"] = tuple(a.text for a in args[i + 1 : end])
            i = end
            continue
        if key == "usesrc":
            ctx.error(w.loc, f"'{who}' : 'usesrc' only allowed after a 'source' statement.")
            return None
        if key not in KNOWN:
            hint = suggestion(key, KNOWN) or "."
            ctx.error(w.loc, f"'{who}' : unknown keyword '{key}'{hint}")
            return None
        v = _value_word(args, i, ctx, who)
        if v is None:
            return None
        i += 2
        if key == "id":
            if default:
                ctx.error(w.loc, f"'{who}' : 'id' is not supported in default-server.")
                return None
            n = number(v, ctx, f"{who} id", -(2**31), 2**31 - 1)
            if n is None:
                return None
            if n <= 0:
                ctx.error(v.loc, f"'{who}' : 'id' : custom id has to be > 0.")
                return None
            sid = n
        elif not _value(key, v, ctx, who=who, server=server, values=values, others=others):
            return None
    opts = ServerOptions(**values, others=tuple(others))  # type: ignore[arg-type]
    return opts, sid


def _value_word(args: tuple[Word, ...], i: int, ctx: Context, who: str) -> Word | None:
    """The value of the option at args[i]; when the line ends there, what server.c reads:
    the empty word after the last one (atol("") is 0), or the option's complaint."""
    key = args[i].text
    if i + 1 < len(args):
        return args[i + 1]
    if key in _EMPTY_OK:
        return Word("", args[i].loc)
    ctx.error(args[i].loc, f"'{who}' : '{key}' {_MISSING.get(key, 'expects an argument.')}")
    return None


def _unsupported(
    args: tuple[Word, ...],
    i: int,
    ctx: Context,
    who: str,
    others: list[tuple[str, tuple[str, ...]]],
) -> int | None:
    """An option of unsupported.SERVER at args[i], kept with a warning: how many words it
    took, None after an error.  `socks4`'s address is checked (and kept expanded), as the
    health check may go through it (`check-via-socks4`)."""
    w = args[i]
    key = w.text
    arity, why = unsupported.SERVER[key]
    if i + arity >= len(args) + (arity == 0):
        ctx.error(w.loc, f"'{who}' : '{key}' expects an argument.")
        return None
    values = tuple(a.text for a in args[i + 1 : i + 1 + arity])
    if key == "socks4":
        proxy = socks4_target(values[0], ctx.env)
        if isinstance(proxy, str):
            ctx.error(w.loc, f"'{who}' : 'socks4 {values[0]}' : {proxy}")
            return None
        host, port = proxy
        values = (f"[{host}]:{port}" if ":" in host else f"{host}:{port}",)
    others.append((key, values))
    ctx.warning(w.loc, unsupported.message(key, why), Kind.UNSUPPORTED)
    return 1 + arity


def _time(key: str, v: Word, ctx: Context, who: str, server: str) -> int | None:
    """A server's delay, with HAProxy's messages for it (check.c srv_parse_*inter, server.c
    srv_parse_slowstart: every check interval calls a bad character one of 'agent-inter')."""
    scratch = dataclasses.replace(ctx, problems=Problems())
    t = time_ms(v, scratch, key)
    for p in scratch.problems:
        if p.severity is Severity.WARNING:  # parse_time_err's, in the server's context
            ctx.problems.add(dataclasses.replace(p, message=f"'{who}' : {p.message}"))
    if t is not None:
        return t
    said = " ".join(p.message for p in scratch.problems.errors)
    timer = "" if key == "slowstart" else "timer "
    if "overflow" in said:
        why = (
            f"{timer}overflow in argument <{v.text}> to <{key}> of server {server}, maximum value"
            " is 2147483647 ms (~24.8 days)"
        )
    elif "underflow" in said:
        why = (
            f"{timer}underflow in argument <{v.text}> to <{key}> of server {server}, minimum"
            " non-null value is 1 ms"
        )
    else:
        bad = said.split("'")[1] if said.count("'") >= 2 else v.text[:1]
        name = "slowstart" if key == "slowstart" else "agent-inter"
        why = f"unexpected character '{bad}' in '{name}' argument of server {server}."
    ctx.error(v.loc, f"'{who}' : {why}.")
    return None


def _value(  # noqa: C901 - one branch per value rule of HAProxy's server keywords
    key: str,
    v: Word,
    ctx: Context,
    *,
    who: str,
    server: str,
    values: dict[str, object],
    others: list[tuple[str, tuple[str, ...]]],
) -> bool:
    """Read one option's value into `values`; False after an error."""
    if key == "weight":
        n = lenient(v, ctx, key)  # server.c srv_parse_weight: atol, then 0..SRV_UWGHT_MAX
        if not 0 <= n <= 256:
            ctx.error(v.loc, f"'{who}' : weight of server {server} is not within 0 and 256 ({n})..")
            return False
        values["weight"] = n
    elif key in ("port", "agent-port"):
        # check.c srv_parse_check_port / agent_port: atol, refused only when empty; the
        # connection keeps its 16 low bits (htons), 0 is no port of its own
        p = atoi(v.text) & 0xFFFF
        if not v.text:
            ctx.error(v.loc, f"'{who}' : '{key}' expects a port number as argument.")
            return False
        values["check_port" if key == "port" else "agent_port"] = p or None
    elif key == "addr":
        ip = literal_ip(v.text)
        if ip is None:
            ctx.error(v.loc, f"'{who}' : invalid address '{v.text}' for 'addr'.")
            return False
        values["check_addr"] = ip
    elif key in _TIMES:
        t = _time(key, v, ctx, who, server)
        if t is None:
            return False
        if t <= 0 and key != "slowstart":
            ctx.error(
                v.loc, f"'{who}' : invalid value {t} for argument '{key}' of server {server}.."
            )
            return False
        values[_TIMES[key]] = t
    elif key in _COUNTS:
        # server.c srv_parse_maxconn/maxqueue/minconn: atol, unchecked; check.c
        # srv_parse_check_rise/fall and server.c srv_parse_error_limit: atol, then > 0
        attr, lo, _hi = _COUNTS[key]
        if lo and not v.text:
            ctx.error(v.loc, f"'{who}' : '{key}' expects an integer argument..")
            return False
        n = lenient(v, ctx, key)
        if n < lo:
            quoted = key if key == "error-limit" else f"'{key}'"
            ctx.error(v.loc, f"'{who}' : {quoted} has to be > 0..")
            return False
        values[attr] = n
    elif key in _CHOICES:
        attr, choices = _CHOICES[key]
        if v.text not in choices:
            ctx.error(v.loc, f"'{who}' : '{key}' expects {_CHOICE_WORDS[key]} but got '{v.text}'.")
            return False
        values[attr] = v.text
    elif key in ("proto", "check-proto") and v.text not in MUX_MODES:
        ctx.error(v.loc, f"'{who}' : '{key}' :  unknown MUX protocol '{v.text}'.")
        return False
    elif key in _WORDS:
        values[_WORDS[key]] = v.text
    elif key == "init-addr":
        methods = tuple(v.text.split(","))
        bad = [m for m in methods if m not in ("last", "libc", "none") and literal_ip(m) is None]
        if bad:
            ctx.error(
                v.loc,
                f"'{who}' : 'init-addr' : unknown init-addr method '{bad[0]}', supported methods"
                " are 'libc', 'last', 'none'..",
            )
            return False
        values["init_addr"] = methods
    elif key == "proxy-v2-options":
        return _pp_options(v, ctx, who, values)
    elif key.startswith("resolve-"):
        return _resolve(key, v, ctx, who, values)
    return True


def _resolve(key: str, v: Word, ctx: Context, who: str, values: dict[str, object]) -> bool:
    """`resolve-prefer`, `resolve-net`, `resolve-opts` (src/server.c srv_parse_resolve_*)."""
    if key == "resolve-prefer":
        if v.text not in ("ipv4", "ipv6"):
            ctx.error(v.loc, f"'{who}' : '{key}' expects either ipv4 or ipv6 as argument..")
            return False
        values["resolve_prefer"] = v.text
        return True
    if key == "resolve-net":
        nets: list[str] = []
        for text in v.text.split(",") if v.text else ():
            net = _network(text)
            if len(nets) >= 5:  # SRV_MAX_PREF_NET
                ctx.error(v.loc, f"'{who}' : '{key}' exceed 5 networks..")
                return False
            if net is None:
                ctx.error(v.loc, f"'{who}' : '{key}' invalid network '{text}'..")
                return False
            nets.append(net)
        if not nets:
            ctx.error(v.loc, f"'{who}' : '{key}' expects a list of networks..")
            return False
        values["resolve_net"] = tuple(nets)
        return True
    opts = [o for o in v.text.split(",") if o]
    bad = next((o for o in opts if o not in _RESOLVE_OPTS), None)
    if bad is not None:
        ctx.error(
            v.loc,
            f"'{who}' : '{key}' : unknown resolve-opts option '{bad}', supported methods are"
            " 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'..",
        )
        return False
    values["resolve_opts"] = tuple(opts)
    return True


def _network(text: str) -> str | None:
    """str2net / str62net: ADDR[/MASK] (an IPv4 mask may be dotted), as "ADDR/LEN"."""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def _flag(key: str, values: dict[str, object]) -> None:
    """A word without a value: one of _FLAGS, or of _PP_SSL (two settings at once)."""
    if key in _FLAGS:
        attr, flag = _FLAGS[key]
        values[attr] = flag
        return
    on, names = _PP_SSL[key]
    before = values.get("proxy_v2_options")
    options = before if isinstance(before, frozenset) else frozenset()
    values["send_proxy_v2"] = on
    values["proxy_v2_options"] = options | names if on else options - names


def _pp_options(v: Word, ctx: Context, who: str, values: dict[str, object]) -> bool:
    """`proxy-v2-options a,b,...` (srv_parse_proxy_v2_options: an unknown or empty name is
    fatal)."""
    names = v.text.split(",")
    for name in names:
        if name not in V2_OPTIONS:
            ctx.error(v.loc, f"'{who}' : '{name}' : proxy v2 option not implemented.")
            return False
    before = values.get("proxy_v2_options")  # added to those said before (pp_opts |= ...)
    values["proxy_v2_options"] = frozenset(names) | (
        before if isinstance(before, frozenset) else frozenset()
    )
    return True


def _source_end(args: tuple[Word, ...], i: int) -> int:
    """Where `source ADDR[:PORT[-PORT]] [usesrc ...] [interface NAME]` ends."""
    if i >= len(args):
        return i
    i += 1
    while i + 1 < len(args) and args[i].text in ("usesrc", "interface"):
        i += 2
    return i


def _plain(w: Word) -> int | None:
    text = w.text
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    return int(text)


def read_server(
    args: tuple[Word, ...], ctx: Context, proxy: str, loc_word: Word
) -> tuple[str, object, ServerOptions, int | None] | None:
    """`server NAME ADDRESS [options]`: (name, target, options, id) or None."""
    if len(args) < 2 or not args[1].text:  # an empty word ("${UNSET}") is no address
        ctx.error(loc_word.loc, "'server' expects <name> and <addr>[:<port>] as arguments.")
        return None
    name = args[0].text
    who = f"server {proxy}/{name}"
    target = server_target(args[1], ctx, who)
    if target is None:
        return None
    got = read_options(args[2:], ctx, who, name, default=False)
    if got is None:
        return None
    return name, target, got[0], got[1]


def overlay(base: ServerOptions, top: ServerOptions) -> ServerOptions:
    """`top`'s settings over `base`'s (a server over its default-server)."""
    changes = {
        f.name: getattr(top, f.name)
        for f in dataclasses.fields(top)
        if f.name != "others" and getattr(top, f.name) is not None
    }
    merged = dataclasses.replace(base, **changes)
    if top.others:
        merged = dataclasses.replace(merged, others=(*base.others, *top.others))
    return merged
