"""`pylvs demo` answers with both names in the seeds' 1:2 ratio."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.integration.daemon.daemon_helpers import free_port, http_get


def test_demo_wrr_one_to_two(tmp_path: Path) -> None:
    port, web = free_port(), free_port()
    control = str(tmp_path / "demo.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pylvs", "demo", "--port", str(port), "--control", control,
         "--http", f"127.0.0.1:{web}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not Path(control).exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "demo did not start"
            time.sleep(0.05)
        names = Counter(http_get(port) for _ in range(30))
        assert names == {"rs1": 10, "rs2": 20}
        listing = subprocess.run(
            [sys.executable, "-m", "pylvs", "ipvsadm", "--control", control, "-Ln"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        assert f"TCP  127.0.0.1:{port} wrr" in listing.stdout
        with socket.create_connection(("127.0.0.1", web), timeout=10) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            scraped = b"".join(iter(lambda: s.recv(65536), b""))
        assert b"pylvs_ipvs_backend_connections_total{" in scraped
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/" in out and "pylvs ipvsadm" in out
    assert f"dashboard http://127.0.0.1:{web}/ (metrics: http://127.0.0.1:{web}/metrics)" in out
    # Its own config loads clean: a first run does not open with warnings.
    assert "warning" not in out.lower(), out
