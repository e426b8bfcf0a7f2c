"""HAProxy 2.6's Prometheus exporter (`http-request use-service prometheus-exporter`): the
exposition it writes, name for name and line for line, over a stats snapshot.

Rules from addons/promex/service-prometheus.c as 2.6.12 ships it (v2.6.0 plus the backported
e06e31ea3 and 7d6644e68: `agg_server_status`, `agg_server_check_status` kept as its
deprecated twin, `agg_check_status`).  Sections in order: `haproxy_process_` (show info's
fields), `haproxy_frontend_`, `haproxy_listener_` (listeners with `option socket-stats`),
`haproxy_backend_`, `haproxy_server_`, `haproxy_sticktable_`.  Each metric is written for
every object before the next metric (field-major), its `# HELP`/`# TYPE` lines before its
first sample: the description of the stat field (show stat desc / show info desc) unless the
exporter overrides it.  The HTTP-only fields are skipped for proxies not in mode http; the
six `hrsp_*` fields are one family `http_responses_total` with a `code` label and one header;
statuses are one sample per state with a `state` label.  Values print as HAProxy's
promex_metric_to_str: integers as they are, floats with `%f`, strings and empty fields as
`NaN`.  The query selects scopes (`?scope=global|frontend|backend|server|listener|
sticktable|*`, repeatable, empty: none) and `no-maint`; anything else there is HAProxy's 400.
Values come from control/haproxy/rows.py (the `show stat` fields) and stat.info_fields.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from pylvs.control.haproxy import rows
from pylvs.control.haproxy.fields import Field, Row
from pylvs.control.haproxy.names import INFO_FIELDS, STAT_INDEX, description
from pylvs.control.haproxy.promex_names import (
    DESCRIPTIONS,
    INFO_DESC,
    INFO_METRICS,
    ST_METRICS,
    Metric,
)
from pylvs.control.haproxy.stat import info_fields
from pylvs.model.proxies import (
    ADMF_DRAIN,
    ADMF_MAINT,
    SRV_RUNNING,
    SRV_STARTING,
    SRV_STOPPING,
    CheckStatus,
    Counters,
    ProxiesSnapshot,
    ProxyView,
    ServerView,
)
from pylvs.proto.stick import StickTable

CONTENT_TYPE = b"text/plain; version=0.0.4"
# promex_send_headers: the 200's fields (HTX names), the body chunked; no body for HEAD.
HEAD_FIELDS = (
    (b"cache-control", b"no-cache"),
    (b"content-type", CONTENT_TYPE),
    (b"transfer-encoding", b"chunked"),
)


class Scope(enum.IntFlag):
    GLOBAL = 0x80
    FRONT = 0x100
    BACK = 0x200
    SERVER = 0x400
    LISTENER = 0x800
    STICKTABLE = 0x1000
    ALL = GLOBAL | FRONT | BACK | SERVER | LISTENER | STICKTABLE


_SCOPE_WORDS = {
    b"global": Scope.GLOBAL,
    b"server": Scope.SERVER,
    b"backend": Scope.BACK,
    b"frontend": Scope.FRONT,
    b"listener": Scope.LISTENER,
    b"sticktable": Scope.STICKTABLE,
}


@dataclass(frozen=True, slots=True)
class Query:
    scopes: Scope = Scope.ALL
    no_maint: bool = False


_HTTP_ONLY = frozenset({
    "req_rate_max", "req_tot", "intercepted", "cache_lookups", "cache_hits",
    "comp_in", "comp_out", "comp_byp", "comp_rsp",
})  # fmt: skip
_CODES = {"hrsp_1xx": "1xx", "hrsp_2xx": "2xx", "hrsp_3xx": "3xx", "hrsp_4xx": "4xx"}
_CODES |= {"hrsp_5xx": "5xx", "hrsp_other": "other"}
# Averages and maxima the exporter prints in seconds (Counters' milliseconds).
_SECONDS: dict[str, Callable[[Counters], int]] = {
    "qtime": lambda c: c.q_time,
    "ctime": lambda c: c.c_time,
    "rtime": lambda c: c.d_time,
    "ttime": lambda c: c.t_time,
    "qtime_max": lambda c: c.qtime_max,
    "ctime_max": lambda c: c.ctime_max,
    "rtime_max": lambda c: c.dtime_max,
    "ttime_max": lambda c: c.ttime_max,
}
_SRV_STATES = ("DOWN", "UP", "MAINT", "DRAIN", "NOLB")
_LI_STATES = ("WAITING", "OPEN", "FULL")
# Check statuses with a result of at least "failed", in enum order (the exported states).
_CHECK_STATES = tuple(s for s in CheckStatus if s.result >= 2)
STICK_DESC = {
    "size": "Stick table size.",
    "used": "Number of entries used in this stick table.",
}

Labels = tuple[tuple[str, str], ...]


def parse_query(target: bytes) -> Query | None:
    """promex_parse_uri: the scopes and `no-maint` of the request's query (None: a 400)."""
    _, sep, query = target.partition(b"?")
    if not sep:
        return Query()
    query = query.split(b"#", 1)[0]
    scopes, defaults, no_maint = Scope(0), True, False
    for part in query.split(b"&") if query else ():
        key, eq, value = part.partition(b"=")
        if b"=" in value:
            return None
        key_text, value_text = _decode(key), _decode(value) if eq else None
        if key_text is None or (eq and value_text is None):
            return None
        if key_text == b"scope":
            defaults = False
            if value_text is None:
                return None
            if value_text == b"":
                scopes = Scope(0)
            elif value_text.startswith(b"*"):
                scopes |= Scope.ALL
            elif value_text in _SCOPE_WORDS:
                scopes |= _SCOPE_WORDS[value_text]
            else:
                return None
        elif key_text == b"no-maint":
            no_maint = True
    return Query(Scope.ALL if defaults else scopes, no_maint)


def _decode(text: bytes) -> bytes | None:
    """url_decode(in_form=1): '+' is a space; a bad %-escape fails."""
    i = text.find(b"%")
    while i >= 0:
        digits = text[i + 1 : i + 3]
        if len(digits) < 2 or not all(chr(c) in "0123456789abcdefABCDEF" for c in digits):
            return None
        i = text.find(b"%", i + 3)
    return unquote_to_bytes(text.replace(b"+", b" "))


def _value(f: Field | None) -> str:
    """promex_metric_to_str."""
    if f is None or f.kind == "str":
        return "NaN"
    if f.kind == "flt":
        return f"{float(f.value):f}"
    return str(f.value)


class _Writer:
    """The exposition text, with HAProxy's rule for when a family's header is written."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.header = True

    def sample(self, name: str, counter: bool, desc: str, labels: Labels, value: str) -> None:
        if self.header:
            self.out.append(
                f"# HELP {name} {desc}\n# TYPE {name} {'counter' if counter else 'gauge'}\n"
            )
            self.header = False
        text = ",".join(f'{k}="{v}"' for k, v in labels)
        self.out.append(f"{name}{{{text}}} {value}\n" if labels else f"{name} {value}\n")


def render(snap: ProxiesSnapshot, tables: Sequence[StickTable] = (), query: Query = Query()) -> str:
    """The whole exposition for `query` (promex_dump_metrics)."""
    w = _Writer()
    if query.scopes & Scope.GLOBAL:
        _global(w, snap)
    sections: tuple[
        tuple[Scope, str, Callable[[_Writer, Metric, ProxiesSnapshot, Query], None]], ...
    ] = (
        (Scope.FRONT, "F", _frontends),
        (Scope.LISTENER, "L", _listeners),
        (Scope.BACK, "B", _backends),
        (Scope.SERVER, "S", _servers),
    )
    for scope, kind, dump in sections:
        if query.scopes & scope:
            for m in ST_METRICS:
                if kind in m.objects:
                    w.header = True
                    dump(w, m, snap, query)
    if query.scopes & Scope.STICKTABLE:
        for field in ("size", "used"):
            w.header = True
            # Newest first: HAProxy keeps its tables in a list each new one is put at the
            # head of (stick_table.c), as `show table` lists them (proto/stick/cli.py).
            for t in reversed(tables):
                spec = t.spec
                if not spec.size:
                    continue
                value = spec.size if field == "size" else len(t)
                labels = (("name", spec.name), ("type", spec.key.type.value))
                w.sample(
                    f"haproxy_sticktable_{field}", False, STICK_DESC[field], labels, str(value)
                )
    return "".join(w.out)


def _global(w: _Writer, snap: ProxiesSnapshot) -> None:
    row = info_fields(snap.info, snap.now)
    for (name, _), f in zip(INFO_FIELDS, row, strict=True):
        metric = INFO_METRICS.get(name)
        if metric is None:
            continue
        w.header = True
        labels: Labels = ()
        value = _value(f)
        if name == "Build info":
            labels, value = (("version", snap.info.version),), "1"
        w.sample(f"haproxy_process_{metric[0]}", metric[1], INFO_DESC[name], labels, value)


def _desc(field: str) -> str:
    return DESCRIPTIONS.get(field) or description(field)


def _http_field(
    w: _Writer, m: Metric, px: ProxyView, row: Row, *, prefix: str, labels: Labels
) -> None:
    """The HTTP-only fields: skipped outside mode http, hrsp_* as one family with `code`."""
    if px.mode != "http":
        return
    code = _CODES.get(m.field)
    if code is not None:
        if m.field != "hrsp_1xx":
            w.header = False
        labels = (*labels, ("code", code))
    w.sample(prefix + m.name, m.counter, _desc(m.field), labels, _value(row[STAT_INDEX[m.field]]))


def _states(
    w: _Writer, m: Metric, name: str, labels: Labels, *, states: Sequence[str], current: str | None
) -> None:
    for state in states:
        value = "1" if state == current else "0"
        w.sample(name, m.counter, _desc(m.field), (*labels, ("state", state)), value)


def _frontends(w: _Writer, m: Metric, snap: ProxiesSnapshot, q: Query) -> None:
    prefix = "haproxy_frontend_"
    for px in snap.proxies:
        fe = px.frontend
        if fe is None:
            continue
        labels: Labels = (("proxy", px.name),)
        if m.field == "status":
            _states(
                w,
                m,
                prefix + m.name,
                labels,
                states=("DOWN", "UP"),
                current="DOWN" if fe.stopped else "UP",
            )
            continue
        row = rows.frontend_row(px)
        if m.field in _HTTP_ONLY or m.field in _CODES:
            _http_field(w, m, px, row, prefix=prefix, labels=labels)
            continue
        w.sample(
            prefix + m.name, m.counter, _desc(m.field), labels, _value(row[STAT_INDEX[m.field]])
        )


def _listeners(w: _Writer, m: Metric, snap: ProxiesSnapshot, q: Query) -> None:
    prefix = "haproxy_listener_"
    for px in snap.proxies:
        if px.frontend is None:
            continue
        for li in px.listeners:
            labels: Labels = (("proxy", px.name), ("listener", li.name))
            row = rows.listener_row(px, li, False)
            if m.field == "status":
                status = row[STAT_INDEX["status"]]
                current = str(status.value) if status is not None else None
                _states(w, m, prefix + m.name, labels, states=_LI_STATES, current=current)
                continue
            w.sample(
                prefix + m.name, m.counter, _desc(m.field), labels, _value(row[STAT_INDEX[m.field]])
            )


def _srv_state(sv: ServerView) -> str:
    """promex_srv_status."""
    state = "DOWN"
    if sv.op_state in (SRV_RUNNING, SRV_STARTING):
        state = "DRAIN" if sv.admin & ADMF_DRAIN else "UP"
    elif sv.op_state == SRV_STOPPING:
        state = "NOLB"
    if sv.admin & ADMF_MAINT:
        state = "MAINT"
    return state


def _backends(w: _Writer, m: Metric, snap: ProxiesSnapshot, q: Query) -> None:
    prefix = "haproxy_backend_"
    for px in snap.proxies:
        be = px.backend
        if be is None:
            continue
        labels: Labels = (("proxy", px.name),)
        name = prefix + m.name
        if m.field in ("agg_server_status", "agg_server_check_status", "agg_check_status"):
            if px.servers:
                _aggregate(w, m, name, labels, px.servers)
            continue
        if m.field == "status":
            up = be.tot_weight > 0 or not px.servers
            _states(w, m, name, labels, states=("DOWN", "UP"), current="UP" if up else "DOWN")
            continue
        seconds = _SECONDS.get(m.field)
        if seconds is not None:
            w.sample(name, m.counter, _desc(m.field), labels, f"{seconds(be.counters) / 1000.0:f}")
            continue
        row = rows.backend_row(px, snap.now, False)
        if m.field in _HTTP_ONLY or m.field in _CODES:
            _http_field(w, m, px, row, prefix=prefix, labels=labels)
            continue
        w.sample(name, m.counter, _desc(m.field), labels, _value(row[STAT_INDEX[m.field]]))


def _aggregate(
    w: _Writer, m: Metric, name: str, labels: Labels, servers: Sequence[ServerView]
) -> None:
    desc = _desc(m.field)
    if m.field == "agg_check_status":
        for status in _CHECK_STATES:
            count = sum(1 for sv in servers if sv.check.status is status)
            w.sample(name, m.counter, desc, (*labels, ("state", status.info)), str(count))
        return
    states = [_srv_state(sv) for sv in servers]
    for state in _SRV_STATES:
        w.sample(name, m.counter, desc, (*labels, ("state", state)), str(states.count(state)))


def _servers(w: _Writer, m: Metric, snap: ProxiesSnapshot, q: Query) -> None:
    prefix = "haproxy_server_"
    name = prefix + m.name
    for px in snap.proxies:
        if px.backend is None:
            continue
        for sv in _listed(px.servers, q):
            labels: Labels = (("proxy", px.name), ("server", sv.name))
            if not _server_special(w, m, name, labels, sv):
                row = rows.server_row(px, sv, snap.now, False)
                if m.field in _CODES:
                    if px.mode != "http":
                        break  # `goto next_px`: the proxy's other servers too
                    _http_field(w, m, px, row, prefix=prefix, labels=labels)
                    continue
                w.sample(name, m.counter, _desc(m.field), labels, _value(row[STAT_INDEX[m.field]]))


def _listed(servers: Sequence[ServerView], q: Query) -> Iterator[ServerView]:
    for sv in servers:
        if not (q.no_maint and sv.admin & ADMF_MAINT):
            yield sv


def _server_special(w: _Writer, m: Metric, name: str, labels: Labels, sv: ServerView) -> bool:
    """The fields the exporter computes itself for a server; False: the row's value."""
    field = m.field
    check = sv.check
    if field == "status":
        _states(w, m, name, labels, states=_SRV_STATES, current=_srv_state(sv))
    elif field in _SECONDS:
        secs = _SECONDS[field](sv.counters) / 1000.0
        w.sample(name, m.counter, _desc(field), labels, f"{secs:f}")
    elif field == "check_status":
        if check.active:
            for status in _CHECK_STATES:
                on = "1" if check.status is status else "0"
                w.sample(name, m.counter, _desc(field), (*labels, ("state", status.info)), on)
    elif field == "check_code":
        if check.active:
            code = 0 if check.status < CheckStatus.L57DATA else check.code
            w.sample(name, m.counter, _desc(field), labels, str(code))
    elif field == "check_duration":
        if check.status >= CheckStatus.CHECKED:
            w.sample(name, m.counter, _desc(field), labels, f"{check.duration_ms / 1000.0:f}")
    else:
        return False
    return True
