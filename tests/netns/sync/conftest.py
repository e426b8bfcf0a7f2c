"""Make sync_netns_helpers importable, and the `net` fixture: namespaces deleted afterwards."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sync_netns_helpers import Net, missing


@pytest.fixture
def net() -> Iterator[Net]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    net = Net()
    try:
        yield net
    finally:
        net.close()
