"""HAProxy 2.6's regression tests (every one the real HAProxy passes here) against `pylvs haproxy`
(haproxy_vtc.py says how).  One test here per HAProxy test: a test listed as passing in
haproxy_vtc.txt must pass (else it is a regression, shown with varnishtest's log); one listed
as failing must still fail (else the list, and the count in README.md, must be updated).
Skips where the shared reg-tests or varnishtest are absent."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conformance.haproxy_vtc import (
    DEFAULT_BUDGET,
    DEFAULT_JOBS,
    README_END,
    README_START,
    Expectation,
    Result,
    covered_tests,
    kill_marked,
    program,
    read_expected,
    readme_section,
    run_all,
    unavailable,
)

EXPECTED = read_expected()
WHY = unavailable()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(WHY is not None, reason=WHY or "")]


@pytest.fixture(scope="module")
def results(request: pytest.FixtureRequest) -> dict[str, Result | None]:
    """One run of every selected HAProxy test, a few at a time."""
    budget = float(os.environ.get("PYLVS_CONFORMANCE_BUDGET", DEFAULT_BUDGET))
    # this module's tests only: other modules in the same run may have an `expected` too
    mine = (i for i in request.session.items if getattr(i, "module", None) is request.module)
    params = (getattr(item, "callspec", None) for item in mine)
    tests = [p.params["expected"].test for p in params if p and "expected" in p.params]
    passing = [e.test for e in EXPECTED if e.passes]
    return run_all(tests, command=program(), budget=budget, jobs=DEFAULT_JOBS, retry=passing)


def test_every_covered_test_is_listed_once() -> None:
    listed = [e.test for e in EXPECTED]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(covered_tests())


def test_what_a_test_left_behind_is_killed_by_its_mark() -> None:
    mark = f"left-behind:{os.getpid()}"
    env = {**os.environ, "PYLVS_VTC_RUN": mark}
    left = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        kill_marked(mark)
        assert left.wait(timeout=10) == -signal.SIGKILL
        assert other.poll() is None
    finally:
        for proc in (left, other):
            proc.kill()
            proc.wait()


def test_the_readme_gives_the_count_and_every_failure() -> None:
    text = (Path(__file__).parents[2] / "README.md").read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END) + 1
    assert text[start:end] == readme_section(EXPECTED)


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.test for e in EXPECTED])
def test_vtc(expected: Expectation, results: dict[str, Result | None]) -> None:
    result = results[expected.test]
    assert result is not None, f"{expected.test} was not run: the budget was spent"
    if expected.passes:
        assert result.passed, f"regression: {expected.test} passed and now fails:\n{result.log}"
    else:
        assert not result.passed, (
            f"{expected.test} now passes: mark it `pass` in tests/conformance/haproxy_vtc.txt"
            " and update the count in README.md"
        )
