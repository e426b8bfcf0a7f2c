"""The stats socket and page servers on real sockets, driven by socat and by hostile clients.

stats_program.py runs as its own process (a FakeRuntime behind the real drivers).  socat, as
HAProxy's users drive the socket, must work unchanged; garbage, lines larger than the
buffer, clients that send nothing or read nothing, and a crowd of clients must each cost only
their own connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROGRAM = Path(__file__).with_name("stats_program.py")
SOCAT = shutil.which("socat")


@contextlib.contextmanager
def program(timeout: float = 10.0, maxconn: int = 10) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(PROGRAM),
                tmp,
                "--timeout",
                str(timeout),
                "--maxconn",
                str(maxconn),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            yield {"dir": tmp, "admin": f"{tmp}/admin.sock", "user": f"{tmp}/user.sock", **ready}
            assert proc.poll() is None, "the server died"
        finally:
            proc.terminate()
            proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()


def ask(path: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send, end the input (as socat does at the end of its own), read the whole answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def socat(address: str, data: str) -> str:
    assert SOCAT is not None
    done = subprocess.run(
        [SOCAT, "-", address], input=data, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


needs_socat = pytest.mark.skipif(SOCAT is None, reason="socat is not installed")


@needs_socat
def test_socat_drives_the_socket_as_it_drives_haproxy() -> None:
    with program() as p:
        unix = f"unix-connect:{p['admin']}"
        header = socat(unix, "show stat\n").splitlines()[0]
        assert header.startswith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,")
        assert header.endswith(",h1_spliced_bytes_in,h1_spliced_bytes_out,")
        assert socat(unix, "disable server be/s2\n") == "\n"
        state = socat(unix, "show servers state be\n").splitlines()
        assert state[3].split()[3:7] == ["s2", "127.0.0.1", "0", "1"]  # stopped, FMAINT
        assert socat(unix, "set weight be/s1 50%; get weight be/s1\n") == "\n0 (initial 1)\n\n"
        out = socat(unix, "prompt\nshow cli level\nquit\n")
        assert out == "\n> admin\n\n> "
        tcp = f"tcp-connect:127.0.0.1:{p['tcp']}"
        assert socat(tcp, "show cli level\n") == "operator\n\n"
        assert (
            socat(f"unix-connect:{p['user']}", "enable server be/s2\n") == "Permission denied\n\n"
        )


def test_unix_sockets_get_their_mode() -> None:
    with program() as p:
        assert stat.S_IMODE(os.stat(p["admin"]).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(p["user"]).st_mode) == 0o666
        assert stat.S_ISSOCK(os.stat(p["admin"]).st_mode)


def test_garbage_and_huge_lines_cost_only_their_connection() -> None:
    with program() as p:
        for junk in (bytes(range(256)) * 4 + b"\n", b"\xff\xfe\0\0;;;\\\n" * 50):
            assert isinstance(ask(p["admin"], junk), bytes)
        # A line larger than the 16 KiB buffer: closed without an answer, the server lives.
        assert ask(p["admin"], b"show info" + b" " * 1_000_000) == b""
        assert ask(p["admin"], b"show cli level\n") == b"admin\n\n"


def test_silent_clients_are_dropped_and_others_wait_for_their_slot() -> None:
    with program(timeout=1.0, maxconn=3) as p:
        silent = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.connect(p["admin"])
            silent.append(s)
        start = time.monotonic()
        # The fourth client waits for a slot, then is served.
        assert ask(p["admin"], b"show cli level\n", timeout=20) == b"admin\n\n"
        assert time.monotonic() - start >= 0.5
        for s in silent:
            s.settimeout(10)
            assert s.recv(100) == b""  # closed by the server's timeout
            s.close()


def test_a_client_that_reads_nothing_does_not_stall_the_others() -> None:
    with program(timeout=2.0) as p:
        hog = socket.socket(socket.AF_UNIX)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.connect(p["admin"])
        hog.sendall(b"prompt\n" + b"show stat\n" * 2000)
        for _ in range(5):
            assert ask(p["admin"], b"show backend\n", timeout=10) == b"# name\nbe\n\n"
        hog.close()


def test_a_crowd_of_clients_is_served() -> None:
    with program(maxconn=10) as p:
        socks = []
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(30)
            s.connect(p["admin"])
            s.sendall(b"get weight be/s3\n")
            socks.append(s)
        for s in socks:
            out = b""
            while chunk := s.recv(4096):
                out += chunk
            assert out == b"1 (initial 1)\n\n"
            s.close()


def test_the_stats_page_and_its_admin_form() -> None:
    with program() as p:
        base = f"http://127.0.0.1:{p['page']}/stats"
        with urllib.request.urlopen(base) as r:
            page = r.read().decode()
            assert r.headers["refresh"] == "5" and r.headers["content-type"] == "text/html"
        assert "<title>Statistics Report for HAProxy</title>" in page
        assert '<input class=\'be-checkbox\' type="checkbox" name="s" value="s1">' in page
        with urllib.request.urlopen(base + ";csv;norefresh") as r:
            assert r.read().decode().startswith("# pxname,svname,")
        form = b"s=s3&action=drain&b=be"
        request = urllib.request.Request(base, data=form, method="POST")
        opener = urllib.request.build_opener(NoRedirect())
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(request)
        assert caught.value.code == 303
        assert caught.value.headers["location"] == "/stats;st=DONE"
        caught.value.close()
        assert ask(p["admin"], b"show stat be 4 3\n").decode().count(",DRAIN,") == 1
        # The page's own frontend counted its three requests: two 200s and the 303.
        row = ask(p["admin"], b"show stat fe 1 -1\n").decode().splitlines()[1].split(",")
        header = ask(p["admin"], b"show stat\n").decode().splitlines()[0][2:].split(",")
        fe = dict(zip(header, row, strict=False))
        assert (fe["stot"], fe["req_tot"], fe["intercepted"]) == ("3", "3", "3")
        assert (fe["hrsp_2xx"], fe["hrsp_3xx"]) == ("2", "1")
        assert int(fe["bin"]) > 0 and int(fe["bout"]) > 0


def test_the_page_refuses_bad_requests_and_times_out_slow_ones() -> None:
    with program(timeout=1.0) as p:
        with socket.create_connection(("127.0.0.1", p["page"]), timeout=10) as s:
            s.sendall(b"GET /stats HTTP/1.1\r\nbroken header\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 400 Bad request\r\n")
        with socket.create_connection(("127.0.0.1", p["page"]), timeout=10) as s:
            s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n")  # never finished
            assert s.recv(100).startswith(b"HTTP/1.1 408 Request Time-out\r\n")
        with urllib.request.urlopen(f"http://127.0.0.1:{p['page']}/stats;csv") as r:
            assert r.status == 200


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
