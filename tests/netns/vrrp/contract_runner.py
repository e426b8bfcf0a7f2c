"""Runs the HostEffects contract against NetlinkHost inside a namespace (`ip netns exec`).

Usage: python contract_runner.py DEV; prints each failure and exits 1 if there is one.
"""

import sys
from pathlib import Path

# The repository root, so that the contract (tests/unit/system/contract.py) imports by its full
# name when this runs as a script.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pylvs.system.netlink import NetlinkHost
from tests.unit.system import contract

host = NetlinkHost()
try:
    failures = contract.run_all(host, sys.argv[1])
finally:
    host.close()
for line in failures:
    print(line)
print(f"{len(contract.CHECKS) - len(failures)} checks passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
