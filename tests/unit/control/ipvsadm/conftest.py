"""The `director` fixture: the sample director of ipvsadm_samples."""

import pytest

from pylvs.control.ipvsadm import Snapshot
from tests.unit.control.ipvsadm.ipvsadm_samples import director as _director


@pytest.fixture
def director() -> Snapshot:
    return _director()
