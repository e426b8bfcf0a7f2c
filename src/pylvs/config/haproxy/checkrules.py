"""One `tcp-check` / `http-check` rule line, read as HAProxy 2.6 reads it (src/tcpcheck.c
parse_tcpcheck_connect, _send, _send_http, _comment, _expect; src/vars.c parse_store for the
set-var actions), into proto/check's typed rules.

A parser gets the words after `tcp-check` (or `http-check`) and returns the rule, or raises
`RuleError` with HAProxy's message (the caller adds "'tcp-check connect' : ... .").  What the
check machine does not do (TLS, SOCKS4, HTTP/2, ALPN, log-format aliases) comes back in
`Parsed.unsupported` for an UNSUPPORTED warning.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.config.haproxy import logformat
from pylvs.config.haproxy.fetches import FETCHES
from pylvs.config.haproxy.samples import SampleError
from pylvs.proto.check.rules import Connect, HttpSend, Rule, Send, SendKind, SetVar
from pylvs.proto.check.sample import Expr, LogFormat
from pylvs.proto.check.vars import CONDITIONS


class RuleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Comment:
    """`tcp-check comment TEXT`: removed once the ruleset is complete; its text goes to the
    rules that follow it (check_proxy_tcpcheck)."""

    text: str
    index: int = 0


DraftRule = Rule | Comment


@dataclass
class Parsed:
    rule: DraftRule
    unsupported: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # words HAProxy accepts and drops


_MUX = {"h1": "http", "h2": "http", "fcgi": "http", "none": "tcp", "": "tcp"}


def _lf(text: str, unsupported: list[str], what: str) -> LogFormat:
    try:
        fmt, missing = logformat.parse(text)
    except logformat.LogFormatError as e:
        raise RuleError(f"'{what}' invalid log-format string ({e}).\n") from None
    unsupported += missing
    return fmt


def _expr(text: str, what: str, unsupported: list[str]) -> Expr:
    where = f"error detected while parsing {what} expression : "
    return _check_expr(
        text,
        unsupported,
        lambda e: where + e,
        lambda sources: (
            f"{where} fetch method '{text}' extracts information from"
            f" '{sources}', none of which is available here.\n"
        ),
    )


def _check_expr(
    text: str,
    unsupported: list[str],
    bad: Callable[[str], str],
    unusable: Callable[[str], str],
) -> Expr:
    """A sample expression a check rule evaluates: HAProxy's message through `bad` for a
    malformed one, through `unusable` (given the sources it reads) for one whose fetch a
    check cannot use; what proto/sample lacks goes to `unsupported`."""
    try:
        expr = logformat.to_expr(text)
    except SampleError as e:
        raise RuleError(bad(str(e))) from None
    if not logformat.usable_in_check(expr.fetch):
        raise RuleError(unusable(logformat.src_names(FETCHES[expr.fetch].use)))
    unsupported += logformat.check_missing(expr)
    return expr


def _binary(text: str) -> bytes:
    """parse_binary: an even count of hex digits."""
    if len(text) % 2:
        raise ValueError("a hex digit is expected (found end of string)")
    for c in text:
        if c not in "0123456789abcdefABCDEF":
            raise ValueError(f"an hex digit is expected (found '{c}')")
    return bytes.fromhex(text)


def _port(text: str) -> int:
    return int(text) if text.isdigit() else -1


def parse_connect(args: list[str], check: str, previous: list[DraftRule]) -> Parsed:
    _connect_first(previous)
    unsupported: list[str] = []
    opts: dict[str, object] = {}
    i = 1
    while i < len(args):
        word = args[i]
        if word in ("default", "send-proxy", "linger", "via-socks4", "ssl"):
            opts[word.replace("-", "_")] = True
            if word == "ssl":
                unsupported.append(f"{check} connect {word}")
            i += 1
            continue
        parse = _CONNECT_VALUES.get(word)
        if parse is None:
            raise RuleError(
                "expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or"
                f" 'via-socks4', 'linger', 'default' but got '{word}' as argument."
            )
        value = args[i + 1] if i + 1 < len(args) else ""
        opts.update(parse(word, value, check, unsupported))
        i += 2
    return Parsed(Connect(**opts), unsupported)  # type: ignore[arg-type]


def _connect_first(previous: list[DraftRule]) -> None:
    for r in previous:
        if isinstance(r, Connect):
            return
        if isinstance(r, Comment | SetVar) or (isinstance(r, HttpSend) and r.from_option):
            continue
        raise RuleError(
            "first step MUST also be a 'connect', optionally preceded by a 'set-var', an"
            " 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check"
            " ruleset"
        )


def _connect_addr(_word: str, value: str, _check: str, _unsup: list[str]) -> dict[str, object]:
    if not value:
        raise RuleError("'addr' expects <ipv4|ipv6> as argument.")
    host, port = _address(value)
    return {"addr": host, "addr_port": port}


def _connect_port(_word: str, value: str, _check: str, unsup: list[str]) -> dict[str, object]:
    if not value:
        raise RuleError("'port' expects a port number or a sample expression as argument.")
    if not value.isdigit():
        return {"port": 0, "port_expr": _expr(value, "port", unsup)}
    if not 1 <= int(value) <= 65535:
        raise RuleError(
            f"expects a valid TCP port (from range 1 to 65535) or a sample expression, got {value}."
        )
    return {"port": int(value), "port_expr": None}


def _connect_proto(_word: str, value: str, check: str, unsup: list[str]) -> dict[str, object]:
    if not value:
        raise RuleError("'proto' expects a MUX protocol as argument.")
    mode = _MUX.get(value)
    if mode is None:
        raise RuleError(f"'proto' : unknown MUX protocol '{value}'.")
    if mode != ("tcp" if check == "tcp-check" else "http"):
        raise RuleError(f"'proto' : invalid MUX protocol '{value}' for {check}")
    if value == "fcgi":  # h1 and h2 are spoken (proto/check/h2.py), FastCGI is not
        unsup.append(f"{check} connect proto {value}")
    return {"proto": value}


def _connect_text(word: str, value: str, check: str, unsup: list[str]) -> dict[str, object]:
    if not value:
        raise RuleError(f"'{word}' expects a string as argument.")
    if word != "comment":
        unsup.append(f"{check} connect {word}")
    return {word: value}


_CONNECT_VALUES: dict[str, Callable[[str, str, str, list[str]], dict[str, object]]] = {
    "addr": _connect_addr,
    "port": _connect_port,
    "proto": _connect_proto,
    "comment": _connect_text,
    "sni": _connect_text,
    "alpn": _connect_text,
}


def _address(text: str) -> tuple[str, int]:
    """An `addr` value: an address (IPv6 in brackets when a port follows), a port maybe."""
    host, port = text, 0
    if text.startswith("["):
        close = text.find("]")
        host = text[1:close] if close > 0 else text
        rest = text[close + 1 :] if close > 0 else ""
        port = _port(rest[1:]) if rest.startswith(":") else 0
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = _port(p)
    if port < 0 or port > 65535:
        raise RuleError(f"'addr' : invalid port '{text}'.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not host or not re.fullmatch(r"[A-Za-z0-9.-]+", host):
            raise RuleError(f"'addr' : invalid address: '{host}' in '{text}'.") from None
    return host, port


def parse_send(args: list[str]) -> Parsed:
    kind = SendKind(args[0])
    if len(args) < 2 or not args[1]:
        what = "binary string" if kind is SendKind.BINARY else "string"
        raise RuleError(f"'{what}' expects a {args[0]} as argument")
    data, comment = args[1], None
    i = 2
    while i < len(args):
        if args[i] != "comment":
            raise RuleError(f"expects 'comment' but got '{args[i]}' as argument.")
        if i + 1 >= len(args) or not args[i + 1]:
            raise RuleError("'comment' expects a string as argument.")
        comment = args[i + 1]
        i += 2
    unsupported: list[str] = []
    if kind is SendKind.STRING:
        return Parsed(Send(kind, data.encode("latin-1"), comment=comment))
    if kind is SendKind.BINARY:
        try:
            return Parsed(Send(kind, _binary(data), comment=comment))
        except ValueError as e:
            raise RuleError(f"'{data}' invalid binary string ({e}).\n") from None
    return Parsed(Send(kind, fmt=_lf(data, unsupported, data), comment=comment), unsupported)


def parse_comment(args: list[str]) -> Parsed:
    if len(args) < 2 or not args[1]:
        raise RuleError("expects a string as argument")
    return Parsed(Comment(args[1]))


def parse_action(args: list[str], check: str) -> Parsed:
    """set-var(NAME[,cond...]) EXPR, set-var-fmt(NAME) FMT, unset-var(NAME)."""
    word = args[0]
    head = word.partition("(")[0]
    rest = word[len(head) :]
    if not rest.startswith("("):
        raise RuleError(
            f"'{head}' : invalid or incomplete action '{word}'. Expects 'set-var(<var-name>)',"
            " 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
        )
    if not rest.endswith(")"):
        raise RuleError(
            f"'{head}' : incomplete argument after action '{word}'. Expects"
            " 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
        )
    name, *conds = rest[1:-1].split(",")
    conds = [c for c in conds if c]
    if conds and head == "unset-var":
        raise RuleError(
            "'unset-var' : unset-var does not expect parameters after the variable name."
            ' Only "set-var" and "set-var-fmt" manage conditions'
        )
    for c in conds:
        if c not in CONDITIONS:
            raise RuleError(f"'{head}' : unknown condition \"{c}\"")
    _var_name(name, head)
    unsupported: list[str] = []
    ignored = args[2:] if head != "unset-var" else args[1:]
    if head == "unset-var":
        return Parsed(SetVar(name, unset=True), ignored=ignored)
    if len(args) < 2:
        raise RuleError(f"'{head}' : missing fetch method")
    if head == "set-var-fmt":
        fmt = _lf(args[1], unsupported, args[1])
        return Parsed(SetVar(name, fmt=fmt, conditions=tuple(conds)), unsupported, ignored)
    expr = _check_expr(
        args[1],
        unsupported,
        lambda e: f"'{head}' : {e}",
        lambda sources: (
            f"'{head}' : fetch method '{word}' extracts information from"
            f" '{sources}', none of which is available here"
        ),
    )
    return Parsed(SetVar(name, expr=expr, conditions=tuple(conds)), unsupported, ignored)


_SCOPES = ("proc.", "sess.", "txn.", "req.", "res.", "check.")


def _var_name(name: str, head: str) -> None:
    """vars_hash_name: a scope, then a name of letters, digits, '.', '_'."""
    scope = next((s for s in _SCOPES if name.startswith(s)), None)
    if scope is None:
        raise RuleError(
            f"'{head}' : invalid variable name '{name}'. A variable name must be start by its"
            " scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )
    if not re.fullmatch(r"[A-Za-z0-9._]+", name[len(scope) :]):
        raise RuleError(f"'{head}' : empty variable name cannot be accepted")
