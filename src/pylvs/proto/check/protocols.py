"""The rulesets HAProxy 2.6 builds for its protocol checks and the agent check.

As in 2.6.12, which has fixes the v2.6.0 source lacks (recorded, then read in the commits
that made them): smtpchk accepts a multi-line EHLO reply and ends with QUIT (2ec1ffaed,
9a8d8a3fd); pgsql-check accepts more authentication requests (0d6fb7a3e).

`option redis-check`, `ssl-hello-chk`, `smtpchk`, `pgsql-check`, `mysql-check`,
`ldap-check`, `spop-check` (src/tcpcheck.c proxy_parse_*_opt) and `agent-check`
(src/check.c srv_parse_agent_check) are tcp-check rulesets with the bytes and expectations
written there; the variables (`check.smtp_cmd`, `check.username`, ...) carry the options'
arguments.  check_proxy_tcpcheck then puts the implicit connect first where the ruleset has
none.  The rule indexes are HAProxy's (they show in "at step N" messages).
"""

from __future__ import annotations

import re

from pylvs.proto.check.custom import spop_hello_request
from pylvs.proto.check.rules import (
    IMPLICIT_CONNECT,
    Connect,
    Custom,
    Expect,
    ExpectKind,
    Proto,
    Rule,
    Ruleset,
    Send,
    SendKind,
    with_heads,
)
from pylvs.proto.check.sample import Expr, LogFormat
from pylvs.proto.check.status import Status

_CONNECT_LINGER = Connect(default=True, linger=True)


def _expr(fetch: str, args: tuple[str, ...] = (), *convs: tuple[str, tuple[str, ...]]) -> Expr:
    text = fetch + (f"({','.join(args)})" if args else "")
    text += "".join(f",{n}" + (f"({','.join(a)})" if a else "") for n, a in convs)
    return Expr(fetch, args, tuple(convs), text)


def _fmt(*parts: str | Expr) -> LogFormat:
    text = "".join(p if isinstance(p, str) else f"%[{p.text}]" for p in parts)
    return LogFormat(tuple(parts), text)


def _rx(pattern: str) -> re.Pattern[bytes]:
    return re.compile(pattern.encode("latin-1"))


def finish(proto: Proto, rules: list[Rule], **kw: object) -> Ruleset:
    """check_proxy_tcpcheck: an implicit connect first when the rules do not start with one."""
    if not rules or not isinstance(rules[0], Connect):
        rules.insert(0, IMPLICIT_CONNECT)
    return Ruleset(proto, with_heads(tuple(rules)), **kw)  # type: ignore[arg-type]


_PAYLOAD_LINE = _fmt(_expr("res.payload", ("0", "0"), ("cut_crlf", ())))


def redis() -> Ruleset:
    return finish(
        Proto.REDIS,
        [
            Send(SendKind.STRING, b"*1\r\n$4\r\nPING\r\n", index=0),
            Expect(
                ExpectKind.STRING,
                data=b"+PONG\r\n",
                error_status=Status.L7STS,
                on_error=_PAYLOAD_LINE,
                on_success=LogFormat.literal("Redis server is ok"),
                index=1,
            ),
        ],
    )


# The SSLv3 CLIENT HELLO of ssl-hello-chk (RFC 2246 A.3/A.4), as HAProxy writes it.
_SSL3_HELLO = _fmt(
    "1603000079010000750300",
    # the time: "%[date(),htonl,hex]"; the random: 28 bytes of "HAPROXYSSLCHK\n" twice
    _expr("date", (), ("htonl", ()), ("hex", ())),
    _expr("str", ("HAPROXYSSLCHK\nHAPROXYSSLCHK\n",), ("hex", ())),
    "00004E" + "".join(f"{c:04X}" for c in [*range(0x01, 0x1C), *range(0x2F, 0x3B)]) + "0100",
)


def ssl_hello() -> Ruleset:
    return finish(
        Proto.SSL3,
        [
            Send(SendKind.BINARY_LF, fmt=_SSL3_HELLO, index=0),
            Expect(
                ExpectKind.BINARY_REGEX,
                regex=_rx("^1[56]"),
                min_recv=5,
                ok_status=Status.L6OK,
                error_status=Status.L6RSP,
                timeout_status=Status.L6TOUT,
                index=1,
            ),
        ],
    )


_SMTP_TEXT = _fmt(
    _expr("res.payload", ("4", "0"), ("ltrim", (" ",)), ("cut_crlf", ())),
)
_SMTP_CODE = _expr("res.payload", ("0", "3"))


def smtp(helo: str = "HELO localhost") -> Ruleset:
    """`option smtpchk [EHLO|HELO domain]`: the banner, then HELO/EHLO and its reply."""
    return finish(
        Proto.SMTP,
        [
            Connect(default=True, linger=True, index=0),
            Expect(
                ExpectKind.STRING_REGEX,
                regex=_rx("^[0-9]{3}[ \r]"),
                min_recv=4,
                error_status=Status.L7RSP,
                on_error=_PAYLOAD_LINE,
                index=1,
            ),
            Expect(
                ExpectKind.STRING_REGEX,
                regex=_rx("^2[0-9]{2}[ \r]"),
                min_recv=4,
                error_status=Status.L7STS,
                on_error=_SMTP_TEXT,
                status_code=_SMTP_CODE,
                index=2,
            ),
            Send(SendKind.STRING_LF, fmt=_fmt(_expr("var", ("check.smtp_cmd",)), "\r\n"), index=3),
            Expect(
                ExpectKind.STRING_REGEX,
                regex=_rx("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]"),
                error_status=Status.L7STS,
                on_error=_SMTP_TEXT,
                on_success=_SMTP_TEXT,
                status_code=_SMTP_CODE,
                index=4,
            ),
            Send(SendKind.STRING, b"QUIT\r\n", index=5),
            Expect(
                ExpectKind.STRING_REGEX,
                regex=_rx("^2[0-9]{2}[- \r]"),
                min_recv=4,
                error_status=Status.L7STS,
                on_error=_SMTP_TEXT,
                on_success=_SMTP_TEXT,
                status_code=_SMTP_CODE,
                index=6,
            ),
        ],
        preset_vars=(("check.smtp_cmd", helo.encode("latin-1")),),
    )


def pgsql(user: str) -> Ruleset:
    """`option pgsql-check user NAME`: a StartupMessage (protocol 3.0)."""
    request = _fmt(
        _expr("var", ("check.plen",), ("htonl", ()), ("hex", ())),
        "000300007573657200",
        _expr("var", ("check.username",), ("hex", ())),
        "0000",
    )
    return finish(
        Proto.PGSQL,
        [
            Connect(default=True, linger=True, index=0),
            Send(SendKind.BINARY_LF, fmt=request, index=1),
            Expect(
                ExpectKind.STRING_REGEX,
                regex=_rx("^E"),
                inverse=True,
                min_recv=5,
                error_status=Status.L7RSP,
                on_error=_fmt(_expr("res.payload", ("6", "0"))),
                index=2,
            ),
            Expect(
                ExpectKind.BINARY_REGEX,
                regex=_rx("^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)"),
                min_recv=9,
                error_status=Status.L7STS,
                on_success=LogFormat.literal("PostgreSQL server is ok"),
                on_error=LogFormat.literal("PostgreSQL unknown error"),
                index=3,
            ),
        ],
        preset_vars=(
            ("check.username", user.encode("latin-1")),
            ("check.plen", 15 + len(user.encode("latin-1"))),
        ),
    )


# after the user name: its NUL, a filler byte, then COM_QUIT (length 1, sequence 0, 0x01)
_MYSQL_TAIL = "00000100000001"


def mysql(user: str | None = None, post_41: bool = True) -> Ruleset:
    """`option mysql-check [user NAME [post-41|pre-41]]`: with a user, a client
    authentication then COM_QUIT; without, only the server's greeting is read."""
    rules: list[Rule] = [Connect(default=True, linger=True, index=0)]
    preset: tuple[tuple[str, bytes | int], ...] = ()
    if user is not None:
        raw = user.encode("latin-1")
        length = len(raw) + 7 + (27 if post_41 else 0)
        header = bytes((length & 0xFF, (length >> 8) & 0xFF, (length >> 16) & 0xFF, 1))
        caps = "008200000080000121" + "00" * 23 if post_41 else "0080000001"
        request = _fmt(
            _expr("var", ("check.header",), ("hex", ())),
            caps,
            _expr("var", ("check.username",), ("hex", ())),
            _MYSQL_TAIL,
        )
        rules.append(Send(SendKind.BINARY_LF, fmt=request, index=1))
        preset = (("check.header", header), ("check.username", raw))
    rules.append(Expect(ExpectKind.CUSTOM, custom=Custom.MYSQL_INITHS, index=len(rules)))
    if user is not None:
        rules.append(Expect(ExpectKind.CUSTOM, custom=Custom.MYSQL_OK, index=len(rules)))
    return finish(Proto.MYSQL, rules, preset_vars=preset)


def ldap() -> Ruleset:
    """`option ldap-check`: an anonymous LDAPv3 BindRequest (RFC 4511 section 4.2)."""
    return finish(
        Proto.LDAP,
        [
            Send(SendKind.BINARY, bytes.fromhex("300C020101600702010304008000"), index=0),
            Expect(
                ExpectKind.BINARY_REGEX,
                regex=_rx("^30"),
                min_recv=14,
                on_error=LogFormat.literal("Not LDAPv3 protocol"),
                index=1,
            ),
            Expect(ExpectKind.CUSTOM, custom=Custom.LDAP_BINDRSP, index=2),
        ],
    )


def spop() -> Ruleset:
    """`option spop-check`: a HAPROXY-HELLO frame with the healthcheck item."""
    return finish(
        Proto.SPOP,
        [
            Send(SendKind.BINARY, spop_hello_request(), index=0),
            Expect(ExpectKind.CUSTOM, custom=Custom.SPOP_AGENTHELLO, min_recv=4, index=1),
        ],
    )


def agent(send: str | None) -> Ruleset:
    """`agent-check [agent-send STRING]`: the string, then one line of words back."""
    rules: list[Rule] = [
        Send(SendKind.STRING_LF, fmt=_fmt(_expr("var", ("check.agent_string",))), index=0),
        Expect(ExpectKind.CUSTOM, custom=Custom.AGENT_REPLY, index=1),
    ]
    preset = (("check.agent_string", send.encode("latin-1")),) if send is not None else ()
    return finish(Proto.AGENT, rules, preset_vars=preset)
