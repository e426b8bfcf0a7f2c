"""Fixtures for the daemon tests; the helpers live in daemon_helpers.py next to this file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.daemon_helpers import (  # noqa: F401 (backends: a fixture)
    Director,
    StartDirector,
    backends,
)


@pytest.fixture
def director(tmp_path: Path) -> Iterator[StartDirector]:
    started: list[Director] = []

    def start(config: str, nofile: int | None = None) -> Director:
        d = Director(tmp_path, config, nofile)
        started.append(d)
        return d

    try:
        yield start
    finally:
        for d in started:
            d.stop()
