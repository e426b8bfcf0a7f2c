"""Make this directory's helper module (proxy_helpers) importable by the tests next to it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
