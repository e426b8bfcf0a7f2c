"""Make this directory's helper modules (sync_pcap, sync_oracle) importable by its tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
