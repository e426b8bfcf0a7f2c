"""Record what `haproxy -c` says about bad `balance` and `hash-type` lines.

Run by hand (needs the real `haproxy`):

    python tests/data/haproxy/lb/capture_errors.py [-o tests/data/haproxy/lb/balance-errors.json]

Each line is checked alone in a backend; the text after `parsing [FILE:LINE] : ` of HAProxy's
alert is recorded, or "" when HAProxy accepts the line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

LINES = [
    "balance foo",
    "balance roundrobin",
    "balance",
    "balance random",
    "balance random(3)",
    "balance random()",
    "balance random(0)",
    "balance random(-1)",
    "balance random(2",
    "balance random(2x)",
    "balance random(0x10)",
    "balance uri",
    "balance uri len",
    "balance uri len 0",
    "balance uri len 12",
    "balance uri depth -1",
    "balance uri depth 3 whole path-only",
    "balance uri bogus",
    "balance url_param",
    "balance url_param id",
    "balance url_param id check_post",
    "balance url_param id bogus",
    "balance hash",
    "balance hash src",
    "balance hash src dst",
    "balance hdr(",
    "balance hdr()",
    "balance hdr(host)",
    "balance hdr(host) use_domain_only",
    "balance hdr(host) bogus",
    "balance rdp-cookie",
    "balance rdp-cookie(name)",
    "balance rdp-cookie(",
    "balance rdp-cookiex",
    "hash-type",
    "hash-type bogus",
    "hash-type avalanche",
    "hash-type map-based",
    "hash-type consistent",
    "hash-type consistent bogus",
    "hash-type consistent djb2",
    "hash-type consistent wt6 avalanche",
    "hash-type consistent sdbm bogus",
]


def check(line: str) -> str:
    cfg = (
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
        f"backend b\n  {line}\n  server s1 127.0.0.1:1\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "e.cfg")
        Path(path).write_text(cfg)
        out = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True)
    m = re.search(r"parsing \[[^]]*:7\] : (.*)", out.stderr)
    return m.group(1) if m else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "balance-errors.json"))
    args = ap.parse_args()
    version = subprocess.run(
        ["haproxy", "-v"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    doc = {"haproxy": version, "lines": {line: check(line) for line in LINES}}
    Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
