"""`pylvs run -f haproxy.cfg` refuses what `haproxy -c` refuses, naming the same lines with the
same words (its FILE:LINE:COL form, `pylvs check`'s): the corpus cases HAProxy refuses
(tests/data/haproxy/check, recorded by capture.py), started as a daemon would be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parents[1] / "data" / "haproxy" / "check"
# refused while reading, after it (check_config_validity), and in gathered alerts
CASES = ["typo_bind", "userlist_bad", "sc_fetch_unknown_table", "bind_ssl_nocrt"]


@pytest.mark.parametrize("name", CASES)
def test_run_refuses_with_haproxys_lines_and_words(name: str) -> None:
    expected = json.loads((CHECK / f"{name}.expected.json").read_text())
    assert expected["exit"] == 1
    r = subprocess.run(
        [sys.executable, "-m", "pylvs", "run", "-n", "-f", f"{name}.cfg", "--dataplane", "proxy"],
        cwd=CHECK,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = r.stdout + r.stderr
    assert r.returncode != 0, said
    assert "error(s) in the configuration; not starting" in said
    for m in expected["messages"]:
        if m["level"] != "alert" or m["text"].startswith("multiple argument"):
            continue
        line = m["line"]
        words = m["text"].split("] : ", 1)[-1].split("]: ", 1)[-1]
        if line is not None:
            assert f"{name}.cfg:{line}:" in said, (m, said)
        assert words in said, (m, said)
