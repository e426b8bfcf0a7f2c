"""The shipped files work with the real tools: systemd-analyze verify, groff, bash."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pylvs.packaging.__main__ import install


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    bindir = str(Path(sys.executable).parent)  # the venv's pylvs command
    install(str(tmp_path / "usr"), str(tmp_path / "systemd"), bindir)
    return tmp_path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_unit_passes_systemd_analyze_verify(installed: Path) -> None:
    assert (Path(sys.executable).parent / "pylvs").exists()
    # verify also runs `man` for each Documentation= page: the installed ones must be found
    # (MANPATH ending in ':' keeps the system's directories, for keepalived.conf(5)).
    env = {**os.environ, "MANPATH": f"{installed / 'usr' / 'share' / 'man'}:"}
    r = subprocess.run(
        ["systemd-analyze", "verify", str(installed / "systemd" / "pylvs.service")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "pylvs.service" not in r.stderr, r.stderr  # no warning about our unit


@pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff")
def test_man_pages_render_without_warnings(installed: Path) -> None:
    pages = sorted((installed / "usr" / "share" / "man" / "man8").glob("*.8"))
    assert len(pages) >= 10
    for page in pages:
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        assert r.returncode == 0 and r.stderr == "", (page.name, r.stderr)
    text = subprocess.run(
        ["groff", "-man", "-Tutf8", str(installed / "usr/share/man/man8/pylvs-run.8")],
        capture_output=True, text=True, timeout=60, env={**os.environ, "GROFF_NO_SGR": "1"},
    ).stdout  # fmt: skip
    plain = re.sub(".\x08", "", text).replace("\u2010", "-")  # no overstrike, ASCII hyphens
    assert "--dont-release-vrrp" in plain and "-f, --use-file FILE" in plain


def complete(script: Path, line: str) -> list[str]:
    words = line.split(" ")
    prog = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_pylvs\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_bash_completion_completes(installed: Path) -> None:
    script = installed / "usr/share/bash-completion/completions/pylvs"
    assert {"run", "check", "ipvsadm", "lab"} <= set(complete(script, "pylvs "))
    assert complete(script, "pylvs ru") == ["run"]
    assert "--dont-release-vrrp" in complete(script, "pylvs run --dont")
    assert complete(script, "pylvs run --dataplane ") == ["ipvs", "nftables", "proxy"]
    assert "--tcp-service" in complete(script, "pylvs ipvsadm --tc")
    assert {"up", "fail", "heal"} <= set(complete(script, "pylvs lab "))
    assert {"up", "fail"} <= set(complete(script, "pylvs lab --id x "))
    assert "--real-servers" in complete(script, "pylvs lab up --re")
    assert complete(script, "pylvs lab up --mode ") == ["dr", "nat"]
    (installed / "keepalived.conf").write_text("")
    assert complete(script, f"pylvs run -f {installed}/keepa") == [f"{installed}/keepalived.conf"]
