"""proto/log/fastline.py against the interpreter (proto/rules/logfmt.LogFormat.build over a
LoggedStream): the formats `option httplog`, `option httplog clf` and `option tcplog` stand
for, then random formats of every variable fastline knows (random options, text, runs of
spaces) over random facts, each fact given either as a value known at compile time or as
one computed per line: the same bytes.  And the dates made once per second against
datetime's own."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.config.haproxy.compile_actions import log_format
from pylvs.config.haproxy.compile_samples import context
from pylvs.config.haproxy.convert_log import LINE_VARIABLES
from pylvs.proto.log.fastline import FACTS, VARS, compile_line
from pylvs.proto.log.traffic import (
    CLF_HTTPLOG,
    HTTPLOG,
    TCPLOG,
    LoggedStream,
    StreamEnd,
    accept_date,
    clf_date,
)
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.sample.stream import Process, ProxyRef, ServerRef, Session

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ACCEPT = datetime(2026, 12, 6, 7, 54, 1, 680_400).timestamp()


def compiled(text: str) -> LogFormat:
    unknown: list[str] = []
    fmt = log_format(text, context(proxy="fe"), http=False, variables=LINE_VARIABLES,
                     unknown=unknown)  # fmt: skip
    assert unknown == []
    return fmt


def stream_of(f: dict[str, Any]) -> LoggedStream:
    """The interpreter's stream carrying the facts `f`."""
    ci = None if f["ci"] == b"-" else ipaddress.ip_address(f["ci"].decode())
    fi = None if f["fi"] == b"-" else ipaddress.ip_address(f["fi"].decode())
    process = Process(hostname=f["hostname"].decode(), pid=f["pid"])
    process.log_counter = f["log_counter"]
    sess = Session(process, ProxyRef(f["fe"].decode(), 1), src=ci, src_port=f["cp"], dst=fi,
                   dst_port=f["fp"])  # fmt: skip
    s = LoggedStream(sess, now=f["accept"])
    s.end = StreamEnd(
        accept=f["accept"], t_queue=f["t_queue"], t_connect=f["t_connect"],
        t_close=f["t_close"], t_handshake=f["t_handshake"], t_idle=f["t_idle"],
        t_request=f["t_request"], t_data=f["t_data"], bytes_in=f["bytes_in"],
        bytes_out=f["bytes_out"], term=f["term"].decode(), actconn=f["actconn"],
        feconn=f["feconn"], beconn=f["beconn"], srvconn=f["srvconn"], retries=f["retries"],
        redispatched=f["redispatched"], srv_queue_pos=f["srv_queue_pos"],
        be_queue_pos=f["be_queue_pos"], early=f["early"],
        mode="http" if f["mode_http"] else "tcp", cli_cookie=f["cli_cookie"],
        srv_cookie=f["srv_cookie"], cookie_flags=f["cookie_flags"].decode(),
    )  # fmt: skip
    s.backend = ProxyRef(f["be"].decode(), 2)
    if f["si"] == b"-":  # no server: %s is <NOSRV>, never another name
        s.server = None
    else:
        s.server = ServerRef(f["srv"].decode(), 1, ipaddress.ip_address(f["si"].decode()),
                             int(f["sp"]))  # fmt: skip
    s.unique_id = f["unique_id"]
    s.uniq_id = f["uniq_id"]
    s.status = f["status"]
    if f["line"] is not None:
        s.orig_method, s.orig_uri, s.orig_version = f["line"]
    s.captures.request = list(f["req_caps"])
    s.captures.response = list(f["res_caps"])
    return s


def fast(fmt: LogFormat, f: dict[str, Any], known: frozenset[str]) -> bytes:
    """compile_line with the facts of `known` known, the others computed from `facts`
    (empty capture slots are known: a computed one is never empty, the module doc)."""
    known |= {k for k in ("req_caps", "res_caps") if not f[k]}
    line = compile_line(
        fmt,
        {k: f[k] for k in known},
        {k: f"facts[{k!r}]" for k in FACTS if k not in known},
        "facts",
        {},
    )
    assert line is not None, fmt.text
    return line(f)


def facts(**over: Any) -> dict[str, Any]:
    f: dict[str, Any] = {
        "accept": ACCEPT, "t_handshake": 0, "t_idle": 2, "t_request": 2, "t_queue": 3,
        "t_connect": 4, "t_data": 9, "t_close": 11, "early": False, "mode_http": True,
        "bytes_in": 85, "bytes_out": 293, "term": b"--", "cookie_flags": b"--",
        "cli_cookie": None, "srv_cookie": None, "actconn": 3, "feconn": 2, "beconn": 1,
        "srvconn": 1, "retries": 0, "redispatched": False, "srv_queue_pos": 0,
        "be_queue_pos": 0, "status": 200, "ci": b"127.0.0.1", "cp": 40136,
        "fi": b"127.0.0.2", "fp": 8080, "fe": b"fe", "be": b"be", "srv": b"s1",
        "line": (b"GET", b"/hello?x=1", b"HTTP/1.1"), "req_caps": [], "res_caps": [],
        "si": b"127.0.0.9", "sp": b"80", "hostname": b"lb1", "pid": 1234, "unique_id": None,
        "uniq_id": 7, "log_counter": 3,
    }  # fmt: skip
    f.update(over)
    return f


@pytest.mark.parametrize("text", [HTTPLOG, CLF_HTTPLOG, TCPLOG])
@pytest.mark.parametrize("known", [frozenset(), frozenset({"early", "fe", "be", "term"})])
def test_the_options_formats_as_the_interpreter_writes_them(
    text: str, known: frozenset[str]
) -> None:
    fmt = compiled(text)
    for f in (facts(), facts(req_caps=[b"ex|ample", None], res_caps=[b"12"], early=True),
              facts(line=None, t_data=-1, t_connect=-1, t_queue=-1, retries=2,
                    redispatched=True, cli_cookie=b"abc", cookie_flags=b"NI")):  # fmt: skip
        assert fast(fmt, f, known) == fmt.build(stream_of(f))


def test_known_facts_are_written_into_the_text_and_absent_captures_end_no_separator() -> None:
    fmt = compiled(HTTPLOG)
    f = facts()
    known = frozenset(FACTS) - {"status"}
    assert fast(fmt, f, known) == fmt.build(stream_of(f))
    assert b'0/0 "GET /hello?x=1 HTTP/1.1"' in fast(fmt, f, known)


def test_without_a_server_the_server_variables_are_dashes() -> None:
    fmt = compiled("%b/%s %si:%sp %{+Q}si %H %pid %ID %rt %lc")
    f = facts(si=b"-", sp=b"-", srv=b"<NOSRV>", unique_id=b"u\x00v")
    assert fast(fmt, f, frozenset()) == fmt.build(stream_of(f))
    assert fast(fmt, f, frozenset()) == b'be/<NOSRV> -:- "-" lb1 1234 u 7 3'


def test_a_sample_expression_or_an_unknown_variable_keeps_the_interpreter() -> None:
    assert compile_line(compiled("%ci %[src]"), {}, {"ci": "x"}, "x", {}) is None
    unknown: list[str] = []
    fmt = log_format("%Ts", context(proxy="fe"), http=False, variables=LINE_VARIABLES,
                     unknown=unknown)  # fmt: skip
    assert unknown == ["%Ts"]
    assert compile_line(fmt, {}, {}, "x", {}) is None
    assert compile_line(compiled("%ci"), {}, {}, "x", {}) is None  # no fact for %ci
    rules = log_format("%ci", context(proxy="fe"))  # a rules' string: LOG_OPT_HTTP
    assert compile_line(rules, {}, {"ci": "x"}, "x", {}) is None


_TEXT = st.sampled_from([b"", b"x", b"a b", b'q"u]o\\te', b"nul\x00after", b"\x00", b"{|}#"])
_INT = st.integers(-1, 100_000)
_CAPS = st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=3)
_ADDR = st.sampled_from([b"127.0.0.1", b"::1", b"10.1.2.3", b"-"])
_LINE = st.one_of(
    st.none(),
    st.tuples(st.sampled_from([b"GET", b"POST"]),
              st.sampled_from([b"/", b"/a?b=1", b'/"#\xff', b"http://h/p?q", b"*", b""]),
              st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b""])),
)  # fmt: skip
_FACTS = st.fixed_dictionaries(
    {
        "accept": st.floats(1e9, 2e9, allow_nan=False), "t_handshake": st.integers(0, 5),
        "t_idle": _INT, "t_request": _INT, "t_queue": _INT, "t_connect": _INT,
        "t_data": _INT, "t_close": _INT, "early": st.booleans(), "mode_http": st.booleans(),
        "bytes_in": _INT, "bytes_out": _INT, "term": st.sampled_from([b"--", b"SD", b"cR"]),
        "cookie_flags": st.sampled_from([b"--", b"NI", b"VN"]),
        "cli_cookie": st.one_of(st.none(), _TEXT), "srv_cookie": st.one_of(st.none(), _TEXT),
        "actconn": _INT, "feconn": _INT, "beconn": _INT, "srvconn": _INT,
        "retries": st.integers(0, 3), "redispatched": st.booleans(),
        "srv_queue_pos": _INT, "be_queue_pos": _INT, "status": st.integers(100, 599),
        "ci": _ADDR, "cp": st.integers(0, 65535), "fi": _ADDR, "fp": st.integers(0, 65535),
        "fe": st.sampled_from([b"fe", b"front-1"]), "be": st.sampled_from([b"be", b"b.2"]),
        "srv": st.sampled_from([b"s1", b"srv_2"]), "line": _LINE,
        "req_caps": _CAPS, "res_caps": _CAPS,
        "si": st.sampled_from([b"127.0.0.9", b"::2"]), "sp": st.sampled_from([b"0", b"8080"]),
        "hostname": st.sampled_from([b"lb1", b"h.example"]), "pid": st.integers(1, 99999),
        "unique_id": st.one_of(st.none(), _TEXT), "uniq_id": _INT, "log_counter": _INT,
    }
)  # fmt: skip
_OPTIONS = st.sampled_from(["", "{+Q}", "{-M}", "{+E}", "{+Q,+E}", "{-M,+E}", "{+Q,-M}"])
_ITEM = st.one_of(
    st.tuples(_OPTIONS, st.sampled_from(sorted(VARS))).map(lambda t: f"%{t[0]}{t[1]}"),
    st.sampled_from([" ", "  ", "/", "[", "]", "%%", '"', "-"]),  # no letter: %Bx is a name
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ITEM, min_size=1, max_size=12), _FACTS, st.sets(st.sampled_from(FACTS)))
def test_random_formats_over_random_facts_as_the_interpreter(
    items: list[str], f: dict[str, Any], known: set[str]
) -> None:
    text = "".join(items).strip() or "-"
    fmt = compiled(text)
    assert fast(fmt, f, frozenset(known)) == fmt.build(stream_of(f))


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 4e9, allow_nan=False))
def test_dates_made_once_a_second_are_datetimes(when: float) -> None:
    t = datetime.fromtimestamp(when)
    assert accept_date(when) == (
        f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year:04d}:{t:%H:%M:%S}.{t.microsecond // 1000:03d}"
    )
    g = datetime.fromtimestamp(when, UTC)
    assert (
        clf_date(when, gmt=True)
        == f"{g.day:02d}/{_MONTHS[g.month - 1]}/{g.year}:{g:%H:%M:%S} +0000"
    )
    assert (
        clf_date(when, gmt=False)[:20]
        == f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S}"
    )


def test_a_date_a_rounding_step_below_the_second_is_the_next_second() -> None:
    """fromtimestamp rounds to the microsecond, half to even: .9999996 is the next second."""
    base = datetime(2026, 12, 6, 7, 54, 1).timestamp()
    assert accept_date(base + 0.9999996) == "06/Dec/2026:07:54:02.000"
    assert accept_date(base + 0.9994) == "06/Dec/2026:07:54:01.999"
