"""Make this directory's helper modules importable by the tests next to them."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ipvsadm_samples import director as _director

from pylvs.control.ipvsadm import Snapshot


@pytest.fixture
def director() -> Snapshot:
    return _director()
