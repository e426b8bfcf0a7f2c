"""Oracle: every line keepalived 2.2.7 complains about in a broken LVS-side config is a line
`pylvs check` reports, in the same file (also inside an include).

`keepalived -t -l -f FILE` (config test only: the daemon is never started) prints one complaint
per line on stderr as `(FILE: Line N) message`, FILE being the path as written in the `include`
line (relative paths are relative to the including file's directory).  Complaints made after
the whole file is read (check_data.c `validate_check_config`: "Virtual server ...: no scheduler
set ...") carry no line and are not compared; lines without a file (`(Line N) ...`, printed by
the parent process before it records the file name) repeat located ones and are skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = Path(__file__).resolve().parents[1] / "data" / "keepalived" / "broken"
CORPUS = sorted(BROKEN.glob("lvs-*.conf"))
KEEPALIVED_RE = re.compile(r"^\((?P<file>[^)]*?): Line (?P<line>\d+)\) (?P<msg>.*)$")
PYLVS_RE = re.compile(r"^(?P<file>.*?):(?P<line>\d+):\d+: (?:error|warning): ")

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not on PATH"),
]


def keepalived_lines(conf: Path) -> set[tuple[str, int]]:
    r = subprocess.run(
        ["keepalived", "-t", "-l", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = set()
    for line in (r.stderr + r.stdout).splitlines():
        m = KEEPALIVED_RE.match(line.strip())
        if m:
            file = Path(m.group("file"))
            if not file.is_absolute():
                file = conf.parent / file
            found.add((str(file.resolve()), int(m.group("line"))))
    return found


def pylvs_lines(conf: Path) -> set[tuple[str, int]]:
    r = subprocess.run(
        [sys.executable, "-m", "pylvs", "check", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in r.stderr
    found = set()
    for line in r.stderr.splitlines():
        m = PYLVS_RE.match(line)
        if m:
            found.add((str(Path(m.group("file")).resolve()), int(m.group("line"))))
    return found


def test_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 4


@pytest.mark.parametrize("conf", CORPUS, ids=lambda p: p.name)
def test_pylvs_reports_every_line_keepalived_reports(conf: Path) -> None:
    expected = keepalived_lines(conf)
    assert expected, "keepalived reported nothing: the corpus file is not broken"
    missing = expected - pylvs_lines(conf)
    assert not missing, f"pylvs misses {sorted(missing)}"


VALID = sorted((BROKEN.parent / "lvs").glob("*.conf"))


@pytest.mark.parametrize("conf", VALID, ids=lambda p: p.name)
def test_valid_configs_are_clean_for_both(conf: Path) -> None:
    assert keepalived_lines(conf) == set()
    assert pylvs_lines(conf) == set()
