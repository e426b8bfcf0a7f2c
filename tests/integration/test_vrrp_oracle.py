"""Oracle: every line keepalived 2.2.7 complains about in a broken VRRP-side config is a line
pylvs reports (as an error or a warning).

keepalived 2.2.7 `-t -l -f FILE` prints its complaints on stderr/stdout, one per line, as
`(Line N) message` (global_defs, read before the file name is recorded) or
`(FILE: Line N) message`.  Complaints made after the whole file is read (vrrp/vrrp.c
`vrrp_complete_instance`, `vrrp_complete_init`) carry no line: those starting with `(NAME)` are
mapped to the block of vrrp_instance NAME (pylvs must report something inside it), and the sync
group ones ("... specified in sync group G ...", "Sync group G ...") to the block of G.  Other
line-less messages ("SECURITY VIOLATION ...", "Non-existent interface specified in
configuration") are host-wide summaries and are not mapped.
"""

from __future__ import annotations

import grp
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pylvs.config.keywords import HostFacts
from tests.unit.config.keepalived.vrrp.vrrp_helpers import parse

BROKEN = Path(__file__).parents[1] / "data/keepalived/vrrp/broken"
LINE_RE = re.compile(r"^\((?:(?P<file>[^)]*?): )?Line (?P<line>\d+)\) (?P<msg>.*)$")
NAME_RE = re.compile(r"^\((?P<name>[^)\s]+?)\):? ")
GROUP_RE = re.compile(r"[Ss]ync group (?P<name>\S+)")

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not on PATH"),
]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _host() -> HostFacts:
    return HostFacts(
        interfaces=frozenset(p.name for p in Path("/sys/class/net").iterdir()),
        user_exists=_user_exists,
        group_exists=_group_exists,
    )


def _blocks(text: str, keyword: str) -> dict[str, tuple[int, int]]:
    """Line span of each top-level `keyword NAME { ... }` block (braces counted per line)."""
    spans: dict[str, tuple[int, int]] = {}
    depth, current, start = 0, "", 0
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if depth == 0 and len(words) >= 2 and words[0] == keyword:
            current, start = words[1], n
        depth += line.count("{") - line.count("}")
        if depth == 0 and current:
            spans[current] = (start, n)
            current = ""
    return spans


def _keepalived(path: Path) -> list[str]:
    proc = subprocess.run(
        ["keepalived", "-t", "-l", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (proc.stdout + proc.stderr).splitlines()


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.conf")), ids=lambda p: p.name)
def test_pylvs_reports_every_line_keepalived_complains_about(path: Path) -> None:
    text = path.read_text()
    result = parse(text, host=_host(), filename=str(path))
    ours = {p.loc.line for p in result.problems}
    instances = _blocks(text, "vrrp_instance")
    groups = _blocks(text, "vrrp_sync_group")
    expected: set[int] = set()
    spans: list[tuple[str, tuple[int, int]]] = []
    for out in _keepalived(path):
        m = LINE_RE.match(out)
        if m:
            expected.add(int(m["line"]))
            continue
        name = NAME_RE.match(out)
        group = GROUP_RE.search(out)
        if name and name["name"] in instances:
            spans.append((out, instances[name["name"]]))
        elif group and group["name"] in groups:
            spans.append((out, groups[group["name"]]))
    assert expected or spans, "a broken file must make keepalived complain"
    missing = sorted(expected - ours)
    assert not missing, f"keepalived complains about lines {missing}, pylvs does not"
    for message, (lo, hi) in spans:
        assert any(lo <= line <= hi for line in ours), f"no pylvs problem for: {message}"
