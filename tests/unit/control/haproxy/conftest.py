import sys
from pathlib import Path

# stats_replay.py: the transcript replay shared by the recorded-output tests.
sys.path.insert(0, str(Path(__file__).parent))
