"""What issue 21 points 3 and 5 add to mode http, under `pylvs run` and the real
`haproxy -db` on the same haproxy.cfg: cookie persistence (the Set-Cookie headers clients get,
the Cookie headers servers get, which server each request reaches), balancing and stick tables
on the request, the proxies' own answers (errorfile, errorfiles, http-error, errorloc),
`show stat`'s HTTP columns after a mix of answers, and the Prometheus exporter's names.
"""

from __future__ import annotations

import difflib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer, field

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    maxconn 1000
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""

Run = Callable[[Proxy, dict[str, HttpServer], int], Any]


def both(
    proxy: Callable[..., Proxy],
    tmp: Path,
    servers: dict[str, tuple[str, str]],
    backend: str,
    run: Run,
    extra: str = "",
) -> dict[str, Any]:
    """`run` under each proxy with fresh servers (name -> (behaviour, server options))."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        made = {name: HttpServer(name, b) for name, (b, _) in servers.items()}
        try:
            port = free_port()
            text = HEAD.format(sock=tmp / f"{kind}.sock") + extra
            text += f"listen app\n    bind 127.0.0.1:{port}\n{backend}"
            for name, (_, opts) in servers.items():
                text += f"    server {name} 127.0.0.1:{made[name].port} {opts}\n"
            p = proxy(kind, text, ("127.0.0.1", port))
            seen[kind] = run(p, made, port)
        finally:
            for s in made.values():
                s.close()
    return seen


def exchange(port: int, cookie: str | None = None, target: str = "/") -> tuple[bytes, bytes]:
    c = Client(port)
    c.get(target, f"Cookie: {cookie}\r\n" if cookie is not None else "")
    got = c.response()
    c.close()
    return got


def cookies_seen(server: HttpServer) -> list[bytes | None]:
    return [field(h, b"cookie") for h in server.heads]


def test_insert_indirect_pins_clients_and_hides_the_cookie(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        got = [exchange(port) for _ in range(2)]  # no cookie: balanced, a cookie inserted
        for cookie in ("SRV=s2", "a=1; SRV=s2; b=2", "SRV=s1", "SRV=zz", "SRV=s3"):
            got.append(exchange(port, cookie))
        return got, {n: cookies_seen(s) for n, s in servers.items()}

    servers = {"s1": ("name", "cookie s1"), "s2": ("name", "cookie s2")}
    servers["s3"] = ("name", "cookie s3 disabled")
    seen = both(proxy, tmp_path, servers, "    cookie SRV insert indirect nocache\n", run)
    assert seen["pylvs"] == seen["haproxy"]
    responses, heard = seen["pylvs"]
    assert [field(h, b"set-cookie") for h, _ in responses[:2]] == [
        b"SRV=s1; path=/",
        b"SRV=s2; path=/",
    ]
    assert [b.split(b" ")[0] for _, b in responses[2:5]] == [b"s2", b"s2", b"s1"]
    assert field(responses[5][0], b"set-cookie") is not None  # an unknown server: re-pinned
    # the persistence cookie never reaches a server; the application's cookies do
    assert heard == {"s1": [None] * 3, "s2": [None, None, b"a=1; b=2", None], "s3": []}
    assert heard["s3"] == []  # disabled: its clients go elsewhere (no option persist)


def test_prefix_mode_prefixes_the_applications_cookie(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        for s in servers.values():
            s.script = (
                b"HTTP/1.1 200 OK\r\nSet-Cookie: JS=abc; path=/\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\nok"
            )
        first = exchange(port)
        pinned = [exchange(port, "JS=s2~abc") for _ in range(2)]
        return first, pinned, {n: cookies_seen(s) for n, s in servers.items()}

    servers = {"s1": ("script", "cookie s1"), "s2": ("script", "cookie s2")}
    seen = both(proxy, tmp_path, servers, "    cookie JS prefix\n", run)
    assert seen["pylvs"] == seen["haproxy"]
    first, _, heard = seen["pylvs"]
    assert field(first[0], b"set-cookie") == b"JS=s1~abc; path=/"
    assert heard["s2"] == [b"JS=abc", b"JS=abc"]


def test_option_persist_keeps_clients_on_a_disabled_server(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        return [exchange(port, "SRV=s2")[1] for _ in range(3)]

    servers = {"s1": ("name", "cookie s1"), "s2": ("name", "cookie s2 disabled")}
    backend = "    cookie SRV insert indirect\n    option persist\n"
    seen = both(proxy, tmp_path, servers, backend, run)
    assert seen["pylvs"] == seen["haproxy"] == [b"s2 /"] * 3


def stat_rows(sock: Path) -> dict[tuple[str, str], dict[str, str]]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(sock))
        s.sendall(b"show stat\n")
        out = b""
        while data := s.recv(65536):
            out += data
    lines = out.decode().splitlines()
    names = lines[0].lstrip("# ").split(",")
    rows = {}
    for line in lines[1:]:
        if line:
            values = dict(zip(names, line.split(","), strict=False))
            rows[values["pxname"], values["svname"]] = values
    return rows


HTTP_COLUMNS = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")


def test_show_stat_counts_responses_by_class(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        servers["s2"].script = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        for _ in range(4):
            exchange(port)
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        raw.recv(4096)
        raw.close()
        rows = stat_rows(Path(str(p.tmp).rsplit("/", 1)[0]) / f"{p.kind}.sock")
        keep = (*HTTP_COLUMNS, "req_tot", "mode")
        return {k: {c: v[c] for c in keep} for k, v in rows.items() if k[0] == "app"}

    servers = {"s1": ("name", ""), "s2": ("script", "")}
    seen = both(proxy, tmp_path, servers, "", run)
    assert seen["pylvs"] == seen["haproxy"]
    fe = seen["pylvs"]["app", "FRONTEND"]
    assert (fe["hrsp_2xx"], fe["hrsp_4xx"], fe["req_tot"]) == ("2", "3", "5")


ERRORFILE = (
    b"HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/plain\r\n"
    b"X-Page: custom\r\nContent-Length: 6\r\n\r\nsorry\n"
)


@pytest.mark.parametrize(
    "lines",
    [
        "    errorfile 503 {file}\n",
        "    errorfiles mine\n",
        "    errorfiles mine 503\n    errorfile 503 {file}\n",
        '    http-error status 503 content-type "text/plain" string "no server here"\n',
        "    http-error status 503 hdr x-a b errorfiles mine\n",
        "    errorloc302 503 http://elsewhere.example/\n",
        "    errorloc303 503 /maintenance\n",
    ],
)
def test_the_proxys_own_answer_to_a_503(
    proxy: Callable[..., Proxy], tmp_path: Path, lines: str
) -> None:
    """No usable server: HAProxy answers the backend's error reply, byte for byte."""
    page = tmp_path / "503.http"
    page.write_bytes(ERRORFILE)
    section = f"http-errors mine\n    errorfile 503 {page}\n"

    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        c = Client(port)
        got = []
        for _ in range(2):  # the connection stays usable after the answer
            c.get("/")
            got.append(c.response())
        c.close()
        return got

    servers = {"s1": ("name", "disabled")}
    seen = both(proxy, tmp_path, servers, lines.format(file=page), run, extra=section)
    assert seen["pylvs"] == seen["haproxy"]
    assert b"No server is available" not in seen["pylvs"][0][1]  # not HAProxy's own page


@pytest.mark.parametrize(("behaviour", "status"), [("garbage", 502), ("stall", 504)])
def test_errorfiles_answer_a_bad_or_silent_server(
    proxy: Callable[..., Proxy], tmp_path: Path, behaviour: str, status: int
) -> None:
    page = tmp_path / f"{status}.http"
    page.write_bytes(ERRORFILE.replace(b"503 Service Unavailable", b"%d Oops" % status))

    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        return exchange(port)

    lines = f"    timeout server 1s\n    errorfile {status} {page}\n"
    seen = both(proxy, tmp_path, {"s1": (behaviour, "")}, lines, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][0].startswith(b"HTTP/1.1 %d Oops" % status)


def test_the_prometheus_exporter_writes_haproxys_names(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """`use-service prometheus-exporter`: every family, HELP/TYPE line, sample name and label
    set as the real exporter writes them, after a few requests (values move on their own)."""

    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        for _ in range(3):
            exchange(port)
        head, body = exchange(port, target="/metrics?scope=frontend&scope=backend&scope=server")
        lines = body.decode().splitlines()
        keys = [line if line.startswith("#") else line.rpartition(" ")[0] for line in lines]
        return field(head, b"content-type"), keys

    lines = "    http-request use-service prometheus-exporter if { path /metrics }\n"
    lines += "    cookie SRV insert\n"
    servers = {"s1": ("name", "cookie s1"), "s2": ("name", "cookie s2 disabled")}
    seen = both(proxy, tmp_path, servers, lines, run)
    ours, theirs = seen["pylvs"][1], seen["haproxy"][1]
    assert ours == theirs, "\n".join(difflib.unified_diff(theirs, ours, lineterm=""))
    assert seen["pylvs"][0] == seen["haproxy"][0]
    ctype, keys = seen["pylvs"]
    assert ctype == b"text/plain; version=0.0.4"
    assert 'haproxy_server_http_responses_total{proxy="app",server="s1",code="2xx"}' in keys


@pytest.mark.parametrize(
    ("key", "header"), [("req.cook(SID)", "Cookie: SID={}"), ("hdr(x-user)", "X-User: {}")]
)
def test_stick_tables_keyed_on_http_fetches(
    proxy: Callable[..., Proxy], tmp_path: Path, key: str, header: str
) -> None:
    """`stick on` an HTTP fetch: each key keeps the server its first request got."""

    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        got = []
        for user in ("a", "b", "c", "a", "b", "c", "a", "d", "b"):
            c = Client(port)
            c.get("/", header.format(user) + "\r\n")
            got.append(c.response()[1])
            c.close()
        return got

    lines = f"    stick-table type string len 32 size 100\n    stick on {key}\n"
    servers = {"s1": ("name", ""), "s2": ("name", "")}
    seen = both(proxy, tmp_path, servers, lines, run)
    assert seen["pylvs"] == seen["haproxy"]
    picks = [body.split(b" ")[0] for body in seen["pylvs"]]
    assert picks[:3] == [b"s1", b"s2", b"s1"] and picks[3:6] == picks[:3]


@pytest.mark.parametrize(
    "balance",
    [
        "uri",
        "uri whole",
        "uri depth 2",
        "uri len 6",
        "uri path-only",
        "url_param id",
        "hdr(host) use_domain_only",
        "hdr(x-key)",
    ],
)
def test_balancing_on_the_request_picks_haproxys_servers(
    proxy: Callable[..., Proxy], tmp_path: Path, balance: str
) -> None:
    """The hashing algorithms that read the request, one kept-alive connection: every request
    is hashed anew, to the servers HAProxy picks."""
    targets = ["/a", "/a/b/c?x=1", "/a/b/d", "/q?id=7", "/q?z=1&id=8", "/long/path/x", "/"]
    targets += [f"/p{i}/x?id={i}" for i in range(12)]

    def run(p: Proxy, servers: dict[str, HttpServer], port: int) -> Any:
        c = Client(port)
        got = []
        for i, target in enumerate(targets):
            head = f"GET {target} HTTP/1.1\r\nHost: www.site{i % 5}.example\r\n"
            c.send(f"{head}X-Key: k{i % 7}\r\n\r\n".encode())
            got.append(c.response()[1].split(b" ")[0])
        c.close()
        return got

    servers = {f"s{i}": ("name", f"weight {i}") for i in range(1, 5)}
    seen = both(proxy, tmp_path, servers, f"    balance {balance}\n", run)
    assert seen["pylvs"] == seen["haproxy"]
    assert len(set(seen["pylvs"])) > 1
