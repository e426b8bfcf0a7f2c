"""Make this directory's helper modules (dataplane_contract) importable by the tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
