"""tests/conformance: peers' own test suites run against pylvs (HAProxy's reg-tests through
varnishtest).  They take minutes, so the plain test run skips them with the way to run them;
`.ci/run` runs them as a step of their own with `PYLVS_CONFORMANCE=1`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

WHY_NOT = (
    None
    if os.environ.get("PYLVS_CONFORMANCE") == "1"
    else "conformance suites take minutes: PYLVS_CONFORMANCE=1 python3 -m pytest tests/conformance"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if WHY_NOT is None:
        return
    here = Path(__file__).parent
    mark = pytest.mark.skip(reason=WHY_NOT)
    for item in items:
        # what needs no run of the suite (the bookkeeping's own checks) always runs
        uses_runs = "results" in getattr(item, "fixturenames", ())
        if here in Path(str(item.fspath)).parents and uses_runs:
            item.add_marker(mark)
