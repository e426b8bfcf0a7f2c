"""The control socket under abuse (issue 18 item 17): deep nesting, answers over 1 MiB, a
burst of 1,000 clients, clients that never read, numbers of any length."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pylvs.control import server as server_module
from pylvs.control.client import call
from pylvs.control.protocol import MAX_LINE, Request, Response
from pylvs.control.server import ControlServer
from tests.integration.daemon.daemon_helpers import Backends, Director, http_get


def raw(path: str, data: bytes, timeout: float = 20) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: s.recv(65536), b""))


def final(answer: bytes) -> dict[str, object]:
    """The final line, with the chunks' text put back in stdout and stderr."""
    lines = [json.loads(line) for line in answer.splitlines()]
    obj = dict(lines[-1])
    for key, field in (("out", "stdout"), ("err", "stderr")):
        obj[field] = "".join(x[key] for x in lines[:-1] if key in x) + obj[field]
    return obj


@pytest.fixture
def empty(tmp_path: Path) -> Director:  # type: ignore[misc]
    d = Director(tmp_path, "")
    yield d
    d.stop()


def test_deep_nesting_and_long_numbers_get_an_answer_not_a_traceback(empty: Director) -> None:
    for junk in (
        b"[" * 100_000 + b"\n",
        b'{"op": "ipvsadm", "argv": ["-Ln"], "x": ' + b"7" * 5000 + b"}\n",
    ):
        got = final(raw(empty.control, junk))
        assert got["rc"] == 2 and "bad control request" in str(got["stderr"])
    r = empty.ipvsadm("-A", "-t", "10.0.0.1:" + "9" * 5000)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Traceback" not in empty.output() and "RecursionError" not in empty.output()
    assert empty.ipvsadm("-Ln").returncode == 0


class Server:
    """A ControlServer in a background loop, answering every request with `answer`."""

    def __init__(self, path: str, answer: Response) -> None:
        async def handler(_req: Request) -> Response:
            return answer

        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, handler)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


BIG = Response(
    0, "".join(f"  -> 10.2.{i // 250}.{i % 250}:80  Masq 1 0 0\n" for i in range(60_000))
)


def test_an_answer_over_one_mib_streams_to_the_client(tmp_path: Path) -> None:
    assert len(BIG.stdout) > 1.5 * MAX_LINE
    srv = Server(str(tmp_path / "s.sock"), BIG)
    try:
        assert call(srv.server.path, Request("status")) == BIG
        got: list[str] = []
        resp = call(srv.server.path, Request("status"), on_stdout=got.append)
        assert "".join(got) == BIG.stdout and resp.stdout == ""
    finally:
        srv.close()


def test_clients_that_never_read_are_cut_off_and_others_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "WRITE_TIMEOUT", 1.0)
    srv = Server(str(tmp_path / "s.sock"), BIG)
    idle: list[socket.socket] = []
    try:
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(srv.server.path)
            s.sendall(Request("status").encode())
            idle.append(s)  # never read: the answer backs up in the daemon's buffer
        assert call(srv.server.path, Request("status")) == BIG  # others are served
        deadline = time.monotonic() + 10
        while srv.server.timeouts < 20:  # each one cut off after its write timeout
            assert time.monotonic() < deadline, srv.server.timeouts
            time.sleep(0.05)
        for s in idle:  # what was sent ends short of the final line, with EOF or a reset
            s.settimeout(5)
            data = b""
            with contextlib.suppress(OSError):
                while chunk := s.recv(1 << 20):
                    data += chunk
            assert b'"rc":' not in data
    finally:
        for s in idle:
            s.close()
        srv.close()


@pytest.mark.slow
def test_a_burst_of_a_thousand_clients_is_served(backends: Backends, tmp_path: Path) -> None:
    from tests.integration.daemon.daemon_helpers import free_port

    port = backends.start("rs1")
    vport = free_port()
    d = Director(
        tmp_path,
        f"virtual_server 127.0.0.1 {vport} {{\n lvs_sched rr\n lvs_method NAT\n"
        f" protocol TCP\n real_server 127.0.0.1 {port} {{\n weight 1\n }}\n}}\n",
    )
    try:
        go = threading.Barrier(1000)

        def one(_: int) -> int:
            go.wait()
            return call(d.control, Request("ipvsadm", ("-Ln",)), timeout=120).rc

        with ThreadPoolExecutor(max_workers=1000) as pool:
            results = list(pool.map(one, range(1000)))
        assert results.count(0) == 1000
        assert http_get(vport) == "rs1"
    finally:
        d.stop()


def test_a_daemon_never_unlinks_a_socket_it_does_not_own(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    srv = Server(path, Response(0, "x"))
    other = socket.socket(socket.AF_UNIX)
    try:
        os.unlink(path)  # someone replaced our socket with theirs
        other.bind(path)
        other.listen()
        srv.close()
        assert os.path.exists(path)  # theirs: left alone
    finally:
        other.close()
    srv = Server(str(tmp_path / "t.sock"), Response(0, "x"))
    srv.close()
    assert not os.path.exists(tmp_path / "t.sock")  # ours: removed


def test_a_stale_socket_is_replaced_and_anything_else_refused(tmp_path: Path) -> None:
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(stale))  # bound, nobody listens: a crashed daemon's
    srv = Server(str(stale), Response(0, "ok"))
    try:
        assert call(str(stale), Request("status")).stdout == "ok"
    finally:
        srv.close()
    (tmp_path / "file").write_text("precious")
    with pytest.raises(OSError, match="exists and is not a socket"):
        ControlServer(str(tmp_path / "file"), lambda _r: None).claim()  # type: ignore[arg-type, return-value]
    assert (tmp_path / "file").read_text() == "precious"
