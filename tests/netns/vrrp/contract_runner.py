"""Runs the HostEffects contract against NetlinkHost inside a namespace (`ip netns exec`).

Usage: python contract_runner.py DEV; prints each failure and exits 1 if there is one.
"""

import importlib.util
import sys
from pathlib import Path

from pylvs.system.netlink import NetlinkHost

path = Path(__file__).resolve().parents[2] / "unit" / "system" / "contract.py"
spec = importlib.util.spec_from_file_location("contract", path)
assert spec is not None and spec.loader is not None
contract = importlib.util.module_from_spec(spec)
spec.loader.exec_module(contract)

host = NetlinkHost()
try:
    failures = contract.run_all(host, sys.argv[1])
finally:
    host.close()
for line in failures:
    print(line)
print(f"{len(contract.CHECKS) - len(failures)} checks passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
