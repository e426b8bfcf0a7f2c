"""HealthManager end to end on loopback: quorum and sorry server, inhibit_on_failure, the
notify FIFO, SMTP alerts, reload without flapping, FILE_CHECK and misc_dynamic weights,
script security and misc_timeout, genhash."""

from __future__ import annotations

import argparse
import asyncio
import http.server
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pylvs.cli import genhash as genhash_cli
from tests.integration.health.health_fixtures import (
    HttpBackend,
    MiscScript,
    Recorder,
    load,
    manager,
    notes,
    notify_script,
    run,
    status_text,
    until,
)
from tests.port_helpers import free_port

LOOP = 0.2


def vs_text(body: str, *, vs_opts: str = "", glob: str = "") -> str:
    return f"""
global_defs {{
  router_id LVS1
  script_user root
{glob}
}}
virtual_server 127.0.0.1 8080 {{
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  delay_loop {LOOP}
  warmup 0
{vs_opts}
{body}
}}
"""


def http_rs(port: int, extra: str = "") -> str:
    return f"""
  real_server 127.0.0.1 {port} {{
{extra}
    HTTP_GET {{
      connect_timeout 0.3
      retry 0
      url {{
        path /
      }}
    }}
  }}
"""


def test_quorum_loss_swaps_in_the_sorry_server_and_back(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = await HttpBackend().start(), await HttpBackend().start()
        notify, log = notify_script(tmp_path)
        fifo = tmp_path / "lvs.fifo"
        text = vs_text(
            http_rs(a.port) + http_rs(b.port),
            vs_opts=(
                "quorum 2\nsorry_server 127.0.0.9 9009\n"
                f'quorum_up "{notify} quorum-up"\nquorum_down "{notify} quorum-down"'
            ),
            glob=f"lvs_notify_fifo {fifo}",
        )
        rec = Recorder()
        m = manager(load(text), rec)
        await m.start()
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            both = {f"127.0.0.1:{a.port}": 1, f"127.0.0.1:{b.port}": 1}
            assert rec.dests() == both
            await until(lambda: notes(log) == ["quorum-up"], what="quorum_up at start")
            b.fail = True
            await until(lambda: rec.dests() == {"127.0.0.9:9009": 1}, what="sorry server in")
            await until(lambda: "quorum-down" in notes(log), what="quorum_down")
            b.fail = False
            await until(lambda: rec.dests() == both, what="real servers back")
            await until(lambda: notes(log)[-1:] == ["quorum-up"], what="quorum_up again")
            lines = os.read(reader, 65536).decode().splitlines()
        finally:
            await m.stop()
            os.close(reader)
            await a.close()
            await b.close()
        vs = "[127.0.0.1]:tcp:8080"
        rs_b = f"[127.0.0.1]:tcp:{b.port}"
        assert lines == [
            f"VS {vs} UP",
            f"RS {rs_b} {vs} DOWN",
            f"VS {vs} DOWN",
            f"RS {rs_b} {vs} UP",
            f"VS {vs} UP",
        ]
        assert not fifo.exists()  # created by pylvs, removed at stop

    run(body)


def test_inhibit_on_failure_sets_weight_zero(tmp_path: Path) -> None:
    async def body() -> None:
        a = await HttpBackend().start()
        rec = Recorder()
        m = manager(load(vs_text(http_rs(a.port, "weight 5\ninhibit_on_failure"))), rec)
        await m.start()
        rs = f"127.0.0.1:{a.port}"
        assert rec.dests() == {rs: 5}
        a.fail = True
        await until(lambda: rec.dests() == {rs: 0}, what="weight 0")
        assert "DOWN, weight 5" in status_text(m)
        a.fail = False
        await until(lambda: rec.dests() == {rs: 5}, what="weight back")
        await m.stop()
        await a.close()

    run(body)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        env = envelope
        self.messages.append(
            (env.mail_from, list(env.rcpt_tos), env.content.decode())  # type: ignore[attr-defined]
        )
        return "250 OK"


def test_smtp_alert_reaches_the_mail_server(tmp_path: Path) -> None:
    box = Mailbox()
    port = free_port()  # aiosmtpd's controller needs a concrete port
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:

        async def body() -> None:
            a = await HttpBackend().start()
            glob = (
                "notification_email {\n ops@example.org\n}\n"
                "notification_email_from lb@example.org\n"
                f"smtp_server 127.0.0.1 {port}\nsmtp_connect_timeout 2\nsmtp_helo_name lb.test"
            )
            rec = Recorder()
            m = manager(load(vs_text(http_rs(a.port), glob=glob)), rec)
            await m.start()
            a.fail = True
            await until(lambda: len(box.messages) >= 1, what="alert mail")
            await m.stop()
            await a.close()
            mail_from, rcpts, content = box.messages[0]
            assert mail_from == "lb@example.org"
            assert rcpts == ["ops@example.org"]
            subject = (
                f"Subject: [LVS1] Realserver [127.0.0.1]:tcp:{a.port} of virtual server "
                "[127.0.0.1]:tcp:8080 - DOWN"
            )
            assert subject in content.splitlines()
            assert "X-Mailer: Keepalived" in content.splitlines()
            assert "=> CHECK failed on service : HTTP/SSL request failed <=" in content

        run(body)
    finally:
        ctl.stop()


def test_reload_keeps_checker_state_and_starts_new_ones(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = await HttpBackend().start(), await HttpBackend().start()
        rec = Recorder()
        m = manager(load(vs_text(http_rs(a.port))), rec)
        await m.start()
        a.fail = True
        await until(lambda: rec.dests() == {}, what="a down")
        (task,) = m.tasks.values()
        seen = len(rec.tables)
        await m.reload(load("\n\n" + vs_text(http_rs(a.port) + http_rs(b.port))))
        # the failed server is not re-added on reload; the new one starts up
        assert all(f"127.0.0.1:{a.port}" not in str(t) for _, t in rec.tables[seen:])
        assert rec.dests() == {f"127.0.0.1:{b.port}": 1}
        assert task in m.tasks.values() and len(m.tasks) == 2
        a.fail = False
        await until(lambda: len(rec.dests()) == 2, what="a back after reload")
        await m.stop()
        await a.close()
        await b.close()

    run(body)


def test_file_check_weight_and_fault(tmp_path: Path) -> None:
    async def body() -> None:
        tf = tmp_path / "weight"
        tf.write_text("3\n")
        text = f"""
track_file tf {{
  file {tf}
  weight 2
}}
""" + vs_text("  real_server 127.0.0.1 9001 {\n    FILE_CHECK {\n      track_file tf\n    }\n  }\n")
        rec = Recorder()
        m = manager(load(text), rec)
        await m.start()
        assert rec.dests() == {"127.0.0.1:9001": 7}  # 1 + 3*2
        tf.write_text("0x10\n")
        await until(lambda: rec.dests() == {"127.0.0.1:9001": 33}, what="weight 1 + 16*2")
        tf.write_text("-5\n")
        await until(lambda: rec.dests() == {"127.0.0.1:9001": 0}, what="clamped to 0")
        await m.stop()

    run(body)


def test_misc_dynamic_sets_the_weight(tmp_path: Path) -> None:
    async def body() -> None:
        s = MiscScript(tmp_path)
        s.set_code(12)
        block = (
            "  real_server 127.0.0.1 9001 {\n    weight 4\n    MISC_CHECK {\n"
            f'      misc_path "{s.path}"\n      misc_dynamic\n    }}\n  }}\n'
        )
        rec = Recorder()
        m = manager(load(vs_text(block)), rec)
        await m.start()
        await until(lambda: rec.dests() == {"127.0.0.1:9001": 10}, what="status 12 -> 10")
        s.set_code(1)
        await until(lambda: rec.dests() == {}, what="exit 1 fails")
        await m.stop()

    run(body)


def test_script_security_refuses_a_writable_root_script(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the check applies to scripts run as root")

    async def body() -> None:
        a = await HttpBackend().start()
        notify, log = notify_script(tmp_path)
        notify.chmod(0o777)  # writable by anyone, run as root
        text = vs_text(
            http_rs(a.port, f'notify_down "{notify} down"'), glob="enable_script_security"
        )
        rec = Recorder()
        m = manager(load(text), rec)
        with caplog.at_level(logging.INFO, logger="pylvs.health"):
            await m.start()
            a.fail = True
            await until(lambda: rec.dests() == {}, what="down")
            await asyncio.sleep(0.3)
            await m.stop()
        await a.close()
        assert notes(log) == []
        assert f"Unsafe permissions found for script '{notify}' - disabling." in caplog.text

    run(body)


def test_misc_timeout_kills_the_script_and_its_children(tmp_path: Path) -> None:
    async def body() -> None:
        pidfile = tmp_path / "child.pid"
        script = tmp_path / "slow.sh"
        script.write_text(f"#!/bin/sh\nsleep 30 &\necho $! > {pidfile}\nwait\n")
        script.chmod(0o755)
        block = (
            "  real_server 127.0.0.1 9001 {\n    MISC_CHECK {\n"
            f'      misc_path "{script}"\n      misc_timeout 1\n    }}\n  }}\n'
        )
        rec = Recorder()
        m = manager(load(vs_text(block)), rec, term_grace=0.2)
        await m.start()
        t0 = time.monotonic()
        await until(lambda: rec.dests() == {}, what="timed out -> down")
        assert 1.0 <= time.monotonic() - t0 < 3.0
        (view,) = m.views()[1]
        assert view.checks[0].reason == "timed out"
        child = int(pidfile.read_text())
        await until(lambda: not _alive(child), what="child killed")
        await m.stop()

    run(body)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_genhash_prints_the_md5_of_the_body(capsys: pytest.CaptureFixture[str]) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello world" if self.headers["Host"] == "v.example" else b"other"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        port = str(srv.server_address[1])
        parser = argparse.ArgumentParser(prog="pylvs")
        genhash_cli.add_parser(parser.add_subparsers(dest="command"))
        args = parser.parse_args(
            ["genhash", "-s", "127.0.0.1", "-p", port, "-u", "/", "-V", "v.example"]
        )
        rc = genhash_cli.run(args)
        assert rc == 0
        assert capsys.readouterr().out == "5eb63bbbe01eeed093cb22bb8f5acdc3\n"
    finally:
        srv.shutdown()
        srv.server_close()
