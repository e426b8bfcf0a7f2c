"""Fixtures of the mode http tests: a syslog receiver for the traffic logs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.hamode.test_hamode_log import Syslog


@pytest.fixture
def syslog() -> Iterator[Syslog]:
    s = Syslog()
    yield s
    s.sock.close()
