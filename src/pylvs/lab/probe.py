"""The lab's client: HTTP requests to the VIP, run inside the client's namespace.

`python -m pylvs.lab.probe --host VIP [--port 80] -n N` makes N requests one after the other;
`--every S --duration D` paces them (one started every S seconds, as the end-to-end tests'
steady load of one request every 10 ms), a request that is late starting right after the one
before.  Each request is a new TCP connection (HTTP/1.0), so the director schedules each.
Prints one JSON list of `[t, answer]`: `t` the CLOCK_MONOTONIC time the request started (the
same clock in every namespace of the machine, so the caller can line it up with the moment it
killed a director), `answer` the first line of the body ("rs1") or "" when it failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time


def request(host: str, port: int, timeout: float) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        return body.split("\n", 1)[0].strip() if resp.status == 200 else ""
    except (OSError, http.client.HTTPException):
        return ""
    finally:
        conn.close()


def run(
    host: str, port: int, n: int, *, every: float, duration: float, timeout: float
) -> list[tuple[float, str]]:
    results: list[tuple[float, str]] = []
    start = time.monotonic()
    next_at = start
    while True:
        now = time.monotonic()
        if duration and now - start >= duration:
            break
        if not duration and len(results) >= n:
            break
        if every and now < next_at:
            time.sleep(next_at - now)
            now = time.monotonic()
        next_at = max(next_at + every, now) if every else now
        results.append((now, request(host, port, timeout)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pylvs.lab.probe")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--every", type=float, default=0.0)
    parser.add_argument("--duration", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args(argv)
    results = run(
        args.host, args.port, args.n, every=args.every, duration=args.duration, timeout=args.timeout
    )
    json.dump([[round(t, 6), a] for t, a in results], sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
