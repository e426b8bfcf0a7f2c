"""Oracle: `pylvs check` on a haproxy.cfg says what `haproxy -c` (2.6.12) says (issue 20 #1).

Each `tests/data/haproxy/check/NAME.cfg` is a small config, mostly broken; `NAME.expected.json`
is what the real `haproxy -c -f NAME.cfg` printed and exited with, recorded by
`tests/data/haproxy/capture.py` (re-run it when the corpus changes).  pylvs must give the same
verdict (exit 0 valid, 1 invalid, 2 valid without a listener), and name the line of every alert
and warning HAProxy ties to a line, at the same level (an alert that does not make the file
invalid is a warning); HAProxy's line-less complaints (a missing backend or stick table, found
after parsing) must be reported too, at some line and the same level.  pylvs may say more: it
reports everything at once, where HAProxy stops after its first fatal step.

`pylvs haproxy -c` must say what `haproxy -c` says word for word (the `stderr` recorded, NOTICE
lines aside): every case but those of DIFFERENT, each with the reason it still differs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pylvs.cli import haproxy_check
from pylvs.cli.check import host_facts
from pylvs.cli.haproxy_args import ExitError, parse
from pylvs.cli.haproxy_msgs import Messages
from pylvs.config.errors import Kind, Severity
from pylvs.config.haproxy.checkmode import exit_status
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.source import check
from tests.data.haproxy.capture import masked

CHECK = Path(__file__).resolve().parents[1] / "data" / "haproxy" / "check"
CASES = sorted(p.stem for p in CHECK.glob("*.cfg"))
LEVEL = {"alert": Severity.ERROR, "warning": Severity.WARNING}
# Where pylvs's verdict is not HAProxy's, on purpose (issue 20 #1): the case, and the Kind of the
# warning pylvs gives instead of HAProxy's alert, at the line of that alert.
DIVERGES = {
    # HAProxy 1.x's `listen NAME ADDR:PORT[,...]`: 2.6 refuses it, pylvs reads a `bind`
    "legacy_listen": Kind.EXTENSION,
}

# Where `pylvs haproxy -c` does not yet print what `haproxy -c` prints, and why.
DIFFERENT = {
    "legacy_listen": "pylvs reads HAProxy 1.x's 'listen NAME ADDR' (test_divergences_...)",
}


def _pylvs(name: str) -> tuple[int, list[tuple[int, Severity, str, Kind]]]:
    """pylvs's exit status and problems, read as `haproxy -c` ran: in the corpus directory (files
    the configs name are relative to it), with an empty environment."""
    cfg = CHECK / f"{name}.cfg"
    cwd = os.getcwd()
    os.chdir(CHECK)
    try:
        host = host_facts()
        result = load_text(cfg.read_text(), cfg.name, env={}, host=host)
        if result.ok:  # what compiling the rules finds, as `pylvs check` does
            check(result, host.read_file, cfg.name)
    finally:
        os.chdir(cwd)
    # an error HAProxy prints as a warning (its ERR_ABORT after ha_warning) is said at its level
    found = [
        (p.loc.line, Severity.WARNING if p.warned else p.severity, p.message, p.kind)
        for p in result.problems
    ]
    return exit_status(result.problems, result.config), found


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", [c for c in CASES if c not in DIVERGES])
def test_same_verdict_and_lines_as_haproxy(name: str) -> None:
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    status, found = _pylvs(name)
    shown = "\n".join(f"  {line}: {sev.value}: {msg}" for line, sev, msg, _ in found)
    assert status == expected["exit"], f"pylvs exits {status}, haproxy {expected['exit']}:\n{shown}"
    for m in expected["messages"]:
        level = LEVEL[m["level"]]
        if expected["exit"] != 1:
            # an alert HAProxy does not count as an error (e.g. 'observe layer7' in a TCP
            # proxy: the option is dropped) is a warning for pylvs, which has no third level
            level = Severity.WARNING
        if m["line"] is None:
            hit = any(sev is level for _, sev, _, _ in found)
        else:
            hit = any(line == m["line"] and sev is level for line, sev, _, _ in found)
        assert hit, f"haproxy: {m}\npylvs said:\n{shown}"


@pytest.mark.parametrize("name", sorted(DIVERGES))
def test_divergences_are_warnings_at_haproxy_lines(name: str) -> None:
    """Where pylvs accepts what HAProxy refuses, it warns at the first line HAProxy names."""
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    status, found = _pylvs(name)
    assert expected["exit"] == 1
    assert status in (0, 2), found
    first = next(m["line"] for m in expected["messages"] if m["line"] is not None)
    assert any(line == first and kind is DIVERGES[name] for line, _, _, kind in found), found


@pytest.mark.parametrize("name", [c for c in CASES if c not in DIVERGES])
def test_pylvs_errors_are_haproxy_errors(name: str) -> None:
    """An error pylvs reports is on a line HAProxy reports too, or HAProxy's verdict is invalid
    anyway (it stops reporting at its first fatal post-parse error)."""
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    _, found = _pylvs(name)
    errors = [line for line, sev, _, _ in found if sev is Severity.ERROR]
    if errors:
        assert expected["exit"] == 1, f"pylvs errors at lines {errors}, haproxy accepts"


@pytest.mark.parametrize("name", [c for c in CASES if c not in DIVERGES])
def test_what_haproxy_says_nothing_about_pylvs_says_nothing_about(name: str) -> None:
    """No HAProxy warning where HAProxy gives none (pylvs's own remarks aside): a setting
    lost on the way (`defaults B from A`) shows as a warning HAProxy does not give."""
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    if expected["messages"]:
        return
    _, found = _pylvs(name)
    said = [(line, msg) for line, _, msg, kind in found if kind is Kind.CONFIG]
    assert not said, said


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs the real haproxy")
@pytest.mark.parametrize("name", CASES)
def test_the_recordings_are_current(name: str) -> None:
    """The recorded verdicts are today's haproxy's (else re-run capture.py)."""
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    r = subprocess.run(
        ["haproxy", "-c", "-f", f"{name}.cfg"],
        cwd=CHECK,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        check=False,
    )
    assert r.returncode == expected["exit"], r.stderr


def _haproxy_c(name: str) -> list[str]:
    """What `pylvs haproxy -c -f NAME.cfg` prints on stderr, as capture.py records haproxy's,
    run here (in the corpus directory, with an empty environment)."""
    err = io.StringIO()
    cwd = os.getcwd()
    os.chdir(CHECK)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = haproxy_check.check(parse(["-c", "-f", f"{name}.cfg"]), Messages(), {})
            except ExitError as e:
                status = e.status
    finally:
        os.chdir(cwd)
    return [*masked(err.getvalue()), f"exit {status}"]


def _recorded(name: str) -> list[str]:
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    return [*expected["stderr"], f"exit {expected['exit']}"]


@pytest.mark.parametrize("name", [c for c in CASES if c not in DIFFERENT])
def test_haproxy_c_says_what_haproxy_says(name: str) -> None:
    assert _haproxy_c(name) == _recorded(name)


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_the_differences_listed_are_there(name: str) -> None:
    """DIFFERENT is exact both ways: a case that comes out right leaves it."""
    assert name in CASES
    assert _haproxy_c(name) != _recorded(name), f"{name} says what haproxy says now"
