"""Fixtures of the nftables netns tests; makes nsnet importable by the tests next to it."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from nsnet import Lab, missing_reason


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
