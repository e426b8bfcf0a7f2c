"""Record the real haproxy's health checks (check_scenarios.py) into recorded.json.

Run by hand (needs the real `haproxy`, 2.6 here; no root):

    python tests/data/haproxy/checks/capture.py [NAME ...] [-o recorded.json]

Without names, every scenario is recorded; with names, only those are (re)recorded and the
others kept.  Each scenario runs haproxy for its duration against scripted servers
(check_harness.py); the record keeps the syslog and stderr lines, every connection each server
got (time, bytes read, how it ended) and the stats socket answers, with haproxy's version.
tests/unit/proto/check/test_check_recorded.py replays them on pylvs's check machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from tests.data.haproxy.checks.check_harness import run
from tests.data.haproxy.checks.check_scenarios import SCENARIOS
from tests.data.haproxy.oracle import version

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    ap.add_argument("-o", "--output", default=str(HERE / "recorded.json"))
    args = ap.parse_args()
    out = Path(args.output)
    record = json.loads(out.read_text()) if out.exists() and args.names else {}
    record["haproxy"] = version()
    scenarios = record.setdefault("scenarios", {})
    for name in args.names or sorted(SCENARIOS):
        print(f"recording {name} ...", file=sys.stderr)
        scenarios[name] = run(SCENARIOS[name])
    out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
