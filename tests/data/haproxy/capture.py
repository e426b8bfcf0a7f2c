"""Record what the real `haproxy -c` says about every config of the check corpus.

    python tests/data/haproxy/capture.py        # needs haproxy 2.6 on PATH

For each `check/NAME.cfg` it runs `haproxy -c -f NAME.cfg` (in the corpus directory, so file
names in messages are the bare names, with an empty environment but for PATH) and writes
`check/NAME.expected.json`: the exit status, the version, each ALERT/WARNING with the line it
names (None for HAProxy's line-less post-parse checks) and its text, and `stderr`: what it printed
there line by line, but for its NOTICE lines (which name its version and executable), the
process id masked as `(PID)`.  The corpus test
(tests/integration/test_haproxy_check_corpus.py) compares `pylvs check` with these files, so it
runs without haproxy; run this again when the corpus or HAProxy changes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.data.haproxy.oracle import version

CHECK = Path(__file__).parent / "check"
# "[ALERT]    (1234) : config : parsing [x.cfg:9] : message" and its variants (src/errors.c)
LEVEL = re.compile(r"^\[(ALERT|WARNING|NOTICE)\]\s+\(\d+\) : (?:config : )?(.*)$")
LINE = re.compile(r"\[(?P<file>[^\]:]+):(?P<line>\d+)\]")
PID = re.compile(r"\(\d+\)")
NOTICE = "[NOTICE]"


def parse(output: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for raw in output.splitlines():
        m = LEVEL.match(raw)
        if m is None:
            if raw.startswith("   | ") and found:
                found[-1]["text"] = f"{found[-1]['text']} {raw[5:].strip()}"
            elif raw.startswith("        parsing [") and found:
                # "multiple argument resolution errors:" lists one error a line (src/arg.c)
                where = LINE.search(raw)
                line = int(where.group("line")) if where else None
                found.append({"level": found[-1]["level"], "line": line, "text": raw.strip()})
            continue
        level, text = m.groups()
        if level == "NOTICE":
            continue
        where = LINE.search(text)
        found.append(
            {
                "level": level.lower(),
                "line": int(where.group("line")) if where else None,
                "text": text,
            }
        )
    return found


def capture(cfg: Path) -> dict[str, object]:
    r = subprocess.run(
        ["haproxy", "-c", "-f", cfg.name],
        cwd=cfg.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        check=False,
    )
    messages = [m for m in parse(r.stderr + r.stdout) if not _summary(m)]
    stderr = masked(r.stderr)
    return {"version": version(), "exit": r.returncode, "messages": messages, "stderr": stderr}


def masked(stderr: str) -> list[str]:
    """The lines of `stderr` but for the NOTICE ones, each "(PID)" as that word."""
    return [PID.sub("(PID)", line, count=1) for line in stderr.splitlines() if NOTICE not in line]


def _summary(m: dict[str, object]) -> bool:
    text = str(m["text"])
    return text.startswith(("Error(s) found in configuration file", "Fatal errors found"))


def main() -> int:
    cfgs = sorted(CHECK.glob("*.cfg"))
    for cfg in cfgs:
        result = capture(cfg)
        out = cfg.with_suffix(".expected.json")
        out.write_text(json.dumps(result, indent=2) + "\n")
        count = len(result["messages"])  # type: ignore[arg-type]
        print(f"{cfg.name}: exit {result['exit']}, {count} message(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
