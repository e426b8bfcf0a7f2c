"""A proxy's health-check configuration while its sections are read, and the ruleset it ends
with (src/tcpcheck.c proxy_parse_tcpcheck, proxy_parse_httpcheck, proxy_parse_*_opt,
tcpcheck_add_http_rule, check_proxy_tcpcheck; src/proxy.c proxy_defproxy_cpy;
src/cfgparse.c's warnings and default "*tcp-check" ruleset).

HAProxy keeps, per section, its own `tcp-check` and `http-check` rule lists, and a pointer
to the list the checks will run (`rules`): a proxy inherits its defaults' pointer, and its
first `tcp-check` line (with `option tcp-check`) points it at the proxy's own list instead,
so a proxy's rules replace the defaults' rather than add to them.  `option httpchk`'s request
merges with the first `http-check send`; the protocol options point at a ruleset of their
own.  The lists here are shared the same way (plain Python lists), and `finish` builds the
frozen `Ruleset` as check_proxy_tcpcheck leaves it: the implicit first connect, the option's
request after the first connect, an implicit `expect status 200-399` after a last send, and
comments moved onto the rules they precede.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.config.haproxy.checkexpect import parse_expect, parse_send_http
from pylvs.config.haproxy.checkrules import (
    Comment,
    DraftRule,
    Parsed,
    RuleError,
    parse_action,
    parse_comment,
    parse_connect,
    parse_send,
)
from pylvs.config.haproxy.logformat import compile_ruleset
from pylvs.proto.check import protocols
from pylvs.proto.check.rules import (
    IMPLICIT_CONNECT,
    PLAIN_TCP,
    Connect,
    Expect,
    ExpectKind,
    HttpSend,
    Proto,
    Rule,
    Ruleset,
    Send,
    SetVar,
    with_heads,
)

TCP_ACTIONS = ("comment", "connect", "send", "send-binary", "send-lf", "send-binary-lf", "expect")
HTTP_ACTIONS = ("comment", "connect", "send", "expect")


@dataclass(slots=True)
class CheckDraft:
    """A section's check settings (proxy->tcpcheck_rules, PR_O2_CHK_ANY, PR_O_DISABLE404,
    PR_O2_CHK_SNDST)."""

    kind: str | None = None  # "tcp-check" (PR_O2_TCPCHK_CHK), "external-check", None
    proto: Proto | None = None  # the ruleset's kind (its flags); None: 0
    rules: list[DraftRule] | None = None  # the list the checks run (shared)
    unused_tcp: bool = False
    unused_http: bool = False
    own_tcp: list[DraftRule] | None = None  # "*tcp-check-<this section>"
    own_http: list[DraftRule] | None = None  # "*http-check-<this section>"
    defaults_tcp: list[DraftRule] | None = None  # the defaults section's own tcp list
    preset: tuple[tuple[str, bytes | int], ...] = ()
    send_state: bool = False
    disable_404: bool = False
    protocol: Ruleset | None = None  # a protocol option's ruleset (rules are its rules)

    def inherit(self) -> CheckDraft:
        """proxy_defproxy_cpy: what a proxy takes from its defaults section."""
        return CheckDraft(
            kind=self.kind,
            proto=self.proto,
            rules=self.rules,
            defaults_tcp=self.own_tcp,
            preset=self.preset,
            send_state=self.send_state,
            disable_404=self.disable_404,
            protocol=self.protocol,
        )


@dataclass(slots=True)
class Outcome:
    """What a check line did: an error (HAProxy's message) or warnings."""

    error: str | None = None
    unsupported: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


# -- options -------------------------------------------------------------------------------


def option_tcp_check(c: CheckDraft) -> None:
    """proxy_parse_tcp_check_opt."""
    c.kind = "tcp-check"
    rs: list[DraftRule] | None = None
    if c.proto is Proto.TCP:
        if c.rules is not None:
            return
        if not c.unused_tcp:
            rs = c.defaults_tcp
    if rs is None:
        if c.own_tcp is None:
            c.own_tcp = []
        rs = c.own_tcp
    c.preset = ()
    c.rules, c.proto, c.protocol = rs, Proto.TCP, None
    c.unused_tcp = c.unused_http = False


def option_httpchk(c: CheckDraft, request: HttpSend) -> str | None:
    """proxy_parse_httpchk_opt; an error message (and no ruleset) on failure."""
    c.kind = "tcp-check"
    c.preset = ()
    if c.own_http is None:
        c.own_http = []
    c.rules, c.proto, c.protocol = c.own_http, Proto.HTTP, None
    c.unused_tcp = c.unused_http = False
    err = _add_http(request, c.rules)
    if err is not None:
        c.rules = None
    return err


def option_protocol(c: CheckDraft, ruleset: Ruleset) -> None:
    """The protocol options (redis-check, mysql-check, ...): their own ruleset."""
    ruleset = compile_ruleset(ruleset)
    c.kind = "tcp-check"
    c.preset = ruleset.preset_vars
    c.rules, c.proto, c.protocol = list(ruleset.rules), ruleset.proto, ruleset
    c.unused_tcp = c.unused_http = False


def protocol_ruleset(name: str, args: list[str]) -> Ruleset | str:
    """The ruleset of `option NAME ARGS` (a protocol check), or HAProxy's message."""
    opt = f"'option {name}'"
    plain = _PLAIN_PROTOCOLS.get(name)
    if plain is not None:
        return f"{opt} cannot handle unexpected argument '{args[0]}'." if args else plain()
    if name == "smtpchk":
        return _smtp_ruleset(opt, args)
    if name == "pgsql-check":
        return _pgsql_ruleset(opt, args)
    return _mysql_ruleset(opt, args)


_PLAIN_PROTOCOLS: dict[str, Callable[[], Ruleset]] = {
    "redis-check": protocols.redis,
    "ssl-hello-chk": protocols.ssl_hello,
    "ldap-check": protocols.ldap,
    "spop-check": protocols.spop,
}


def _smtp_ruleset(opt: str, args: list[str]) -> Ruleset | str:
    if len(args) > 2:
        return f"{opt} cannot handle unexpected argument '{args[2]}'."
    if len(args) == 2 and args[0] in ("EHLO", "HELO"):
        return protocols.smtp(f"{args[0]} {args[1]}")
    return protocols.smtp()


def _pgsql_ruleset(opt: str, args: list[str]) -> Ruleset | str:
    if len(args) > 2:
        return f"{opt} cannot handle unexpected argument '{args[2]}'."
    if len(args) < 2:
        return f"{opt} expects 'user <username>' as argument."
    if args[0] != "user":
        return f"{opt} only supports optional values: 'user'."
    return protocols.pgsql(args[1])


def _mysql_ruleset(opt: str, args: list[str]) -> Ruleset | str:
    if len(args) > 3:
        return f"{opt} cannot handle unexpected argument '{args[3]}'."
    if not args:
        return protocols.mysql()
    if args[0] != "user":
        return f"{opt} only supports optional values: 'user' (got '{args[0]}')."
    if len(args) < 2:
        return "'option mysql-check user' expects <username> as argument."
    if len(args) > 2 and args[2] not in ("post-41", "pre-41"):
        return f"keyword 'user' only supports 'post-41' and 'pre-41' (got '{args[2]}')."
    return protocols.mysql(args[1], post_41=len(args) < 3 or args[2] == "post-41")


# -- rule lines ----------------------------------------------------------------------------


def tcp_check_line(c: CheckDraft, args: list[str]) -> Outcome:
    """proxy_parse_tcpcheck: `tcp-check ACTION ...` (args[0] is the action)."""
    if c.own_tcp is None:
        c.own_tcp = []
    rs = c.own_tcp
    index = _index(rs[-1]) + 1 if rs else 0
    try:
        parsed = _parse("tcp-check", args, rs)
    except RuleError as e:
        return Outcome(f"'tcp-check {args[0]}' : {e}.")
    rs.append(_indexed(parsed.rule, index))
    if c.kind == "tcp-check" and c.proto is Proto.TCP:
        c.rules = rs
        c.unused_tcp = False
    else:
        c.unused_tcp = True
    return Outcome(unsupported=parsed.unsupported, ignored=parsed.ignored)


def http_check_line(c: CheckDraft, args: list[str]) -> Outcome:
    """proxy_parse_httpcheck: `http-check ACTION ...`."""
    if args[0] in ("disable-on-404", "send-state"):
        if len(args) > 1:
            return Outcome(f"'http-check' cannot handle unexpected argument '{args[1]}'.")
        if args[0] == "send-state":
            c.send_state = True
        else:
            c.disable_404 = True
        return Outcome()
    if c.own_http is None:
        c.own_http = []
    rs = c.own_http
    index = 0
    if rs and not (isinstance(rs[-1], HttpSend) and rs[-1].from_option):
        index = _index(rs[-1]) + 1
    try:
        parsed = _parse("http-check", args, rs)
    except RuleError as e:
        return Outcome(f"'http-check {args[0]}' : {e}.")
    rule = _indexed(parsed.rule, index)
    if c.kind == "tcp-check" and c.proto is Proto.HTTP:
        c.rules = rs
        c.unused_http = False
        err = _add_http(rule, rs)
        if err is not None:
            c.rules = None
            return Outcome(f"'http-check {args[0]}' : {err}.")
    else:
        c.unused_http = True
        rs.append(rule)
    return Outcome(unsupported=parsed.unsupported, ignored=parsed.ignored)


def _parse(check: str, args: list[str], rs: list[DraftRule]) -> Parsed:
    action = args[0]
    if action == "connect":
        return parse_connect(args, check, rs)
    if action == "expect":
        return parse_expect(args, http=check == "http-check")
    if action == "comment":
        return parse_comment(args)
    if action == "send" and check == "http-check":
        return parse_send_http(args)
    if action in ("send", "send-binary", "send-lf", "send-binary-lf"):
        return parse_send(args)
    return parse_action(args, check)


def _index(rule: DraftRule) -> int:
    return rule.index


def _indexed(rule: DraftRule, index: int) -> DraftRule:
    return dataclasses.replace(rule, index=index)


def _real(rule: DraftRule) -> bool:
    """Not a comment nor an action (get_first_tcpcheck_rule skips those)."""
    return not isinstance(rule, Comment | SetVar)


def _add_http(chk: DraftRule, rules: list[DraftRule]) -> str | None:
    """tcpcheck_add_http_rule: the option's request merges with the first `send`; rules
    must follow connect -> send -> expect."""
    real = [r for r in rules if _real(r)]
    if isinstance(chk, HttpSend) and chk.from_option:
        first = real[0] if real else None
        if isinstance(first, Connect):
            first = real[1] if len(real) > 1 else None
        if not isinstance(first, HttpSend):
            rules.insert(0, chk)
        elif first.from_option:
            rules.remove(first)
            rules.insert(0, chk)
        else:
            rules[rules.index(first)] = _overwrite(first, chk)
        return None
    last = real[-1] if real else None
    if last is None or (isinstance(last, HttpSend) and last.from_option):
        pass
    elif not isinstance(last, Connect) and isinstance(chk, HttpSend):
        return f"unable to add http-check send rule at step {chk.index + 1} (missing connect rule)"
    elif not isinstance(last, HttpSend | Expect) and isinstance(chk, Expect):
        return f"unable to add http-check expect rule at step {chk.index + 1} (missing send rule)"
    elif not isinstance(last, Expect) and isinstance(chk, Connect):
        return (
            f"unable to add http-check connect rule at step {chk.index + 1} (missing expect rule)"
        )
    if isinstance(chk, HttpSend):
        first = real[0] if real else None
        if isinstance(first, HttpSend) and first.from_option:
            rules.remove(first)
            chk = dataclasses.replace(_overwrite(first, chk), from_option=False)
    rules.append(chk)
    return None


def _overwrite(old: HttpSend, new: HttpSend) -> HttpSend:
    """tcpcheck_overwrite_send_http_rule: what `new` sets replaces `old`'s (headers too, as a
    whole, when `new` has some: recorded from 2.6.12, where `old`'s stay otherwise)."""
    changes: dict[str, object] = {}
    if new.headers:
        changes["headers"] = new.headers
    if new.method is not None:
        changes["method"] = new.method
    if new.uri is not None or new.uri_fmt is not None:
        changes["uri"], changes["uri_fmt"] = new.uri, new.uri_fmt
    if new.version is not None:
        changes["version"] = new.version
    if new.body is not None or new.body_fmt is not None:
        changes["body"], changes["body_fmt"] = new.body, new.body_fmt
    return dataclasses.replace(old, **changes)  # type: ignore[arg-type]


# -- the end of the configuration ----------------------------------------------------------


def finish(c: CheckDraft) -> Ruleset | str:
    """check_proxy_tcpcheck for a backend: its ruleset, or HAProxy's error."""
    if c.kind is None:
        return PLAIN_TCP
    if c.rules is None:
        return "tcp-check configured but no ruleset defined."
    if c.protocol is not None:
        return dataclasses.replace(c.protocol, preset_vars=c.preset)
    rules = list(c.rules)
    if c.proto is Proto.HTTP:
        rules = _http_fixups(rules)
    first = next((r for r in rules if _real(r)), None)
    if not isinstance(first, Connect):
        rules.insert(0, IMPLICIT_CONNECT)
    out = _comments(rules)
    proto = c.proto or Proto.NONE
    return Ruleset(
        proto,
        with_heads(tuple(out)),
        preset_vars=c.preset,
        send_state=c.send_state and proto is Proto.HTTP,
        disable_on_404=c.disable_404 and proto is Proto.HTTP,
    )


def _http_fixups(rules: list[DraftRule]) -> list[DraftRule]:
    real = [r for r in rules if _real(r)]
    if real and isinstance(real[0], HttpSend) and real[0].from_option and len(real) > 1:
        nxt = real[1]
        if isinstance(nxt, Connect):
            first = real[0]
            rules.remove(first)
            rules.insert(rules.index(nxt) + 1, dataclasses.replace(first, index=nxt.index + 1))
    real = [r for r in rules if _real(r)]
    if real and isinstance(real[-1], HttpSend):
        implicit = Expect(ExpectKind.HTTP_STATUS, codes=((200, 399),), index=real[-1].index + 1)
        rules.append(implicit)
    return rules


def _comments(rules: list[DraftRule]) -> list[Rule]:
    """Comment rules go; their text goes to the connect, sends and expects after them."""
    out: list[Rule] = []
    comment: str | None = None
    prev: type | None = None
    for r in rules:
        kind = type(r) if not isinstance(r, HttpSend) else Send
        if prev is not None and kind is not prev and prev is not Comment:
            comment = None
        prev = kind
        if isinstance(r, Comment):
            comment = r.text
            continue
        rule: Rule = r
        if isinstance(rule, Connect | Send | HttpSend | Expect) and comment:
            rule = _commented(rule, comment)
        if isinstance(rule, Connect | SetVar):
            comment = None
        out.append(rule)
    return out


def _commented(rule: Connect | Send | HttpSend | Expect, comment: str) -> Rule:
    if rule.comment is not None:
        return rule
    return dataclasses.replace(rule, comment=comment)
