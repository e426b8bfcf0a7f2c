"""The differential tests' module-wide rig (diff_run.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.hamode.diff.diff_run import Rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("difftest"))
    try:
        yield r
    finally:
        r.close()
