"""The `net` fixture: namespaces deleted afterwards."""

from collections.abc import Iterator

import pytest

from tests.netns.sync.sync_netns_helpers import Net, missing


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
