"""Fixtures of the nftables netns tests."""

from collections.abc import Iterator

import pytest

from tests.netns.nftables.nsnet import Lab, missing_reason


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(str(sum(map(ord, request.node.name)) % 1000))
    try:
        yield lab
    finally:
        lab.close()
