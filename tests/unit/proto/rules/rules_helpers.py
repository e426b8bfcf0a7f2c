"""Shared helpers for the rules engine tests: compile a haproxy.cfg text, make a stream from a
raw request, run the request and response phases."""

from __future__ import annotations

import ipaddress

from pylvs.config.haproxy.compile_rules import CompiledRules, compile_config
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.rules.engine import Txn
from pylvs.proto.sample import HttpMessage, Process, Session, Stream

HEAD = "global\n  log stdout local0\ndefaults\n  mode http\n  timeout client 5s\n"
HEAD += "  timeout server 5s\n  timeout connect 1s\n"


def compiled(
    text: str, *, head: str = HEAD, files: dict[str, bytes] | None = None
) -> CompiledRules:
    result = load_text(head + text, "t.cfg")
    assert result.ok, result.problems.errors
    out = compile_config(result.config, read_file=(files or {}).get)
    assert not out.errors, out.errors
    return out


def parse_request(raw: bytes) -> HttpMessage:
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    method, uri, version = lines[0].split(b" ", 2)
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.strip(), value.strip(b" \t")))
    return HttpMessage.make_request(method, uri, fields, version)


def stream(
    rules: CompiledRules, frontend: str, raw: bytes, *, now: float = 0.0, src: str = "127.0.0.1"
) -> Txn:
    process = Process(hostname="host")
    process.tables = rules.tables
    fe = rules.proxies[frontend].ref
    sess = Session(
        process,
        fe,
        src=ipaddress.ip_address(src),
        src_port=40000,
        dst=ipaddress.ip_address("127.0.0.1"),
        dst_port=8080,
    )
    s = Stream(sess, now=now, request=parse_request(raw))
    s.remember_request()
    return Txn(s)
