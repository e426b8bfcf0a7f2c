"""pylvs against HAProxy terminating TLS in `mode http` (one thread each), on the same
haproxy.cfg text, on loopback: what TLS costs (issues 20/21).

Both proxies run `listen bench` with `bind ... ssl crt` (an RSA 2048 certificate made by
`openssl` for the run) in `mode http`, balancing round-robin over proxy_bench.py's two nginx
backends in clear.  wrk drives each in turn over https: keep-alive requests/s over TLS (50
connections: the record layer's cost) and new TLS connections/s (`Connection: close`: a full
handshake per request; wrk keeps no session to resume), each beside the proxy's CPU per
request (user + system, from /proc), the steadier measure on a shared machine.  They take
turns `--rounds` times (the order swapped every round); the table shows medians and the
per-round ratios.

Run by hand (not part of the tests):
    python bench/tls_bench.py [--duration 5] [--rounds 3]
Needs: nginx, haproxy, wrk (built with OpenSSL) and openssl.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (the repository root is on the path now)
from bench.proxy_bench import (
    free_port,
    haproxy_conf,
    nginx_conf,
    print_table,
    process,
    process_cpu,
    run_wrk,
    wait_port,
)

CASES = {"keep-alive": (50, False), "new TLS conn": (50, True)}


def certificate(tmp: Path) -> Path:
    pem = tmp / "bench.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp / "k"),
         "-out", str(tmp / "c"), "-days", "1", "-subj", "/CN=bench.local"],
        check=True, capture_output=True,
    )  # fmt: skip
    pem.write_text((tmp / "c").read_text() + (tmp / "k").read_text())
    return pem


def tls_conf(tmp: Path, port: int, backends: list[int], name: str, pem: Path) -> Path:
    """proxy_bench's `listen bench` in mode http, its bind terminating TLS."""
    conf = haproxy_conf(tmp, port, backends, 2000, name, "http")
    text = conf.read_text().replace(
        f"bind 127.0.0.1:{port}", f"bind 127.0.0.1:{port} ssl crt {pem}"
    )
    conf.write_text(text)
    return conf


def measure(port: int, pid: int, duration: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for case, (conns, close) in CASES.items():
        cpu0 = process_cpu(pid)
        got = run_wrk(f"https://127.0.0.1:{port}/", duration, conns, close=close)
        cpu = process_cpu(pid) - cpu0
        requests = got.requests_per_s * duration
        out[f"{case} req/s"] = got.requests_per_s
        out[f"CPU us / req ({case})"] = cpu / requests * 1e6 if requests else 0.0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="measurements of each, taking turns")
    args = ap.parse_args()
    for tool in ("nginx", "haproxy", "wrk", "openssl"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="pylvs-tls-bench-") as d, contextlib.ExitStack() as st:
        tmp = Path(d)
        pem = certificate(tmp)
        backends = [free_port(), free_port()]
        st.enter_context(process(["nginx", "-c", str(nginx_conf(tmp, backends, ""))]))
        for backend in backends:
            wait_port(backend)
        who: dict[str, tuple[int, int]] = {}
        for name in ("HAProxy", "pylvs"):
            port = free_port()
            cfg = tls_conf(tmp, port, backends, name, pem)
            cmd = ["haproxy", "-f", str(cfg)] if name == "HAProxy" else [
                sys.executable, "-m", "pylvs", "run", "-f", str(cfg), "--control",
                str(tmp / "p.sock"), "--no-syslog", "-n", "--dataplane", "proxy", "-p",
                str(tmp / "p.pid"), "-r", str(tmp / "v.pid"), "-c", str(tmp / "c.pid"),
            ]  # fmt: skip
            p = st.enter_context(process(cmd, env={**os.environ}))
            who[name] = (port, p.pid)
        for port, _ in who.values():
            wait_port(port)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in who}
        for r in range(args.rounds):
            for name in list(who)[:: 1 if r % 2 == 0 else -1]:
                rounds[name].append(measure(*who[name], args.duration))
        results = {
            name: {m: statistics.median(x[m] for x in rs) for m in rs[0]}
            for name, rs in rounds.items()
        }
    print(f"median of {args.rounds} round(s) of {args.duration} s; both run the same haproxy.cfg")
    print_table(results, rounds, tuple(m for m in results["HAProxy"] if m.endswith("/s")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
