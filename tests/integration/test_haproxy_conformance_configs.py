"""Oracle: the haproxy.cfg of every HAProxy 2.6 regression test, checked by pylvs and by the real
`haproxy -c` (issue 20 #1, #7).

HAProxy's own regression tests (`/work/shared/conformance/haproxy-2.6/reg-tests`, HAProxy's files,
kept outside the project) embed the configurations HAProxy's developers write: every fetch,
converter, rule and section of their kind.  Each `haproxy NAME -conf { ... }` block is taken
out, its vtest macros filled (`${sN_addr}`, `${sN_port}`, `fd@${NAME}` become loopback addresses;
`${testdir}` the test's directory), and checked by both: the verdict must be the same, and every
line HAProxy names must be named by pylvs at the same level.  Skips without the shared directory
or without haproxy.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pylvs.cli.check import host_facts
from pylvs.config.errors import Severity
from pylvs.config.haproxy.checkmode import exit_status
from pylvs.config.haproxy.reader import load_text

ROOT = Path("/work/shared/conformance/haproxy-2.6/reg-tests")
from tests.data.haproxy.capture import parse  # noqa: E402

# What pylvs does not report of HAProxy's messages, and why.
NOT_REPORTED = {
    # a log-format string with HTTP fetches (in an http-request rule) sets the proxy's HTTP
    # logging flags; pylvs does not compile log-format strings
    ("connection/tcp_to_http_upgrade.vtc", "h1", 12),
}

pytestmark = [
    pytest.mark.skipif(not ROOT.is_dir(), reason=f"needs {ROOT}"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs the real haproxy"),
]


def _blocks(text: str) -> list[tuple[str, str]]:
    """The `haproxy NAME ... -conf { ... }` blocks of a vtc file (braces balanced)."""
    found = []
    for m in re.finditer(r"^\s*haproxy\s+(\S+)\s[^\n]*?-conf\s*\{", text, re.M):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        found.append((m.group(1), text[m.end() : i - 1]))
    return found


def _fill(conf: str, testdir: str) -> str:
    ports = itertools.count(21000)

    def macro(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.endswith("_addr"):
            return "127.0.0.1"
        if name.endswith("_port"):
            return str(next(ports))
        if name.endswith("_sock"):
            return f"127.0.0.1:{next(ports)}"
        if name == "testdir":
            return testdir
        if name == "tmpdir":
            return "/tmp"
        return m.group(0)

    conf = re.sub(r"fd@\$\{\w+\}", lambda _m: f"127.0.0.1:{next(ports)}", conf)
    return re.sub(r"\$\{(\w+)\}", macro, conf)


def _cases() -> list[tuple[str, str, str]]:
    if not ROOT.is_dir():
        return []
    cases = []
    for vtc in sorted(ROOT.rglob("*.vtc")):
        for name, conf in _blocks(vtc.read_text()):
            rel = str(vtc.relative_to(ROOT))
            cases.append((rel, name, _fill(conf, str(vtc.parent))))
    return cases


CASES = _cases()


def test_there_are_configs() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize(("vtc", "name", "conf"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_same_verdict_and_lines(vtc: str, name: str, conf: str, tmp_path: Path) -> None:
    cfg = tmp_path / "h.cfg"
    cfg.write_text(conf)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    r = subprocess.run(
        ["haproxy", "-c", "-f", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    result = load_text(conf, str(cfg), env=env, host=host_facts())
    found = [(p.loc.line, p.severity) for p in result.problems]
    shown = "\n".join(str(p) for p in result.problems)
    assert exit_status(result.problems, result.config) == r.returncode, f"{r.stderr}\n{shown}"
    for m in parse(r.stderr):
        if str(m["text"]).startswith(("Error(s) found", "Fatal errors")):
            continue
        if (vtc, name, m["line"]) in NOT_REPORTED:
            continue
        level = Severity.ERROR if m["level"] == "alert" and r.returncode == 1 else Severity.WARNING
        hit = any(sev is level and (m["line"] is None or line == m["line"]) for line, sev in found)
        assert hit, f"haproxy: {m}\npylvs:\n{shown}"
