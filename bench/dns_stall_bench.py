"""How long forwarding stalls while `pylvs ipvsadm` waits on a resolver that never answers.

Issue 18 item 12 asks for no forwarding stall above 50 ms during `ipvsadm -L` (names of every
address) and `-a -r HOSTNAME` when the DNS server is a black hole.  This runs the scenario of
tests/netns/control/test_dns_blackhole.py (a namespace whose resolv.conf names a server that
swallows every query; a probe client requesting through the virtual service every 5 ms) in
interleaved rounds of four cases: nothing else (the machine's own noise), `-Ln` (no look-up),
`-L` and `-a ... -r rs3.example`.  It prints, per case, the longest gap between two answered
requests in each round and their median: the cases with look-ups should be no worse than the
ones without.  Needs root.

    sudo python bench/dns_stall_bench.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[0]))

from tests.netns.control import test_dns_blackhole as scenario  # noqa: E402

CASES: dict[str, list[list[str]]] = {
    "no ipvsadm": [],
    "-Ln": [["-Ln"]],
    "-L (names)": [["-L"]],
    "-a -r HOST": [["-a", "-t", f"{scenario.VIP}:80", "-r", "rs3.example:8080", "-m"]],
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    ns = scenario.Ns(Path(tempfile.mkdtemp(prefix="pylvs-dns-bench-")))
    gaps: dict[str, list[float]] = {name: [] for name in CASES}
    try:
        sock = scenario.start(ns)
        for r in range(args.rounds):
            order = list(CASES) if r % 2 == 0 else list(reversed(CASES))
            for name in order:
                gap, _ = scenario.longest_gap(ns, sock, *CASES[name])
                gaps[name].append(gap)
                print(f"round {r + 1} {name:12} longest gap {gap * 1000:7.1f} ms", flush=True)
    finally:
        ns.close()
    print("\n| case | longest gap per round (ms) | median (ms) |\n|---|---|---:|")
    for name, values in gaps.items():
        rounds = ", ".join(f"{v * 1000:.0f}" for v in values)
        print(f"| {name} | {rounds} | {statistics.median(values) * 1000:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
