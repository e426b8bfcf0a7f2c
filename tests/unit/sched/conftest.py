import sys
from pathlib import Path

# sched_kits.py: how the contract suite drives each family of algorithms.
sys.path.insert(0, str(Path(__file__).parent))
