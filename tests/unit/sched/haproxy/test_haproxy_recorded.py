"""pylvs's balance algorithms against pick orders recorded from the real HAProxy 2.6.

tests/data/haproxy/lb/sequences.json was captured by tests/data/haproxy/lb/capture.py (its
docstring says how): each scenario is a backend (servers, `balance`, `hash-type`, options) and
steps (connections from given clients, held or closed; HTTP requests; stats socket commands);
HAProxy's answers are recorded beside them.  Here the same steps drive a `Pool`, the way a
runtime would: a connection is assigned, taken, and dropped when the client closes; a
connection HAProxy queued shows as "-"; the few stats socket commands the scenarios use are
mapped onto the pool's calls.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import random
from pathlib import Path
from typing import Any

import pytest

from pylvs.sched.base import Flow, HttpRequest
from pylvs.sched.haproxy import Admin, LbParams, Pool, Server, State
from pylvs.sched.haproxy.params import parse_balance, parse_hash_type

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "lb" / "sequences.json"
RECORDED = json.loads(DATA.read_text())
SCENARIOS = {sc["name"]: sc for sc in RECORDED["scenarios"]}
VIP = ipaddress.IPv4Address("127.0.0.1")


def test_recordings_come_from_haproxy_2_6() -> None:
    assert RECORDED["haproxy"].startswith("HAProxy version 2.6.")
    assert len(SCENARIOS) > 50


def params_of(sc: dict[str, Any]) -> LbParams:
    params = parse_balance(sc["balance"].split())
    if sc["hash_type"]:
        params = parse_hash_type(sc["hash_type"].split(), params)
    if "allbackups" in sc["options"]:
        params = dataclasses.replace(params, allbackups=True)
    for line in sc["extra"]:
        if line.startswith("tcp-request"):
            continue  # waits for the RDP cookie: the flow carries the payload
        keyword, value = line.rsplit(" ", 1)
        assert keyword == "hash-balance-factor", line
        params = dataclasses.replace(params, hash_balance_factor=int(value))
    return params


def servers_of(sc: dict[str, Any]) -> list[Server]:
    out = []
    for s in sc["servers"]:
        server = Server(
            s["name"],
            s["weight"],
            puid=s["id"] or 0,
            maxconn=s["maxconn"] or 0,
            backup=s["backup"],
        )
        if s["disabled"]:  # srv_parse_disabled
            server.cur_admin = server.next_admin = Admin.CMAINT | Admin.FMAINT
            server.cur_state = server.next_state = State.STOPPED
        out.append(server)
    return out


def flow_of(sc: dict[str, Any], step: dict[str, Any]) -> Flow:
    client = ipaddress.IPv4Address(step["client"])
    request = None
    if "http" in step:
        uri, headers = step["http"]
        fields = list(headers.items())
        if "Host" not in headers:
            authority = uri.split("/")[2] if uri.startswith("http://") else "lb"
            fields.insert(0, ("Host", authority))
        request = HttpRequest.of("GET", uri, fields)
    # `balance hash src`: the runtime fetches the sample, the address as binary (4 bytes).
    sample = client.packed if sc["balance"] == "hash src" else None
    payload = bytes.fromhex(step.get("payload", ""))
    return Flow(client, 40000, VIP, 8080, payload=payload, request=request, sample=sample)


def run_cli(pool: Pool, cmd: str, now: float) -> str:
    words = cmd.split()
    server = pool.server(words[-1].split("/")[1] if words[0] != "set" else words[2].split("/")[1])
    assert server is not None
    if words[:2] == ["get", "weight"]:
        return pool.weight_text(server)
    if words[:2] == ["set", "weight"]:
        return (pool.change_weight(server, words[3], now) or "").strip()
    if words[0] == "set" and words[3] == "weight":
        return (pool.change_weight(server, words[4], now) or "").strip()
    if words[0] == "set" and words[3:] == ["state", "drain"]:
        pool.clear_admin(server, Admin.FMAINT, now)
        pool.set_admin(server, Admin.FDRAIN, now)
        return ""
    if words[:2] == ["disable", "server"]:
        pool.set_admin(server, Admin.FMAINT, now)
        return ""
    if words[:2] == ["enable", "server"]:
        pool.clear_admin(server, Admin.FMAINT, now)
        return ""
    raise AssertionError(f"no mapping for {cmd!r}")


def replay(sc: dict[str, Any]) -> list[str]:
    pool = Pool(servers_of(sc), params_of(sc), random.Random(0))
    held: list[Server] = []
    observed: list[str] = []
    now = 1000.0
    for step in sc["steps"]:
        now += 0.01
        if step["op"] == "cli":
            observed.append(run_cli(pool, step["cmd"], now))
        elif step["op"] == "close":
            for server in held:
                pool.drop_conn(server)
            held.clear()
        else:
            got = pool.assign(flow_of(sc, step), now)
            if not isinstance(got, Server):
                observed.append("-")
                continue
            observed.append(got.name)
            pool.take_conn(got)
            if step["hold"]:
                held.append(got)
            else:
                pool.drop_conn(got)
    return observed


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_pylvs_picks_as_haproxy_did(name: str) -> None:
    sc = SCENARIOS[name]
    assert replay(sc) == sc["observed"]
