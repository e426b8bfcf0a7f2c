"""`pylvs haproxy -cc` and `-c` start without what they do not use (issue 20, reviewer's list 8).

HAProxy's reg-tests start the program under test 17 to 20 times per test for a check alone
(startup/check_condition.vtc, startup/default_rules.vtc), within varnishtest's 20 s; a start is
mostly imports.  The time itself is measured by bench/haproxy_check_bench.py; what is asserted
here is the import graph that makes it: `-cc` evaluates a condition without the sample and rule
machinery or the configuration reader, `-c` on a file refused while reading never loads the
rules compiler nor the keepalived reader, and `-c` on a valid file does compile its rules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Runs `pylvs haproxy ARGS` in this interpreter and prints its exit status and the pylvs
# modules it imported.
PROBE = """
import json, sys
from pylvs.cli.haproxy import main
try:
    status = main(sys.argv[1:])
except SystemExit as e:
    status = e.code
print(json.dumps([status, sorted(m for m in sys.modules if m.startswith("pylvs."))]),
      file=sys.__stderr__)
"""
_T = "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"


def modules(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    status, names = json.loads(r.stderr.strip().splitlines()[-1])
    return status, set(names)


def test_a_condition_is_evaluated_without_the_sample_machinery(tmp_path: Path) -> None:
    status, loaded = modules(tmp_path, "-cc", "version_atleast(2.4) && streq(a,a)")
    assert status == 0
    assert "pylvs.config.haproxy.cond" in loaded
    heavy = {"pylvs.proto.sample", "pylvs.config.haproxy.samples", "pylvs.config.haproxy.reader"}
    assert not heavy & loaded


def test_a_file_refused_while_reading_loads_no_compiler(tmp_path: Path) -> None:
    (tmp_path / "bad.cfg").write_text(f"{_T}listen l\n bind 127.0.0.1:18001\n foo bar\n")
    status, loaded = modules(tmp_path, "-c", "-f", "bad.cfg")
    assert status == 1
    assert "pylvs.config.haproxy.reader" in loaded
    unused = {
        "pylvs.config.haproxy.compile_rules",
        "pylvs.config.haproxy.convert",
        "pylvs.config.keepalived.model",
        "pylvs.cli.check",
    }
    assert not unused & loaded


def test_a_valid_file_has_its_rules_compiled(tmp_path: Path) -> None:
    (tmp_path / "ok.cfg").write_text(
        f"{_T}listen l\n bind 127.0.0.1:18001\n server s 127.0.0.1:18002\n"
    )
    status, loaded = modules(tmp_path, "-c", "-f", "ok.cfg")
    assert status == 0
    assert {"pylvs.config.haproxy.compile_rules", "pylvs.config.haproxy.convert"} <= loaded
    assert "pylvs.config.keepalived.model" not in loaded
