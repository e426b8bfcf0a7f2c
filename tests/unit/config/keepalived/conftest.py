"""Every test of the keepalived reader runs twice: with the C plain-line reader (_plain.c) and
with its pure-Python twin (plain.py), which must give the same statements and problems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pylvs.config.keepalived import plain


# Module scope: a module's tests run with one reader, then the other (and hypothesis's tests
# see no function-scoped fixture).
@pytest.fixture(scope="module", autouse=True, params=["c", "python"])
def plain_reader(request: pytest.FixtureRequest) -> Iterator[str]:
    reader: str = request.param
    if reader == "c" and plain._plain is None:
        pytest.skip("the C plain-line reader is not built (no compiler when installed)")
    before = plain.USE_C
    plain.USE_C = reader == "c"
    try:
        yield reader
    finally:
        plain.USE_C = before
