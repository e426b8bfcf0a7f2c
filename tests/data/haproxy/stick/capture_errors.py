"""Record what `haproxy -c` says about `stick-table` lines.

Run by hand (needs the real `haproxy`):

    python tests/data/haproxy/stick/capture_errors.py [-o table-errors.json]

Each line is checked alone in a backend; the text after `parsing [FILE:LINE] : ` (or
`parsing [FILE:LINE]: `) of HAProxy's first alert or warning for that line is recorded with its
level, or nothing when HAProxy takes the line silently.
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
    "stick-table type ip size 10",
    "stick-table type ip",
    "stick-table size 10",
    "stick-table type foo size 1",
    "stick-table type ip size 1x",
    "stick-table type ip size",
    "stick-table type ip size 10k expire 30m",
    "stick-table type ip size 4g",
    "stick-table type ip size 1 expire",
    "stick-table type ip size 1 expire 1x",
    "stick-table type ip size 1 expire 3000000000",
    "stick-table type ip size 1 expire 100us",
    "stick-table type string len 0 size 1",
    "stick-table type string len 16 size 1",
    "stick-table type binary len 4 size 1",
    "stick-table type integer len 4 size 1",
    "stick-table type ip size 1 nopurge",
    "stick-table type ip size 1 peers p",
    "stick-table type ip size 1 peers",
    "stick-table type ip size 1 srvkey addr",
    "stick-table type ip size 1 srvkey foo",
    "stick-table type ip size 1 bogus",
    "stick-table type ip size 1 store gpc0,conn_cnt,conn_cur,conn_rate(10s),http_req_rate(1m)",
    "stick-table type ip size 1 store conn_rate",
    "stick-table type ip size 1 store conn_rate(x)",
    "stick-table type ip size 1 store conn_rate(10s",
    "stick-table type ip size 1 store gpc0(1)",
    "stick-table type ip size 1 store bogus",
    "stick-table type ip size 1 store gpc0,gpc0",
    "stick-table type ip size 1 store server_id,server_key,server_name",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "table-errors.json"))
    args = ap.parse_args()
    lines = {line: check_line(line, mode="tcp") for line in LINES}
    doc = {"haproxy": version(), "lines": lines}
    Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
