"""Make this directory's helper modules importable by the tests next to them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
