"""What the differential runs (test_diff_http.py) found where pylvs differed from haproxy 2.6.12,
kept as fixed cases on the same rig: each configuration runs under both proxies and must give
the same responses and `option httplog` lines, and the line that showed the difference is
checked for the value haproxy gives.

- `return`, `redirect` (the frontend's keyword and the rule) and `auth` end the stream with
  SF_ERR_LOCAL: termination state LR, LH for a response rule's answer, where a deny is PR/PH
  (http_act.c http_action_return, http_ana.c http_apply_redirect_rule).
- A response the rules deny: the body that came with the head was in the channel and counts
  in %B before the 502 (http_ana.c http_process_res_common, channel totals).
- The proxy's own answer to a HEAD request counts its head only: http_forward_proxy_resp
  skips the payload before it adds to the channel's total.
- %hr writes every request capture slot of the frontend, those of `http-request capture`
  rules that did not run (or found nothing) empty (log.c, fe->nb_req_cap).
- The persistence cookie is inserted once the http-response rules ran and before the
  http-after-response rules (http_ana.c http_process_res_common), so a field those add
  comes after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.hamode.diff.diff_rig import EchoServer, preamble, run_both
from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]

HEAD = "\n".join([*preamble("{log}"), "frontend fe", "    bind 127.0.0.1:{port}", ""])


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[EchoServer, dict[str, Syslog]]]:
    server = EchoServer("s1")
    logs = {kind: Syslog() for kind in KINDS}
    try:
        yield server, logs
    finally:
        server.close()
        for log in logs.values():
            log.sock.close()


def _run(
    tmp: Path, rig: tuple[EchoServer, dict[str, Syslog]], frontend: str, requests: list[bytes]
) -> list[str]:
    server, logs = rig
    text = HEAD + frontend + f"backend be\n    server s1 127.0.0.1:{server.port}\n"
    got = run_both(tmp, lambda port, log: text.format(port=port, log=log), logs, requests)
    assert not got.diff, "\n".join(got.diff)
    return list(got.seen["pylvs"].logs)


def _term(line: str) -> str:
    found = re.search(r" (\d{3}) (\d+) - - (\S{4}) ", line)
    assert found is not None, line
    return f"{found.group(1)} {found.group(3)}"


def test_local_answers_end_lr_or_lh_and_denies_pr_or_ph(
    tmp_path: Path, rig: tuple[EchoServer, dict[str, Syslog]]
) -> None:
    frontend = """\
    http-request redirect location /elsewhere if {{ path /redirect }}
    http-request return status 200 content-type text/plain string hi if {{ path /return }}
    http-request auth if {{ path /auth }}
    http-request deny if {{ path /deny }}
    redirect prefix /p if {{ path /prefix }}
    http-response return status 404 if {{ res.hdr(x-served-by) s1 }} {{ capture.req.uri /rreturn }}
    http-response redirect location /r if {{ capture.req.uri /rredirect }}
    http-response deny if {{ capture.req.uri /rdeny }}
    default_backend be
"""
    paths = [
        "/redirect",
        "/return",
        "/auth",
        "/deny",
        "/prefix",
        "/rreturn",
        "/rredirect",
        "/rdeny",
    ]
    requests = [f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode() for p in paths]
    lines = _run(tmp_path, rig, frontend, requests)
    assert [_term(line) for line in lines] == [
        "302 LR--",
        "200 LR--",
        "401 LR--",
        "403 PR--",
        "302 LR--",
        "404 LH--",
        "302 LH--",
        "502 PH--",
    ]


def test_denied_responses_count_the_body_that_came_and_head_answers_no_payload(
    tmp_path: Path, rig: tuple[EchoServer, dict[str, Syslog]]
) -> None:
    frontend = """\
    http-request deny if {{ path /deny }}
    http-response deny if {{ capture.req.uri /rdeny }}
    default_backend be
"""
    requests = [
        f"{m} {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        for p in ("/rdeny", "/deny")
        for m in ("GET", "HEAD")
    ]
    lines = _run(tmp_path, rig, frontend, requests)
    sizes = [int(re.findall(r" \d{3} (\d+) ", line)[0]) for line in lines]
    get_rdeny, head_rdeny, get_deny, head_deny = sizes
    # the echoed request (its body) counts for GET, not for HEAD (no body came); the 502's
    # and the 403's payloads (107 and 93 bytes) do not count for HEAD
    assert get_rdeny - head_rdeny > 107
    assert get_deny - head_deny == 93


def test_every_capture_slot_is_logged_even_those_no_rule_filled(
    tmp_path: Path, rig: tuple[EchoServer, dict[str, Syslog]]
) -> None:
    frontend = """\
    capture request header Host len 20
    http-request deny if {{ path /deny }}
    http-request capture req.hdr(x-a) len 5
    default_backend be
"""
    requests = [
        b"GET /deny HTTP/1.1\r\nHost: h\r\nx-a: 1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nx-a: 123456\r\nConnection: close\r\n\r\n",
    ]
    lines = _run(tmp_path, rig, frontend, requests)
    assert [line.split(" 0/0 ")[1].split(" ")[0] for line in lines] == [
        "{h|}",  # denied before the capture rule ran: its slot is there, empty
        "{h|}",
        "{h|12345}",
    ]


def test_the_persistence_cookie_comes_before_what_after_response_rules_add(
    tmp_path: Path, rig: tuple[EchoServer, dict[str, Syslog]]
) -> None:
    server, logs = rig
    text = (
        HEAD
        + "    http-after-response set-header X-After 1\n    default_backend be\n"
        + "backend be\n    cookie SRV insert\n"
        + f"    server s1 127.0.0.1:{server.port} cookie c1\n"
    )
    requests = [b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
    got = run_both(tmp_path, lambda port, log: text.format(port=port, log=log), logs, requests)
    assert not got.diff, "\n".join(got.diff)
    head = got.seen["pylvs"].exchanges[0][0].lower()
    assert head.index(b"\r\nset-cookie: srv=c1") < head.index(b"\r\nx-after: 1")


def test_postonly_reads_the_method_as_received_not_as_set_method_left_it(
    tmp_path: Path, rig: tuple[EchoServer, dict[str, Syslog]]
) -> None:
    """`cookie ... postonly` tests txn->meth, which `set-method` leaves (http_ana.c
    http_process_res_common): a GET made POST gets no persistence cookie, a POST made GET
    gets one."""
    server, logs = rig
    text = (
        HEAD
        + "    default_backend be\n"
        + "backend be\n    cookie SRV insert postonly\n"
        + "    http-request set-method POST if {{ method GET }}\n"
        + "    http-request set-method GET if {{ method POST }}\n"
        + f"    server s1 127.0.0.1:{server.port} cookie c1\n"
    )
    requests = [
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ]
    got = run_both(tmp_path, lambda port, log: text.format(port=port, log=log), logs, requests)
    assert not got.diff, "\n".join(got.diff)
    (get_head, get_body), (post_head, post_body) = got.seen["pylvs"].exchanges
    assert b"set-cookie" not in get_head.lower() and get_body.startswith(b"POST / ")
    assert b"set-cookie: SRV=c1" in post_head and post_body.startswith(b"GET / ")
