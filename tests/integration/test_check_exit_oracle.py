"""Oracle: `pylvs check` exits as `keepalived -t` does (issue 18 #6), keyword by keyword.

Each file of tests/data/keepalived/exit is one case (deprecated spellings keepalived accepts,
unknown keywords, keywords pylvs does not act on, keepalived's own warnings, a script security
violation, ...); `@IF@` is replaced by an interface of this host.  keepalived 2.2.7 exits 0
(nothing reported), 4 (the configuration cannot be used), 5 (anything reported) or 6 (script
security); pylvs must exit the same, and with `--strict` also fail (5) on its own warnings
(keywords it does not act on, likely mistakes) but never on deprecations keepalived accepts.
The keywords every pylvs table knows are checked against keepalived's too: a keyword keepalived
2.2.7 calls unknown is one pylvs reads with a warning that says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Never

import pytest

from pylvs.config.keepalived.lvs.checkers import (
    BFD_TABLE,
    COMMON_TABLE,
    DNS_TABLE,
    FILE_TABLE,
    MISC_TABLE,
    SMTP_TABLE,
    UDP_TABLE,
)
from pylvs.config.keepalived.lvs.http import HTTP_TABLE, URL
from pylvs.config.keepalived.lvs.rs import RS_TABLE
from pylvs.config.keepalived.lvs.vs import VS_TABLE
from pylvs.config.keepalived.parser import TOPLEVEL, load_text
from pylvs.config.keepalived.vrrp.global_defs import GLOBAL_TABLE
from pylvs.config.keepalived.vrrp.instance import INSTANCE_TABLE
from pylvs.config.keepalived.vrrp.trackers import (
    BFD_TABLE as BFD_INSTANCE_TABLE,
)
from pylvs.config.keepalived.vrrp.trackers import (
    PROCESS_TABLE,
    SCRIPT_TABLE,
    TRACK_FILE_TABLE,
)
from pylvs.config.keywords import Table

DATA = Path(__file__).parents[1] / "data" / "keepalived"
CASES = sorted((DATA / "exit").glob("*.conf")) + sorted((DATA / "seeds").glob("*.conf"))
EXAMPLE = Path(__file__).parents[2] / "examples" / "keepalived.conf"

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not on PATH"),
]


def _interface() -> str:
    names = sorted(p.name for p in Path("/sys/class/net").iterdir() if p.name != "lo")
    return names[0] if names else "eth0"


def _materialise(case: Path, tmp: Path) -> Path:
    out = tmp / case.name
    out.write_text(case.read_text().replace("@IF@", _interface()))
    return out


def keepalived_rc(conf: Path) -> int:
    r = subprocess.run(
        ["keepalived", "-t", "-l", "-f", str(conf)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return r.returncode


def pylvs_rc(conf: Path, *extra: str) -> tuple[int, str]:
    r = subprocess.run(
        [sys.executable, "-m", "pylvs", "check", "-f", str(conf), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in r.stderr
    return r.returncode, r.stderr


def test_the_corpus_covers_every_exit_status() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_pylvs_exits_as_keepalived_t(case: Path, tmp_path: Path) -> None:
    conf = _materialise(case, tmp_path)
    expected = keepalived_rc(conf)
    rc, err = pylvs_rc(conf)
    assert rc == expected, err
    strict, err = pylvs_rc(conf, "--strict")
    if expected:
        assert strict == expected, err
    else:
        # pylvs's own warnings fail; deprecations keepalived accepts never do
        own = [x for x in err.splitlines() if ": warning: " in x and "deprecated" not in x]
        assert strict == (5 if own else 0), err


@pytest.mark.skipif(
    not Path("/sys/class/net/eth0").exists(), reason="the example's VRRP instance uses eth0"
)
def test_the_repo_example_passes_the_real_keepalived() -> None:
    assert keepalived_rc(EXAMPLE) == 0
    assert pylvs_rc(EXAMPLE)[0] == 0


# Tables of every kind of draft: Table is contravariant in it, so Table[Never] holds them all.
SECTIONS: list[tuple[Table[Never], str]] = [
    (TOPLEVEL, "@\n"),
    (GLOBAL_TABLE, "global_defs {\n@\n}\n"),
    (INSTANCE_TABLE, "vrrp_instance VI {\n@\n}\n"),
    (SCRIPT_TABLE, "vrrp_script s {\n@\n}\n"),
    (TRACK_FILE_TABLE, "track_file s {\n@\n}\n"),
    (PROCESS_TABLE, "vrrp_track_process s {\n@\n}\n"),
    (BFD_INSTANCE_TABLE, "bfd_instance s {\n@\n}\n"),
    (VS_TABLE, "virtual_server 10.0.0.1 80 {\n@\n}\n"),
    (RS_TABLE, "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n@\n}\n}\n"),
]
_RS = "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n%s {\n@\n}\n}\n}\n"
SECTIONS += [
    (COMMON_TABLE, _RS % "TCP_CHECK"),
    (UDP_TABLE, _RS % "UDP_CHECK"),
    (DNS_TABLE, _RS % "DNS_CHECK"),
    (MISC_TABLE, _RS % "MISC_CHECK"),
    (SMTP_TABLE, _RS % "SMTP_CHECK"),
    (FILE_TABLE, _RS % "FILE_CHECK"),
    (BFD_TABLE, _RS % "BFD_CHECK"),
    (HTTP_TABLE, _RS % "HTTP_GET"),
    (URL, _RS.replace("@", "url {\n@\n}") % "HTTP_GET"),
]


@pytest.mark.parametrize(("table", "wrap"), SECTIONS, ids=lambda x: getattr(x, "what", ""))
def test_keywords_keepalived_does_not_know_are_said_to_be_unknown(
    table: Table[object], wrap: str, tmp_path: Path
) -> None:
    conf = tmp_path / "probe.conf"
    missed = []
    for name in table.keywords:
        text = wrap.replace("@", f"{name} 1")
        conf.write_text(text)
        r = subprocess.run(
            ["keepalived", "-t", "-l", "-f", str(conf)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        unknown = name in re.findall(r"Unknown keyword '([^']+)'", r.stderr + r.stdout)
        said = any(
            f"Unknown keyword '{name}'" in p.message or "is deprecated" in p.message
            for p in load_text(text, "probe.conf", config_id="node").problems
        )
        if unknown and not said:
            missed.append(name)
    assert not missed, f"keepalived 2.2.7 does not know {missed}; pylvs must say so"
