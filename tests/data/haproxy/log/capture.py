"""Record the syslog datagrams the real `haproxy -db` sends, for proto/log/syslog.py's tests.

    python tests/data/haproxy/log/capture.py        # needs haproxy 2.6 on PATH

Each scenario below is a `global` section of `log` lines (every header format, `len`,
levels, `log-send-hostname`, `log-tag`) in front of a backend whose one server is checked
on a closed port (and a frontend, without which HAProxy does not start): the check fails at
once, so HAProxy logs `Server be/s1 is DOWN, ...` (alert) and `backend be has no server
available!` (emerg) to every target.  A UDP socket
on 127.0.0.1 receives them; `recorded.json` keeps, per scenario, its `global` lines, the
process id and every datagram (latin-1 text).  tests/unit/proto/log/test_syslog.py rebuilds
each datagram from those facts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from tests.data.haproxy.oracle import free_port, version

OUT = Path(__file__).parent / "recorded.json"
TARGETS = [
    "log {udp} local0",
    "log {udp} len 100 format rfc3164 local1 notice",
    "log {udp} format rfc5424 local2 info",
    "log {udp} format short local3",
    "log {udp} format raw local4",
    "log {udp} format priority local5",
    "log {udp} format timed local6",
    "log {udp} format iso local7",
    "log {udp} format local daemon warning err",
    "log {udp} len 80 format rfc5424 user",
]
SCENARIOS: dict[str, list[str]] = {
    "formats": TARGETS,
    "hostname": ["log-send-hostname myhost", "log-tag mytag", *TARGETS],
}
TAIL = """
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend be
    server s1 127.0.0.1:{dead} check inter 200 fall 1
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
"""


def run(lines: list[str]) -> dict[str, object]:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    udp = f"127.0.0.1:{rx.getsockname()[1]}"
    text = "global\n" + "".join(f"    {x.format(udp=udp)}\n" for x in lines)
    text += TAIL.format(dead=free_port(), port=free_port())
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(text)
    proc = subprocess.Popen(["haproxy", "-db", "-f", f.name], stderr=subprocess.DEVNULL)
    got: list[str] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            got.append(rx.recv(70000).decode("latin-1"))
        except TimeoutError:
            if got:
                break
    proc.terminate()
    proc.wait()
    os.unlink(f.name)
    rx.close()
    return {"global": [x.format(udp="ADDR") for x in lines], "pid": proc.pid, "datagrams": got}


def main() -> None:
    record = {"version": version(), "scenarios": {k: run(v) for k, v in SCENARIOS.items()}}
    OUT.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
