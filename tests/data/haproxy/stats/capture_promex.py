"""Record HAProxy 2.6's Prometheus exporter (`http-request use-service prometheus-exporter`),
to check pylvs's control/haproxy/promex.py against.

Run by hand from the repository root (needs the real `haproxy` built with USE_PROMEX, as
Debian's 2.6.12 is; no root):

    python tests/data/haproxy/stats/capture_promex.py [-o tests/data/haproxy/stats/promex.json]

The proxies are capture.py's SPEC (an HTTP frontend, a TCP `listen` with `option
socket-stats`, checks and a stick table, an HTTP backend with a disabled server and a backup,
a static-rr backend, an empty one, two stats pages), with the exporter on the frontend's
`/metrics`.  Once the checks settled, each request below is sent on its own connection and
HAProxy's whole answer recorded (status line, headers, chunked body).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from tests.data.haproxy.oracle import Backend, free_port, running, version
from tests.data.haproxy.stats.capture import HERE, SPEC, _exchange, config, wait_checks

EXPORTER = "  http-request use-service prometheus-exporter if { path /metrics }"
REQUESTS = [
    "GET /metrics HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope=frontend&scope=sticktable HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope=server&no-maint HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope=backend&scope=listener HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope= HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope=bogus HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "GET /metrics?scope=%2a HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "HEAD /metrics HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
]


def with_exporter(text: str) -> str:
    lines = text.splitlines()
    at = lines.index("frontend fe") + 2  # after its `mode http`
    return "\n".join([*lines[:at], EXPORTER, *lines[at:]]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-o", "--output", default=str(HERE / "promex.json"))
    args = parser.parse_args()
    up = Backend("up")
    names = [p["name"] for p in SPEC["proxies"] if p["kind"] != "backend"]
    ports = {n: free_port() for n in [*names, "cli", "down"]}
    ports["up"] = up.port
    text = with_exporter(config(SPEC, ports, "{dir}"))
    records = []
    with running(text, ready="admin.sock") as tmp:
        wait_checks(tmp)
        for request in REQUESTS:
            s = socket.create_connection(("127.0.0.1", ports["fe"]), timeout=5)
            records.append({"request": request, "reply": _exchange(s, request.encode())})
    up.close()
    out = {"version": version(), "config": text, "requests": records}
    Path(args.output).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(records)} answers recorded in {args.output}")


if __name__ == "__main__":
    main()
