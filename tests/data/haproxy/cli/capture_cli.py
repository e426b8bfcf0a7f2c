"""Record what the real `haproxy` 2.6 answers to command lines (usage errors, -v, -c, -cc).

    python tests/data/haproxy/cli/capture_cli.py        # needs haproxy 2.6 on PATH

Each case of `CASES` runs in a fresh directory holding `FILES` (configurations, a directory of
them with files HAProxy skips), with `TESTVAR=1` in the environment.  `goldens.json` gets, per
case, the arguments, the exit status, and stdout and stderr with the process id, the version
and the executable's path replaced by `PID`, `VERSION` and `EXE`.  The test
(tests/integration/test_haproxy_cli.py) runs `pylvs haproxy` on the same cases and compares;
run this again when the cases or HAProxy change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
GOLDENS = HERE / "goldens.json"
_T = (
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
)
FILES = {
    "ok.cfg": f"{_T}listen l\n    bind 127.0.0.1:18001\n    server s 127.0.0.1:18002\n",
    "bad.cfg": "defaults\n    mode tcp\nlisten l\n    bind 127.0.0.1:18001\n    foo bar\n"
    "    server s 127.0.0.1:18002 wieght 3\n",
    "nol.cfg": "backend b\n    server s 127.0.0.1:18002\n",
    "warn.cfg": "listen l\n    bind 127.0.0.1:18005\n    server s 127.0.0.1:18002\n",
    "post.cfg": f"{_T}frontend f\n    bind 127.0.0.1:18009\n    use_backend nope\n",
    # a rule argument naming a backend that is not there: found when the rules compile
    "rules.cfg": f"{_T}frontend f\n    bind 127.0.0.1:18013\n"
    "    tcp-request content set-var(txn.x) be_conn(nobe)\n    default_backend b\n"
    "backend b\n    server s 127.0.0.1:18002\n",
    "prog.cfg": f"{_T}listen l\n    bind 127.0.0.1:18011\n    server s 127.0.0.1:18002\n"
    "program foo\n    command sleep 30\n",
    # checks after reading, in check_config_validity's order and words: backends used, stick
    # tables, peers, tracks (the server's place), what needs `mode http`, http-errors last
    "later.cfg": (
        "defaults\n"
        "  mode http\n"
        "  timeout client 1s\n"
        "  timeout server 1s\n"
        "  timeout connect 1s\n"
        "frontend f\n"
        "  bind 127.0.0.1:18080\n"
        "  use_backend nope if { path /x }\n"
        "  use_backend t if { path /y }\n"
        "  stick on src table nosuch\n"
        "  errorfiles nosect\n"
        "  default_backend b\n"
        "backend b\n"
        "  option tcplog\n"
        "  stick-table type ip size 10 peers nopeers\n"
        "  http-check disable-on-404\n"
        "  server s1 127.0.0.1:18081 track b2/s9\n"
        "  server s2 127.0.0.1:18082 track s3\n"
        "  server s3 127.0.0.1:18083\n"
        "  server s4 127.0.0.1:18084 track s4\n"
        "  server s5 127.0.0.1:18085 track s2\n"
        "backend t\n"
        "  mode tcp\n"
        "  cookie SRV insert\n"
        "  option httplog\n"
        "  http-request deny\n"
        "  server s1 127.0.0.1:18081 check\n"
    ),
    "notcp.cfg": (
        "global\n"
        "  log 127.0.0.1:514 local0\n"
        "defaults\n"
        "  timeout client 1s\n"
        "  timeout server 1s\n"
        "  timeout connect 1s\n"
        "frontend f\n"
        "  mode tcp\n"
        "  log global\n"
        "  option httplog\n"
        "  bind 127.0.0.1:18080\n"
        "  default_backend b\n"
        "backend b\n"
        "  mode tcp\n"
        "  option httpslog\n"
        '  log-format "%ci"\n'
        "  balance uri\n"
        "  cookie X insert\n"
        "  server s1 127.0.0.1:18081 cookie a\n"
        "listen l\n"
        "  mode tcp\n"
        "  bind 127.0.0.1:18090\n"
        "  cookie X insert\n"
        "  monitor-uri /m\n"
        "  capture request header Host len 10\n"
        "  server s1 127.0.0.1:18081\n"
    ),
    "d/a.cfg": "global\n    maxconn 10\n",
    "d/b.cfg": f"{_T}listen l\n    bind 127.0.0.1:18001\n    server s 127.0.0.1:18002\n",
    "d/c.txt": "junk\n",
    "d/.h.cfg": "junk\n",
    "d/x.cfg.cfg": "junk\n",
    "empty/.keep": "",
}
COND = "1 && !0 && !((streq(a,b) || !streq(a,a) && 1) || strneq(a,b))"
CASES: dict[str, list[str]] = {
    "no-arguments": [],
    "help": ["-h"],
    "unknown-flag": ["-Z"],
    "not-a-flag": ["ok.cfg"],
    "version": ["-v"],
    "version-first": ["-v", "-Z"],
    "build-options": ["-vv"],
    "f-without-file": ["-f"],
    "S-without-address": ["-c", "-f", "ok.cfg", "-S"],
    "sf-not-a-pid": ["-sf", "abc"],
    "sf-zero": ["-sf", "0"],
    "x-without-socket": ["-x"],
    "cc-without-condition": ["-cc"],
    "dm-help": ["-dMhelp"],
    "check-valid": ["-c", "-f", "ok.cfg"],
    "check-invalid": ["-c", "-f", "bad.cfg"],
    "check-invalid-quiet": ["-c", "-q", "-f", "bad.cfg"],
    "check-no-listener": ["-c", "-f", "nol.cfg"],
    "check-no-listener-quiet": ["-c", "-q", "-f", "nol.cfg"],
    "check-zero-warning": ["-c", "-dW", "-f", "nol.cfg"],
    "check-warnings": ["-c", "-f", "warn.cfg"],
    "check-post-parse": ["-c", "-f", "post.cfg"],
    "check-after-reading": ["-c", "-f", "later.cfg"],
    "check-http-only-in-tcp": ["-c", "-f", "notcp.cfg"],
    "check-rules-unresolved": ["-c", "-f", "rules.cfg"],
    "check-directory": ["-c", "-f", "d"],
    "check-directory-then-file": ["-c", "-f", "d", "-f", "ok.cfg"],
    "check-missing-file": ["-c", "-f", "nothere.cfg"],
    "check-missing-then-valid": ["-c", "-f", "nothere.cfg", "-f", "ok.cfg"],
    "check-empty-directory": ["-c", "-f", "empty"],
    "check-double-dash": ["-c", "--", "ok.cfg", "d/b.cfg"],
    "check-chdir": ["-c", "-C", "d", "-f", "b.cfg"],
    "check-chdir-missing": ["-c", "-C", "nod", "-f", "b.cfg"],
    "check-dev-null": ["-c", "-f", "/dev/null"],
    "check-program": ["-c", "-f", "prog.cfg"],
    "check-program-master-worker": ["-c", "-W", "-f", "prog.cfg"],
    "cc-version-at-least": ["-cc", "version_atleast(2.4)"],
    "cc-version-too-new": ["-cc", "version_atleast(1024)"],
    "cc-version-before": ["-cc", "version_before(2.6.13)"],
    "cc-dev-version": ["-cc", "version_atleast(2.6-dev0)"],
    "cc-streq-quotes": ["-cc", "streq(\"foo bar\",'foo bar')"],
    "cc-streq-blanks": ["-cc", "streq( a ,a)"],
    "cc-env": ["-cc", 'defined(TESTVAR) && streq("$TESTVAR","1")'],
    "cc-undefined": ["-cc", "defined(NOT_A_TESTVAR)"],
    "cc-expression": ["-cc", COND],
    "cc-empty": ["-cc", ""],
    "cc-numbers": ["-cc", "-1000 && 200"],
    "cc-hex": ["-cc", "0x10 && !0"],
    "cc-trailing": ["-cc", "200rrr"],
    "cc-parenthesis": ["-cc", "!(0))"],
    "cc-unclosed": ["-cc", "(1"],
    "cc-quote": ["-cc", 'streq(a,"a)'],
    "cc-unknown-predicate": ["-cc", "foo(1)"],
    "cc-missing-argument": ["-cc", "streq(a)"],
    "cc-feature": ["-cc", "feature(QUIC)"],
}


def setup(directory: Path) -> None:
    for name, text in FILES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TESTVAR": "1"}


def normalise(text: str, version: str, exe: str) -> str:
    text = re.sub(r"\((\d+)\) : ", "(PID) : ", text)
    return text.replace(version, "VERSION").replace(f"path to executable is {exe}", "EXE")


def run(argv: list[str], directory: Path, program: list[str]) -> dict[str, object]:
    proc = subprocess.run(
        [*program, *argv],
        cwd=directory,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {"argv": argv, "status": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


MASTER_COMMANDS = {
    "help": "help",
    "unknown": "bogus",
    "worker-command-on-master": "show info",
    "no-such-worker": "@2 show info",
    "no-such-pid": "@!1 show info",
    "level": "operator; show cli level",
    "version": "show version",
    "processes": "show proc",
}


def capture_master(exe: str, version: str, directory: Path) -> dict[str, str]:
    """The master CLI's answers (`haproxy -W -S`), each on a connection of its own."""
    import socket
    import time

    sock, pidfile = directory / "master.sock", directory / "master.pid"
    proc = subprocess.Popen(
        [exe, "-W", "-S", str(sock), "-f", "prog.cfg", "-p", str(pidfile)],
        cwd=directory,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        time.sleep(1)
        answers = {}
        for name, command in MASTER_COMMANDS.items():
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(sock))
                s.sendall(command.encode() + b"\n")
                s.shutdown(socket.SHUT_WR)
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            answers[name] = data.decode().replace(version, "VERSION")
        return answers
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    exe = shutil.which("haproxy")
    assert exe is not None, "needs haproxy on PATH"
    version = subprocess.run([exe, "-v"], capture_output=True, text=True, check=True).stdout
    version = version.split()[2]
    assert version.startswith("2.6."), version
    goldens = {"haproxy": version, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp))
        for name, argv in CASES.items():
            got = run(argv, Path(tmp), [exe])
            for key in ("stdout", "stderr"):
                got[key] = normalise(str(got[key]), version, os.path.realpath(exe))
            goldens["cases"][name] = got  # type: ignore[index]
        goldens["master"] = capture_master(exe, version, Path(tmp))
    GOLDENS.write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
