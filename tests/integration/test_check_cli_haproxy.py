"""`pylvs check -f haproxy.cfg` as a user runs it (issue 20 #1): the format told from the
content or forced with --format, every problem at once as FILE:LINE:COL, `haproxy -c`'s exit
statuses and verdict lines, --strict failing on pylvs's own warnings, --dump."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SEED = Path("/work/shared/seeds/configs/seed004.haproxy.cfg")
D = "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylvs", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    return str(path)


def test_a_valid_file(tmp_path: Path) -> None:
    r = check("-f", write(tmp_path, f"{D}listen l\n bind 127.0.0.1:8080\n server s 127.0.0.1:80\n"))
    assert (r.returncode, r.stdout, r.stderr) == (0, "Configuration file is valid\n", "")


def test_no_listener_exits_2(tmp_path: Path) -> None:
    r = check("-f", write(tmp_path, f"{D}backend b\n server s 127.0.0.1:80\n"))
    assert r.returncode == 2
    assert "no listener" in r.stdout


def test_every_problem_at_once_with_its_place(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{D}frontend f\n bind :80\n bogus 1\n use_backend nope\n"
        "backend b\n server s 127.0.0.1:80 wieght 2\n timeout connect 1x\n",
    )
    r = check("-f", path)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:8:2", "error"],
        [f"{path}:11:24", "error"],
        [f"{path}:12:18", "error"],
        [f"{path}:9:2", "error"],
    ]
    assert "did you mean 'weight' maybe ?" in lines[1]
    assert "unable to find required use_backend: 'nope'" in lines[3]
    assert "Traceback" not in r.stderr


def test_the_format_is_told_from_the_content_or_forced(tmp_path: Path) -> None:
    path = write(tmp_path, f"{D}listen l\n bind 127.0.0.1:8080\n server s 127.0.0.1:80\n")
    assert check("-f", path, "--format", "haproxy").returncode == 0
    as_keepalived = check("-f", path, "--format", "keepalived")
    assert as_keepalived.returncode != 0 and "Unknown keyword" in as_keepalived.stderr


def test_the_seed_passes_and_strict_fails_on_its_legacy_listen_lines() -> None:
    r = check("-f", str(SEED))
    assert r.returncode == 0, r.stderr
    assert [line.split(":")[1] for line in r.stderr.splitlines()] == ["16", "35"]
    assert check("--strict", "-f", str(SEED)).returncode == 1


def test_dump(tmp_path: Path) -> None:
    r = check("--dump", "-f", str(SEED))
    model = json.loads(r.stdout)["config"]
    ex = model["proxies"][0]
    assert (ex["name"], ex["balance"]["algorithm"], ex["stick_table"]["size"]) == (
        "Exchange2010",
        "roundrobin",
        10485760,
    )
