"""Make the simulated network (check_simnet) and the recorded scenarios
(tests/data/haproxy/checks) importable by the tests next to this file."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2] / "data" / "haproxy" / "checks"))
