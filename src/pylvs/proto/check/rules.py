"""A check's rules: HAProxy 2.6's tcp-check / http-check ruleset as frozen values.

Every HAProxy health check runs a ruleset (src/tcpcheck.c; include/haproxy/tcpcheck-t.h):
`check` alone is an implicit connect; `option tcp-check`, `option httpchk` and the protocol
checks (`option mysql-check`, `redis-check`, ...) are rulesets HAProxy builds, and the agent
check is one too.  The configuration reader (config/haproxy/checks.py) builds these values
with HAProxy's parser rules; the machine (proto/check/tcpcheck.py) runs them.

`index` is the rule's position as HAProxy numbers it in "at step N" messages
(tcpcheck_get_step_id: index + 1, and 0 for the implicit first connect).  Comment rules are
gone by then: their text is carried by the rules they precede.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from pylvs.proto.check.sample import Expr, LogFormat
from pylvs.proto.check.status import Status


class Proto(enum.Enum):
    """TCPCHK_RULES_*_CHK: which kind of check the ruleset is (it changes messages).
    NONE is the plain connect of a server without a check option (its flags are 0)."""

    NONE = "check"
    TCP = "tcp-check"
    HTTP = "httpchk"
    PGSQL = "pgsql-check"
    REDIS = "redis-check"
    SMTP = "smtpchk"
    MYSQL = "mysql-check"
    LDAP = "ldap-check"
    SSL3 = "ssl-hello-chk"
    AGENT = "agent-check"
    SPOP = "spop-check"


@dataclass(frozen=True, slots=True)
class Connect:
    """`tcp-check connect` / `http-check connect` (and the implicit first connect)."""

    index: int = 0
    port: int = 0  # 0: not given
    port_expr: Expr | None = None
    addr: str | None = None  # an address literal
    addr_port: int = 0  # a port written with `addr`
    send_proxy: bool = False
    via_socks4: bool = False
    linger: bool = False
    default: bool = False  # use the server's check settings (TCPCHK_OPT_DEFAULT_CONNECT)
    implicit: bool = False
    ssl: bool = False
    sni: str | None = None
    alpn: str | None = None
    proto: str | None = None
    comment: str | None = None


class SendKind(enum.Enum):
    STRING = "send"
    BINARY = "send-binary"
    STRING_LF = "send-lf"
    BINARY_LF = "send-binary-lf"


@dataclass(frozen=True, slots=True)
class Send:
    """`tcp-check send|send-binary|send-lf|send-binary-lf`."""

    kind: SendKind
    data: bytes = b""  # STRING / BINARY
    fmt: LogFormat | None = None  # the _LF kinds
    index: int = 0
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class HttpSend:
    """`http-check send` (or the request of `option httpchk`): None fields take the
    defaults when the request is built (OPTIONS, "/", HTTP/1.0)."""

    method: str | None = None
    uri: str | None = None
    uri_fmt: LogFormat | None = None
    version: str | None = None
    headers: tuple[tuple[str, LogFormat], ...] = ()
    body: str | None = None
    body_fmt: LogFormat | None = None
    from_option: bool = False  # TCPCHK_SND_HTTP_FROM_OPT
    index: int = 0
    comment: str | None = None


class ExpectKind(enum.Enum):
    STRING = "string"
    STRING_REGEX = "rstring"
    STRING_LF = "string-lf"
    BINARY = "binary"
    BINARY_REGEX = "rbinary"
    BINARY_LF = "binary-lf"
    CUSTOM = "custom"
    HTTP_STATUS = "status"
    HTTP_STATUS_REGEX = "rstatus"
    HTTP_HEADER = "hdr"
    HTTP_BODY = "body"
    HTTP_BODY_REGEX = "rbody"
    HTTP_BODY_LF = "body-lf"


class Custom(enum.Enum):
    """The protocol checks' own expect functions (src/tcpcheck.c tcpcheck_*_expect_*)."""

    MYSQL_INITHS = "mysql-iniths"
    MYSQL_OK = "mysql-ok"
    LDAP_BINDRSP = "ldap-bindrsp"
    SPOP_AGENTHELLO = "spop-agenthello"
    AGENT_REPLY = "agent-reply"


class Match(enum.Enum):
    """The `-m` of `http-check expect hdr` (TCPCHK_EXPT_FL_HTTP_HNAME_* / HVAL_*)."""

    STR = "str"
    BEG = "beg"
    END = "end"
    SUB = "sub"
    REG = "reg"


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """`http-check expect [!] hdr|fhdr name [-m M] PAT [value [-m M] PAT]`."""

    name: str | LogFormat | re.Pattern[bytes]
    name_match: Match = Match.STR
    value: str | LogFormat | re.Pattern[bytes] | None = None  # None: any value
    value_match: Match = Match.STR
    full: bool = False  # fhdr: values are not split at commas


@dataclass(frozen=True, slots=True)
class Expect:
    """`tcp-check expect` / `http-check expect` (and the protocol checks' expects)."""

    kind: ExpectKind
    data: bytes = b""  # STRING, BINARY, HTTP_BODY
    regex: re.Pattern[bytes] | None = None  # the _REGEX kinds
    fmt: LogFormat | None = None  # the _LF kinds
    codes: tuple[tuple[int, int], ...] = ()  # HTTP_STATUS ranges
    header: HeaderMatch | None = None
    custom: Custom | None = None
    inverse: bool = False
    min_recv: int = -1
    ok_status: Status | None = None
    error_status: Status | None = None
    timeout_status: Status | None = None
    on_success: LogFormat | None = None
    on_error: LogFormat | None = None
    status_code: Expr | None = None
    head: int = -1  # the rule a wait resumes at (the chain's first inverted expect); -1: self
    index: int = 0
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class SetVar:
    """`set-var(NAME[,cond...]) EXPR`, `set-var-fmt(NAME) FMT`, `unset-var(NAME)`."""

    name: str
    expr: Expr | None = None
    fmt: LogFormat | None = None
    conditions: tuple[str, ...] = ()  # ifexists, ifnotexists, ifempty, ...
    unset: bool = False
    index: int = 0


Rule = Connect | Send | HttpSend | Expect | SetVar


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A check's rules, first implicit connect included, as HAProxy runs them."""

    proto: Proto
    rules: tuple[Rule, ...]
    preset_vars: tuple[tuple[str, bytes | int], ...] = ()  # check.* variables set each run
    send_state: bool = False  # `http-check send-state`
    disable_on_404: bool = False  # `http-check disable-on-404`

    @property
    def http(self) -> bool:
        return self.proto is Proto.HTTP


def step_id(rule: Rule | None) -> int:
    """tcpcheck_get_step_id: where a rule stands in "at step N" messages."""
    if rule is None:
        return 1
    if isinstance(rule, Connect) and rule.implicit and rule.index == 0:
        return 0
    return rule.index + 1


# The rulesets HAProxy uses without any option: a plain connect (cfgparse.c "*tcp-check").
IMPLICIT_CONNECT = Connect(default=True, implicit=True)
PLAIN_TCP = Ruleset(Proto.NONE, (IMPLICIT_CONNECT,))


def with_heads(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """Point every expect at the rule a wait resumes from (parse_tcpcheck_expect's `head`):
    the first inverted expect of the run of expects it ends (set-var rules do not break
    it), or itself."""
    out: list[Rule] = []
    for pos, rule in enumerate(rules):
        if isinstance(rule, Expect):
            head = pos
            back = pos - 1
            while back >= 0 and isinstance(rules[back], Expect | SetVar):
                prev = rules[back]
                if isinstance(prev, Expect) and prev.inverse:
                    head = back
                back -= 1
            out.append(replace(rule, head=head))
        else:
            out.append(rule)
    return tuple(out)
