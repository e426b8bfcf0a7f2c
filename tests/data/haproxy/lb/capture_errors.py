"""Record what `haproxy -c` says about bad `balance` and `hash-type` lines.

Run by hand (needs the real `haproxy`):

    python tests/data/haproxy/lb/capture_errors.py [-o tests/data/haproxy/lb/balance-errors.json]

Each line is checked alone in a `mode http` backend; the level and the text after `parsing
[FILE:LINE] : ` of HAProxy's alert or warning are recorded, or nothing when HAProxy accepts the
line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.data.haproxy.oracle import check_line, version

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "balance-errors.json"))
    args = ap.parse_args()
    lines = {line: check_line(line, mode="http") for line in LINES}
    doc = {"haproxy": version(), "lines": lines}
    Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
