"""Make this directory's helper module (health_fixtures) importable by the tests next to it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
