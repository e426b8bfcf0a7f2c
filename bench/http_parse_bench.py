"""Per-message cost of HTTP/1 head parsing: llhttp (httptools) against h11 and pure Python.

    python bench/http_parse_bench.py [--rounds 9] [--count 20000]

Candidates, each run on the same messages, in interleaved rounds (the order rotates every
round, so the noise of a shared machine falls on all of them), median per round reported as
microseconds of CPU per message (time.process_time) beside wall time:

* `httptools bare`: llhttp through httptools with callbacks that only collect the fields,
  one parser reused (the floor for anything built on httptools);
* `pylvs framer`: proto.http's Framer (llhttp fast path plus HAProxy's field rules, limits,
  framing decision and events), a framer per connection reused for its requests;
* `pylvs reference`: proto.http's pure-Python lexer of HAProxy's grammar (the cold path);
* `h11`: h11 (pure Python, sans-IO), a new Connection per message (as the h11 docs build one
  per connection; reusing one needs a response in between);

on a typical browser GET (8 fields), a small POST, and a typical response head.  h11 is
optional (skipped when not installed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httptools

from pylvs.proto.http.framer import Framer
from pylvs.proto.http.syntax import lex

GET = (
    b"GET /static/app.js?v=123 HTTP/1.1\r\nHost: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Referer: https://www.example.com/\r\nConnection: keep-alive\r\nCookie: sid=abc123; t=1\r\n"
    b"\r\n"
)
POST = (
    b"POST /api/v1/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
    b'Content-Length: 27\r\n\r\n{"name": "x", "count": 42}\n'
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 06 Dec 2026 10:00:00 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 612\r\nLast-Modified: Tue, 01 Dec 2026 "
    b'10:00:00 GMT\r\nETag: "5f1-2a"\r\nAccept-Ranges: bytes\r\n\r\n' + b"x" * 612
)


class _Collect:
    __slots__ = ("fields", "url")

    def __init__(self) -> None:
        self.fields: list[tuple[bytes, bytes]] = []
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))


def httptools_bare(message: bytes, request: bool) -> Callable[[], object]:
    c = _Collect()
    if request:
        req = httptools.HttpRequestParser(c)

        def run_req() -> object:
            c.fields = []
            req.feed_data(message)
            return c

        return run_req

    def run_resp() -> object:  # a response parser is not reusable across bodies: one each
        c.fields = []
        httptools.HttpResponseParser(c).feed_data(message)
        return c

    return run_resp


def pylvs_framer(message: bytes, request: bool) -> Callable[[], object]:
    framer = Framer(request=request)

    def run() -> object:
        events = framer.feed(message)
        framer.next_message()
        return events

    return run


def pylvs_reference(message: bytes, request: bool) -> Callable[[], object]:
    return lambda: lex(message, request, 100)


def h11_conn(message: bytes, request: bool) -> Callable[[], object] | None:
    try:
        import h11
    except ImportError:
        return None
    role = h11.SERVER if request else h11.CLIENT

    def run() -> object:
        conn = h11.Connection(role)
        if not request:
            conn.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
            conn.send(h11.EndOfMessage())
        conn.receive_data(message)
        return conn.next_event()

    return run


CANDIDATES = {
    "httptools bare": httptools_bare,
    "pylvs framer": pylvs_framer,
    "pylvs reference": pylvs_reference,
    "h11": h11_conn,
}


def measure(run: Callable[[], object], count: int) -> tuple[float, float]:
    run()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(count):
        run()
    return (
        (time.process_time() - cpu0) / count * 1e6,
        (time.perf_counter() - wall0) / count * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    workloads = [("GET (8 fields)", GET, True), ("POST", POST, True), ("response", RESPONSE, False)]
    for label, message, request in workloads:
        runs = {}
        for name, make in CANDIDATES.items():
            run = make(message, request)
            if run is not None:
                runs[name] = run
        cpu: dict[str, list[float]] = {n: [] for n in runs}
        wall: dict[str, list[float]] = {n: [] for n in runs}
        names = list(runs)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                count = args.count if name != "h11" else max(args.count // 10, 100)
                c, w = measure(runs[name], count)
                cpu[name].append(c)
                wall[name].append(w)
        print(f"\n{label} ({len(message)} bytes), median of {args.rounds} rounds")
        print(f"  {'parser':18} {'CPU us/msg':>11} {'wall us/msg':>12} {'msgs/s (CPU)':>13}")
        for name in names:
            c = statistics.median(cpu[name])
            w = statistics.median(wall[name])
            print(f"  {name:18} {c:11.2f} {w:12.2f} {1e6 / c:13,.0f}")


if __name__ == "__main__":
    main()
