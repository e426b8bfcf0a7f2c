"""Actions every rule set has: variables, captures, stick counters, the stream's settings
and the pattern files (src/vars.c action_store/action_clear, src/tcp_rules.c
tcp_action_track_sc/tcp_action_capture, src/http_act.c http_action_track_sc,
http_action_req_capture*, http_action_set_map, src/stick_table.c action_inc_gpc*/
action_set_gpt*, src/stream.c stream_track_stkctr/stream_start_counters; HAProxy 2.6).

`track-scN` tracks once per stream (a counter already tracked is left alone): in
`tcp-request connection|session` on the session, elsewhere on the stream.  Tracking starts
the entry's connection counters (conn_cur, conn_cnt, conn_rate); an HTTP rule also counts
the request (http_req_cnt/rate), and from `http-response` a 4xx/5xx as HAProxy counts
errors and failures.  In `tcp-request content`, a key or capture that may still change
while the inspect delay runs suspends the set (YIELD).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pylvs.proto.rules import commands as cmd
from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Expr, Wait
from pylvs.proto.sample.fetch_stick import table_key
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.stream import Stream, Tracked
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import VarName
from pylvs.proto.stick.table import Entry, StickTable


def _may_change(expr: Expr, x: Exec) -> bool:
    """A tcp content sample that may still grow before the inspect delay ends."""
    return x.rule_set.endswith("content") and not x.final and isinstance(expr.raw(x.stream), Wait)


@dataclass(frozen=True, slots=True)
class SetVar:
    """`set-var(NAME[,cond...]) EXPR` and `set-var-fmt(NAME) FMT`."""

    var: VarName
    expr: Expr | None = None
    fmt: LogFormat | None = None
    conditions: frozenset[str] = frozenset()

    def run(self, x: Exec) -> Ret:
        self.apply(x.stream)
        return Ret.CONT

    def apply(self, s: Stream) -> None:
        """Set the variable on `s` (also the global section's `set-var`, once at start)."""
        if self.fmt is not None:
            smp: Smp | None = Smp(ty.STR, self.fmt.build(s))
        else:
            assert self.expr is not None
            smp = self.expr.eval(s)
        scope = s.scope(self.var.scope)
        if smp is not None and scope is not None:
            scope.set(self.var.name, smp, self.conditions)


@dataclass(frozen=True, slots=True)
class UnsetVar:
    var: VarName

    def run(self, x: Exec) -> Ret:
        scope = x.stream.scope(self.var.scope)
        if scope is not None:
            scope.unset(self.var.name)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class Capture:
    """`capture EXPR len N` (a slot of its own, declared by the rule) and `capture EXPR id
    N` (a `declare capture` slot): the sample as text, cut at the slot's length."""

    expr: Expr
    slot: int
    length: int
    response: bool = False

    def run(self, x: Exec) -> Ret:
        s = x.stream
        if _may_change(self.expr, x):
            return Ret.YIELD
        smp = self.expr.eval_as(s, ty.STR)
        if smp is None:
            return Ret.CONT
        slots = s.captures.response if self.response else s.captures.request
        while len(slots) <= self.slot:
            slots.append(None)
        slots[self.slot] = smp.text[: self.length]
        return Ret.CONT


def start_counters(table: StickTable, entry: Entry, now: float) -> None:
    """stream_start_counters."""
    spec = table.spec
    if spec.stores("conn_cur"):
        entry.add("conn_cur")
    if spec.stores("conn_cnt"):
        entry.add("conn_cnt")
    if spec.stores("conn_rate"):
        table.update_rate(entry, "conn_rate", now)
    table.touch(entry, now)


def count(table: StickTable, entry: Entry, counter: str, rate: str, now: float) -> None:
    if table.spec.stores(counter):
        entry.add(counter)
    if table.spec.stores(rate):
        table.update_rate(entry, rate, now)


@dataclass(frozen=True, slots=True)
class TrackSc:
    """`track-scN KEY [table T]`."""

    num: int
    expr: Expr
    table: str

    def run(self, x: Exec) -> Ret:
        s = x.stream
        on_session = x.rule_set in ("tcp-request connection", "tcp-request session")
        slots = s.sess.sc if on_session else s.sc
        if slots[self.num] is not None:
            return Ret.CONT
        if not on_session and _may_change(self.expr, x):
            return Ret.YIELD
        table = s.process.tables.get(self.table)
        smp = self.expr.eval(s)
        if table is None or smp is None:
            return Ret.CONT
        key = table_key(table, smp)
        entry = None if key is None else table.get_entry(key, s.now)
        if entry is None:
            return Ret.CONT
        table.acquire(entry)
        slots[self.num] = Tracked(table, entry)
        start_counters(table, entry, s.now)
        if x.rule_set.startswith("http-"):
            self._count_http(x, table, entry)
        return Ret.CONT

    def _count_http(self, x: Exec, table: StickTable, entry: Entry) -> None:
        now, status = x.stream.now, x.txn.status
        count(table, entry, "http_req_cnt", "http_req_rate", now)
        if x.rule_set == "http-response":
            if 400 <= status < 500:
                count(table, entry, "http_err_cnt", "http_err_rate", now)
            if 500 <= status < 600 and status not in (501, 505):
                count(table, entry, "http_fail_cnt", "http_fail_rate", now)


def tracked(s: Stream, num: int, x: Exec) -> Tracked | None:
    """The counter an `sc-*` action acts on: the stream's, or the session's in
    `tcp-request connection|session`."""
    if x.rule_set in ("tcp-request connection", "tcp-request session"):
        return s.sess.sc[num]
    return s.sc[num]


@dataclass(frozen=True, slots=True)
class ScIncGpc:
    """`sc-inc-gpc(IDX,SC)`, `sc-inc-gpc0(SC)`, `sc-inc-gpc1(SC)`: the rate, then the
    counter, where the table stores them."""

    num: int
    counter: str  # "gpc0" | "gpc1"

    def run(self, x: Exec) -> Ret:
        t = tracked(x.stream, self.num, x)
        if t is None:
            return Ret.CONT
        spec, now = t.table.spec, x.stream.now
        rate = self.counter + "_rate"
        if spec.stores(rate) or spec.stores(self.counter):
            if spec.stores(rate):
                t.table.update_rate(t.entry, rate, now)
            if spec.stores(self.counter):
                t.entry.add(self.counter)
            t.table.touch(t.entry, now)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class ScSetGpt0:
    """`sc-set-gpt0(SC) VALUE|EXPR`."""

    num: int
    value: int = 0
    expr: Expr | None = None

    def run(self, x: Exec) -> Ret:
        t = tracked(x.stream, self.num, x)
        if t is None or not t.table.spec.stores("gpt0"):
            return Ret.CONT
        value = self.value
        if self.expr is not None:
            smp = self.expr.eval_as(x.stream, ty.SINT)
            if smp is None:
                return Ret.CONT
            value = smp.num
        t.entry.set("gpt0", value & 0xFFFFFFFF)
        t.table.touch(t.entry, x.stream.now)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class Emit:
    """Actions whose whole effect is a command for the driver (set-mark, set-tos,
    set-nice, set-log-level, set-timeout, disable-l7-retry, expect-proxy, close)."""

    command: cmd.Command

    def run(self, x: Exec) -> Ret:
        if isinstance(self.command, cmd.SetLogLevel):
            x.stream.log_level = _LEVELS.get(self.command.level, -1)
        elif isinstance(self.command, cmd.SetTimeout):
            x.stream.timeouts[self.command.which] = self.command.ms
        elif isinstance(self.command, cmd.DisableL7Retry):
            x.txn.l7_retry = False
        x.emit(self.command)
        return Ret.CONT


_LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5}
_LEVELS.update({"info": 6, "debug": 7, "silent": -1})


@dataclass(frozen=True, slots=True)
class SetPriority:
    """`set-priority-class EXPR` (-2047..2047) / `set-priority-offset EXPR`
    (-524287..524287), clamped as HAProxy clamps them."""

    which: str
    expr: Expr

    def run(self, x: Exec) -> Ret:
        smp = self.expr.eval_as(x.stream, ty.SINT)
        if smp is not None:
            bound = 2047 if self.which == "class" else 524287
            x.emit(cmd.SetPriority(self.which, max(-bound, min(bound, smp.num))))
        return Ret.CONT


RESPONSE_SETS = ("http-response", "http-after-response")


@dataclass(frozen=True, slots=True)
class StrictMode:
    on: bool

    def run(self, x: Exec) -> Ret:
        if x.rule_set in RESPONSE_SETS:  # http_action_strict_mode: the rule's message
            x.txn.strict_res = self.on
        else:
            x.txn.strict = self.on
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class SilentDrop:
    """`silent-drop`: the client's connection goes without a FIN or RST reaching it; the
    driver closes it with a zero TTL / reset (command `SilentDropped` via the verdict)."""

    def run(self, x: Exec) -> Ret:
        x.txn.silent_drop = True
        return Ret.ABRT if x.rule_set.startswith("http-") else Ret.DENY


@dataclass(frozen=True, slots=True)
class EditPatterns:
    """`add-acl(FILE) KEY`, `del-acl(FILE) KEY`, `set-map(FILE) KEY VALUE`,
    `del-map(FILE) KEY` on the shared pattern reference; nothing when no ACL or map of the
    configuration loaded FILE (pat_ref_lookup finds none)."""

    store: PatternStore
    name: str
    op: str  # "add-acl" | "del-acl" | "set-map" | "del-map"
    key: LogFormat
    value: LogFormat | None = None

    def run(self, x: Exec) -> Ret:
        ref = self.store.lookup(self.name)
        if ref is None:
            return Ret.CONT
        key = self.key.build(x.stream)
        if self.op == "add-acl":
            if all(e.key != key for e in ref):
                ref.add(key)
        elif self.op == "set-map":
            assert self.value is not None
            value = self.value.build(x.stream)
            if not ref.set(key, value):
                ref.add(key, value)
        else:
            ref.delete(key)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class SetTimeout:
    """`set-timeout server|tunnel EXPR`: the stream's timeout from a sample, in milliseconds
    (src/http_act.c action_timeout_set_stream_timeout: a sample that is missing leaves it;
    the value is not checked, 0 included)."""

    which: str
    expr: Expr

    def run(self, x: Exec) -> Ret:
        smp = self.expr.eval_as(x.stream, ty.SINT)
        if smp is not None:
            ms = max(0, min(smp.num, 0x7FFFFFFF))
            x.stream.timeouts[self.which] = ms
            x.emit(cmd.SetTimeout(self.which, ms))
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class SetAddress:
    """`set-src`, `set-dst` EXPR (an address) and `set-src-port`, `set-dst-port` EXPR, on
    the level the rule set runs at (src/tcp_act.c tcp_action_req_set_src): a connection
    rule changes the connection's addresses (fc_src, and the session's, which start from
    them), a session rule the session's, content and HTTP rules the stream's."""

    which: str  # "src" | "dst" | "src-port" | "dst-port"
    expr: Expr

    def run(self, x: Exec) -> Ret:
        s = x.stream
        if self.which.endswith("port"):
            smp = self.expr.eval_as(s, ty.SINT)
            if smp is None:
                return Ret.CONT
            value: object = smp.num & 0xFFFF
        else:
            smp = self.expr.eval(s)
            cast = None if smp is None else ty.cast(smp, ty.ADDR)
            if cast is None or cast.type not in (ty.IPV4, ty.IPV6):
                return Ret.CONT
            value = ipaddress.ip_address(cast.text)
        attr = self.which.replace("-", "_")
        if x.rule_set == "tcp-request connection":
            setattr(s.sess, "fc_" + attr, value)
        if x.rule_set in ("tcp-request connection", "tcp-request session"):
            setattr(s.sess, attr, value)
        setattr(s, attr, value)
        x.emit(cmd.AddressChanged(self.which.split("-")[0]))
        return Ret.CONT
