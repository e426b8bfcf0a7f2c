"""`pylvs haproxy` answers command lines as the real haproxy 2.6.12 does (issue 20 #7): usage
errors, `-v`, `-c` on files and directories, `-cc`; compared with the goldens
tests/data/haproxy/cli/capture_cli.py recorded from haproxy (real processes on both sides).

What must be equal: the exit status; stdout (the version block only in its first words: it
names pylvs); the usage text; every alert and warning without a place word for word (pylvs's
may say more after it), and for those HAProxy places in a file, the same level at the same
FILE:LINE; the two version notices when there is something to say.  pylvs may add notices of
its own (its remarks on what it does not do), and where HAProxy stopped at a parse error, the
warnings of the whole-file checks HAProxy did not reach (pylvs reports every problem at
once)."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.data.haproxy.cli.capture_cli import CASES, GOLDENS, run, setup

DATA = json.loads(GOLDENS.read_text())
OURS = [sys.executable, "-m", "pylvs", "haproxy"]
MESSAGE = re.compile(r"^\[(ALERT|WARNING|NOTICE)\]\s+\(\S+\) : (?:config : )?(.*)$")
PLACE = re.compile(r"\[(?P<file>[^\]:]+):(?P<line>\d+)\]")
# Cases where every alert and warning is HAProxy's, word for word, in HAProxy's order (the
# checks after reading: their places cited as HAProxy cites them, config/errors.py Cite).
EXACT = {"check-post-parse", "check-after-reading", "check-http-only-in-tcp"}
# Cases whose output is about HAProxy's internals (its memory pools): the status only.
STATUS_ONLY = {"dm-help", "build-options"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("haproxy-cli")
    setup(directory)
    return directory


def messages(stderr: str) -> list[tuple[str, str]]:
    return [m.groups() for m in map(MESSAGE.match, stderr.splitlines()) if m]  # type: ignore[misc]


def usage(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Usage : ")), None)
    if start is None:
        return []
    return [re.sub(r"^Usage : \S+( haproxy)? ", "Usage : NAME ", lines[start]), *lines[start + 1 :]]


def test_every_case_was_recorded() -> None:
    assert sorted(DATA["cases"]) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_like_haproxy(name: str, workdir: Path) -> None:
    golden = DATA["cases"][name]
    ours = run(CASES[name], workdir, OURS)
    assert ours["status"] == golden["status"], ours["stderr"]
    if name in STATUS_ONLY:
        return
    _same_stdout(str(golden["stdout"]), str(ours["stdout"]))
    assert usage(str(ours["stderr"])) == usage(str(golden["stderr"]))
    stopped = golden["status"] == 1  # HAProxy's whole-file checks did not run
    _same_messages(messages(str(golden["stderr"])), messages(str(ours["stderr"])), stopped)
    if name in EXACT:
        said = [m for m in messages(str(golden["stderr"])) if m[0] != "NOTICE"]
        assert [m for m in messages(str(ours["stderr"])) if m[0] != "NOTICE"] == said
    assert "Traceback" not in str(ours["stderr"])


def _same_stdout(golden: str, ours: str) -> None:
    if golden.startswith("HAProxy version VERSION"):
        assert ours.startswith("HAProxy version 2.6.12-pylvs-")
        golden = golden.split("Running on: ", 1)[1].split("\n", 1)[1]
        ours = ours.split("Running on: ", 1)[1].split("\n", 1)[1]
    assert ours == golden


def _same_messages(
    golden: list[tuple[str, str]], ours: list[tuple[str, str]], stopped: bool
) -> None:
    said = [(level, text) for level, text in golden if level != "NOTICE"]
    mine = [(level, text) for level, text in ours if level != "NOTICE"]
    counts = Counter(level for level, _ in mine)
    expected = Counter(level for level, _ in said)
    if stopped:  # pylvs reports every problem at once: its whole-file warnings too
        counts["WARNING"] = min(counts["WARNING"], expected["WARNING"])
    assert counts == expected, ours
    for level, text in said:
        place = PLACE.search(text)
        if place is not None:
            where = place.group(0)
            assert any(lv == level and where in t for lv, t in mine), (level, text, ours)
        else:
            assert any(lv == level and text in t for lv, t in mine), (level, text, ours)
    notices = [t for lv, t in golden if lv == "NOTICE"]
    assert ("haproxy version is VERSION" in notices) == any(
        lv == "NOTICE" and t.startswith("haproxy version is 2.6.12-pylvs-") for lv, t in ours
    )
