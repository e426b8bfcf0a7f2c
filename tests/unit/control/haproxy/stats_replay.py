"""Replaying tests/data/haproxy/stats/transcript.json against pylvs (see the test's doc).

`Replay` builds a FakeRuntime with the recorded SPEC's proxies (the same names, ids, servers,
ports, check results) and answers each step through the same code the stats socket and the
stats page run (CliSession, web.handle + http1); the `compare_*` functions say how an answer
compares with HAProxy's when some of its values differ by nature.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pylvs.control.haproxy.context import CliState, Context, SocketInfo
from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime, FakeServer
from pylvs.control.haproxy.http1 import RequestReader, serialize
from pylvs.control.haproxy.session import CliSession
from pylvs.control.haproxy.web import StatsSettings, handle
from pylvs.model.proxies import CheckStatus, CheckView, ListenerView, ProcessInfo, SessionView
from pylvs.proto.stick import Level, StickTable, parse_stick_table
from pylvs.sched.haproxy import LbParams

DATA = Path(__file__).resolve().parents[4] / "tests" / "data" / "haproxy" / "stats"
RECORDED: dict[str, Any] = json.loads((DATA / "transcript.json").read_text())
LEVELS = {"admin": Level.ADMIN, "oper": Level.OPERATOR, "user": Level.USER, "tcp": Level.ADMIN}
SOCKET_INDEX = {"admin": 1, "oper": 2, "user": 3, "tcp": 4}
START = 1_800_000_000.0

DOWN = CheckView(
    status=CheckStatus.L4CON, desc="Connection refused", duration_ms=0, health=0, port=0
)
UP = CheckView(status=CheckStatus.L4OK, duration_ms=0, health=4)


def _server(sv: dict[str, Any], ports: dict[str, int]) -> FakeServer:
    fs = FakeServer(
        sv["name"],
        port=ports[sv["addr"]],
        weight=sv.get("weight", 1),
        id=sv.get("id", 0),
        backup=sv.get("backup", False),
        disabled=sv.get("disabled", False),
        maxconn=sv.get("maxconn", 0),
        maxqueue=sv.get("maxqueue", 0),
    )
    if sv.get("check"):
        fs.check = DOWN if sv["addr"] == "down" else UP
    return fs


def build(now: list[float]) -> FakeRuntime:
    ports = RECORDED["ports"]
    proxies = []
    for p in RECORDED["spec"]["proxies"]:
        px = FakeProxy(
            p["name"],
            p["kind"],
            p["mode"],
            servers=[_server(s, ports) for s in p.get("servers", [])],
            balance=LbParams(p.get("balance", "roundrobin")),
            fullconn=p.get("fullconn", 0),
        )
        if p.get("socket_stats"):
            px.listeners = [ListenerView("sock-1", 1, addr=f"127.0.0.1:{ports[p['name']]}")]
        if p.get("table"):
            px.table = StickTable(parse_stick_table(p["name"], p["table"].split()))
        proxies.append(px)
    info = ProcessInfo(maxconn=1000, hard_maxconn=1000, started=START, version="2.6.12")
    runtime = FakeRuntime(proxies, clock=lambda: now[0], info=info)
    _fullconn_defaults(runtime)
    for px in proxies:
        for fs in px.servers:
            if fs.check is DOWN:
                runtime.set_check(px.name, fs.name, DOWN)
    return runtime


def _fullconn_defaults(runtime: FakeRuntime) -> None:
    """fullconn unset: 10% of the maxconn of the frontends reaching the backend (cfgparse.c),
    which is what the runtime computes; here from the recording's own values."""
    reached = {"tcpl", "stats", "stats2"}  # listens reach themselves; `be` sets fullconn
    for px in runtime.proxies:
        if px.kind != "frontend" and not px.fullconn:
            px.fullconn = 100 if px.name in reached else 1


def _recorded_now() -> float:
    """HAProxy's date at the first `show info`: the replay's clock starts there."""
    first = next(s["reply"] for s in RECORDED["steps"] if s["send"] == "show info\n")
    values = dict(_info_pairs(first))
    return int(values["Start_time_sec"]) + int(values["Uptime_sec"]) + 0.5


class Replay:
    def __init__(self) -> None:
        self.now = [_recorded_now()]
        self.runtime = build(self.now)
        versions = [s["reply"] for s in RECORDED["steps"] if s["send"] == "show version\n"]
        self.version = versions[0].strip() if versions else "2.6.12"
        homes = [s["reply"] for s in RECORDED["steps"] if s["send"] == "show env HOME\n"]
        self.env = {"HOME": homes[0].strip().partition("=")[2]} if homes else {}
        cli_port = RECORDED["ports"]["cli"]
        self.sockets = [
            SocketInfo("unix@{dir}/admin.sock", Level.ADMIN),
            SocketInfo("unix@{dir}/oper.sock", Level.OPERATOR),
            SocketInfo("unix@{dir}/user.sock", Level.USER),
            SocketInfo(f"ipv4@127.0.0.1:{cli_port}", Level.ADMIN),
        ]

    def cli(self, step: dict[str, Any]) -> str:
        if step["compare"] in ("info", "info_json"):
            self._adopt_info(step["reply"])
        level = LEVELS[step["sock"]]
        me = SessionView(
            id=1,
            proto="unix_stream" if step["sock"] != "tcp" else "tcpv4",
            src_port=SOCKET_INDEX[step["sock"]],
            frontend="GLOBAL",
            accepted=self.now[0],
        )
        ctx = Context(
            self.runtime,
            CliState(bind_level=level, level=level),
            env=self.env,
            sockets=self.sockets,
            version=self.version,
            cli_sessions=lambda: [me],
        )
        return CliSession(ctx).feed(step["send"].encode("latin-1"), eof=True).decode("latin-1")

    def _adopt_info(self, reply: str) -> None:
        """The process values are the runtime's: take them from HAProxy's own answer."""
        values = dict(_info_pairs(reply))
        if not values:
            return
        num = {k: int(v) for k, v in values.items() if re.fullmatch(r"\d+", v)}
        self.runtime.info = ProcessInfo(
            version=values["Version"],
            release_date=values["Release_date"],
            pid=num["Pid"],
            started=float(num["Start_time_sec"]),
            nbthread=num["Nbthread"],
            ulimit_n=num["Ulimit-n"],
            maxsock=num["Maxsock"],
            maxconn=num["Maxconn"],
            hard_maxconn=num["Hard_maxconn"],
            curr_conns=num["CurrConns"],
            cum_conns=num["CumConns"],
            cum_req=num["CumReq"],
            conn_rate=num["ConnRate"],
            max_conn_rate=num["MaxConnRate"],
            sess_rate=num["SessRate"],
            max_sess_rate=num["MaxSessRate"],
            tasks=num["Tasks"],
            run_queue=num["Run_queue"],
            idle_pct=num["Idle_pct"],
            node=values["node"],
            jobs=num["Jobs"],
            listeners=num["Listeners"],
            total_bytes_out=num["TotalBytesOut"],
            bytes_out_rate=num["BytesOutRate"],
            pool_alloc_bytes=num["PoolAlloc_bytes"],
            pool_used_bytes=num["PoolUsed_bytes"],
        )
        self.now[0] = num["Start_time_sec"] + num["Uptime_sec"] + 0.5

    def page(self, step: dict[str, Any]) -> str:
        settings = page_settings(step["listen"])
        reader = RequestReader("127.0.0.1")
        out = b""
        try:
            requests = reader.feed(step["send"].encode("latin-1"))
        except ValueError:
            from pylvs.control.haproxy.http1 import BAD_REQUEST

            return BAD_REQUEST.decode("latin-1")
        for request in requests:
            out += serialize(handle(settings, request, self.runtime), request)
        return out.decode("latin-1")


def page_settings(listen: str) -> StatsSettings:
    if listen == "stats":
        return StatsSettings("stats", uri="/", refresh=5, admin=(lambda r: True,))
    return StatsSettings(
        "stats2",
        uri="/st",
        realm="Private area",
        auth=(("admin", "secret"),),
        legends=True,
        hide_version=True,
        scope=("be", "."),
    )


def _info_pairs(reply: str) -> list[tuple[str, str]]:
    """(name, value) of a `show info` answer, plain, typed or JSON, with or without `desc`."""
    if reply.startswith("["):
        return [(f["field"]["name"], str(f["value"]["value"])) for f in json.loads(reply)]
    out = []
    for line in reply.splitlines():
        if re.match(r"\d+\.", line):
            head, _tags, _kind, value = line.split(":", 3)
            name = head.split(".", 1)[1].rsplit(".", 1)[0]
        elif ": " in line:
            name, _, value = line.partition(": ")
        else:
            continue
        out.append((name, value.split(':"', 1)[0]))
    return out
