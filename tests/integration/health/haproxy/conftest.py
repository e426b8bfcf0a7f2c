"""Make the recorded check scenarios (tests/data/haproxy/checks: servers, timelines) and
their replay helpers (tests/unit/proto/check/check_replay.py) importable here."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(TESTS / "unit" / "proto" / "check"))
sys.path.insert(0, str(TESTS / "data" / "haproxy" / "checks"))
sys.path.insert(0, str(TESTS / "data" / "haproxy"))
