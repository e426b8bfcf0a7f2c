"""What a mode http runtime counts, read through the stats socket of `pylvs run` and of the
real `haproxy -db` on the same haproxy.cfg: the HTTP columns of `show stat` (req_tot,
hrsp_2xx, hrsp_4xx, hrsp_5xx) and the `show errors` record of a refused request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
    stats_command,
)
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

COLUMNS = ("req_tot", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx")


def test_http_columns_and_show_errors(proxy: Callable[..., Proxy]) -> None:
    # The stats socket's path lives in the proxy's own directory: start each by hand.
    def scenario(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        import tempfile
        from pathlib import Path

        tmp = Path(tempfile.mkdtemp(prefix="pylvs-http-stats-"))
        sock = tmp / "stats.sock"
        text = HEAD.replace("global\n", f"global\n    stats socket {sock} level admin\n") + (
            f"frontend fe\n    bind 127.0.0.1:{port}\n"
            "    http-request deny if { path /deny }\n    default_backend be\n"
            f"backend be\n    server s1 127.0.0.1:{servers['s1'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        for target in ("/a", "/b", "/deny"):
            c.get(target)
            c.response()
        c.close()
        bad = Client(port)
        bad.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        bad.rest()
        bad.close()
        rows = list(csv.DictReader(io.StringIO(after_streams(sock).lstrip("# "))))
        counts = {
            (r["pxname"], r["svname"]): tuple(r[k] for k in COLUMNS)
            for r in rows
            if r["pxname"] in ("fe", "be")
        }
        errors = stats_command(sock, "show errors")
        # the date and the event's source port differ from run to run
        lines = [ln for ln in errors.splitlines() if ln.startswith(("  buffer", "  len", "  0"))]
        return counts, "invalid request" in errors, lines

    seen = both(proxy, {"s1": "name"}, scenario)
    assert seen["pylvs"] == seen["haproxy"]
    counts, found, _ = seen["pylvs"]
    assert found and counts["fe", "FRONTEND"] == ("4", "0", "2", "0", "2", "0")
