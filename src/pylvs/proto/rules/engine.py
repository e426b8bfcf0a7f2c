"""Running a rule set: conditions, actions, final and non-final results, yields and resumes
(src/http_ana.c http_req_get_intercept_rule / http_res_get_intercept_rule, src/tcp_rules.c
tcp_inspect_request / tcp_inspect_response / tcp_exec_l4_rules / tcp_exec_l5_rules;
HAProxy 2.6).

Rules run in order.  A rule whose condition fails is skipped; otherwise its action runs and
answers an `Ret`: CONT goes on with the next rule, every other value ends the set (STOP for
`allow`/`accept`, DENY, ABRT once a reply was sent, DONE, ERR, INV) or suspends it (YIELD:
`wait-for-body` and the like; the same rule runs again when the driver calls back).  In
`tcp-request content` and `tcp-response content` a condition that lacks data which may
still arrive (MISS, before the inspect delay ends) suspends the set too, and the next call
starts again from the first rule, as HAProxy does: rules already run before the MISS run
again.  Where the set ends is recorded as `last_rule` (the rule's file and line).

Actions are objects with `run(x: Exec) -> Ret`; they edit the stream in place and append
commands for the driver to `x.commands` (commands.py).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pylvs.proto.rules.acl import MISS, Cond
from pylvs.proto.rules.commands import Command
from pylvs.proto.sample.stream import Stream


class Ret(enum.Enum):
    """An action's answer (include/haproxy/action-t.h enum act_return)."""

    CONT = "cont"
    STOP = "stop"
    YIELD = "yield"
    ERR = "err"
    DONE = "done"
    DENY = "deny"
    ABRT = "abrt"
    INV = "inv"


class Action(Protocol):
    def run(self, x: Exec) -> Ret: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: its action, condition and where it was written."""

    action: Action
    cond: Cond | None = None
    file: str = ""
    line: int = 0
    name: str = ""  # the action's keyword, for messages and tests


@dataclass(slots=True)
class Txn:
    """What a stream's rule sets share across calls (parts of struct http_txn and struct
    stream): the reply a deny/return chose, tarpit, the resume point of a yielded set."""

    stream: Stream
    status: int = -1  # txn->status: -1 until a rule or a reply sets it
    reply: object | None = None  # txn->http_reply: replies.Reply chosen by deny/tarpit
    tarpit: bool = False
    strict: bool = True  # strict-mode of the request (a failed rewrite is an error)
    strict_res: bool = True  # of the response: each message has its own (HTTP_MSGF_SOFT_RW)
    l7_retry: bool = True
    failed_rewrites: int = 0  # the frontend counts each (wrew)
    failed_rewrites_be: int = 0  # those once the backend was chosen: the backend counts them
    failed_rewrites_srv: int = 0  # those of a server's response: the server counts them
    early_hints: list[tuple[bytes, bytes]] = field(default_factory=list)  # a pending 103
    resume: tuple[int, int] | None = None  # (id of the rule list, index of the rule)
    commands: list[Command] = field(default_factory=list)
    # The reply an action built (return, auth, redirect) or the deny path will build, with
    # the error pages of the backend and the frontend (http_error_message)
    response: Any = None  # replies.Response
    pages: tuple[Any, Any] = (None, None)  # (backend's, frontend's) replies.ErrorPages
    const_reply: bool = False  # TX_CONST_REPLY: no http-after-response rules for it
    # The body, as wait-for-body sees it (the driver keeps these up to date)
    req_body_done: bool = True
    res_body_done: bool = True
    buffer_full: bool = False
    wait_until: float | None = None  # wait-for-body's deadline (analyse_exp)
    service: str | None = None  # use-service: the applet now answering
    silent_drop: bool = False  # silent-drop: close without telling the client
    # the frontend answered the request itself (fe_counters.intercepted_req): monitor-uri,
    # a redirect or an applet of its own request rules (http_ana.c, stream.c: "fe == be")
    intercepted: bool = False
    # denied by a rule (http_process_req_common / http_process_res_common `deny:`): the
    # request (the backend counts it too once assigned), the response
    denied_req: bool = False
    denied_be: bool = False
    denied_resp: bool = False
    internal_error: bool = False  # a rule failed: 500 (return_int_err: eint)
    # `return`, `auth` or `redirect` answered: not an error, the proxy's own answer
    # (SF_ERR_LOCAL: termination state "LR"/"LH", where a deny is "PR"/"PH"; http_act.c
    # http_action_return, http_ana.c http_apply_redirect_rule)
    local_reply: bool = False
    # Where the phases are (http_flow.py, tcp_flow.py)
    stage: str = "fe-content"
    res_stage: str = "content"
    backend: str | None = None
    inspect_until: dict[str, float] = field(default_factory=dict)
    # `switch-mode http [proto NAME]` ran on the raw stream: the mux it asked for ("" the
    # default HTTP one, "h1", "h2"); the driver hands the connection to HTTP (tcp_flow.request)
    switch_mode: str | None = None
    resolving: object | None = None  # do-resolve's pending resolution (do_resolve.py)


@dataclass(slots=True)
class Exec:
    """The context an action runs in."""

    txn: Txn
    proxy: str  # the proxy whose rules run
    rule_set: str  # "http-request", "tcp-request content", ...
    final: bool = True  # no more data will come (ACT_OPT_FINAL)
    first: bool = True  # first call of this action for the stream (ACT_OPT_FIRST)
    rule: Rule | None = None
    next_rule: Rule | None = None  # the rule after the running one (early-hint looks)

    @property
    def stream(self) -> Stream:
        return self.txn.stream

    def emit(self, command: Command) -> None:
        self.txn.commands.append(command)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a rule set ended: `ret` is the ending action's Ret (CONT: no rule ended it),
    `missing` when a condition lacked data (the set waits, tcp content only)."""

    ret: Ret
    rule: Rule | None = None
    next_rule: Rule | None = None  # the rule after the running one (early-hint looks)
    missing: bool = False


def cond_passes(cond: Cond | None, s: Stream, *, may_miss: bool) -> bool | None:
    """A rule's condition: True/False, or None when `may_miss` and data is missing."""
    if cond is None:
        return True
    res = cond.exec(s)
    if res == MISS and may_miss:
        return None
    ok = res == 3  # acl_pass: MISS counts as a failure once the data is final
    return not ok if cond.unless else ok


def run_rules(
    rules: Sequence[Rule], x: Exec, *, may_miss: bool = False, set_id: int | None = None
) -> Outcome:
    """Run `rules` from the start, or from the rule that yielded last time (`x.txn.resume`
    with this set's `set_id`)."""
    key = id(rules) if set_id is None else set_id
    start, resumed = 0, False
    if x.txn.resume is not None and x.txn.resume[0] == key:
        start, resumed = x.txn.resume[1], True
    x.txn.resume = None
    s = x.stream
    for index in range(start, len(rules)):
        rule = rules[index]
        if resumed and index == start:
            x.first = False
        else:
            ok = cond_passes(rule.cond, s, may_miss=may_miss)
            if ok is None:
                return Outcome(Ret.YIELD, rule, missing=True)
            if not ok:
                continue
            x.first = True
        x.rule = rule
        x.next_rule = rules[index + 1] if index + 1 < len(rules) else None
        ret = rule.action.run(x)
        if ret is Ret.CONT:
            continue
        if ret is Ret.YIELD:
            x.txn.resume = (key, index)
        else:
            s.last_rule = (rule.file, rule.line)
        return Outcome(ret, rule)
    return Outcome(Ret.CONT)
