"""Helpers for the health unit tests: keepalived.conf text -> typed config."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
