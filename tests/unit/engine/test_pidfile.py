"""Pid files: keepalived's places, one daemon per file, errors that name the path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pylvs.engine.pidfile import PidFile, PidFileError, PidFiles, default_paths, read_pid


def test_acquire_writes_our_pid_and_release_removes_it(tmp_path: Path) -> None:
    f = PidFile(str(tmp_path / "run" / "keepalived.pid"))
    f.acquire()
    assert read_pid(f.path) == os.getpid()
    f.release()
    assert not os.path.exists(f.path)


def test_a_second_holder_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    first = PidFile(str(tmp_path / "k.pid"))
    first.acquire()
    try:
        with pytest.raises(PidFileError) as e:
            PidFile(first.path).acquire()
        assert first.path in str(e.value) and "already running" in str(e.value)
        assert f"pid {os.getpid()}" in str(e.value)
        assert read_pid(first.path) == os.getpid()  # the refused one did not touch it
    finally:
        first.release()


def test_stale_pid_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "k.pid"
    path.write_text("999999999\n")  # above pid_max: no such process
    f = PidFile(str(path))
    f.acquire()
    assert read_pid(str(path)) == os.getpid()
    f.release()


def test_pid_of_a_live_process_that_is_no_director_is_stale(tmp_path: Path) -> None:
    # After a reboot the pid in /run may be anybody's: keepalived would believe it, pylvs
    # only believes a keepalived or a pylvs.
    path = tmp_path / "k.pid"
    path.write_text(f"{os.getppid()}\n")  # pytest's parent: a shell, not a director
    f = PidFile(str(path))
    if "pylvs" in Path(f"/proc/{os.getppid()}/cmdline").read_text(errors="replace"):
        pytest.skip("the parent process is a pylvs command")
    f.acquire()
    f.release()


def test_release_keeps_a_file_that_names_someone_else(tmp_path: Path) -> None:
    f = PidFile(str(tmp_path / "k.pid"))
    f.acquire()
    Path(f.path).write_text("1\n")  # replaced behind our back
    f.release()
    assert read_pid(f.path) == 1


def test_all_or_none(tmp_path: Path) -> None:
    held = PidFile(str(tmp_path / "keepalived_vrrp.pid"))
    held.acquire()
    files = PidFiles(default_paths(directory=str(tmp_path)))
    try:
        with pytest.raises(PidFileError):
            files.acquire()
        assert not (tmp_path / "keepalived.pid").exists()  # taken, then given back
    finally:
        held.release()


def test_default_paths_are_keepalived_s() -> None:
    p = default_paths(directory="/run")
    assert (p.main, p.vrrp, p.checkers) == (
        "/run/keepalived.pid",
        "/run/keepalived_vrrp.pid",
        "/run/keepalived_checkers.pid",
    )
    assert default_paths(directory="/run", with_vrrp=False).vrrp is None  # -C: no VRRP file
    assert default_paths(directory="/run", with_checkers=False).checkers is None  # -P
    assert default_paths(main="/x/a.pid", directory="/run").main == "/x/a.pid"


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda d: str(d / "file" / "k.pid"), "give another path with -p/--pid"),
        (lambda d: str(d / "link.pid"), "symbolic link"),
    ],
)
def test_errors_name_the_path_and_what_to_do(
    tmp_path: Path, make: Callable[[Path], str], hint: str
) -> None:
    (tmp_path / "file").write_text("")
    (tmp_path / "link.pid").symlink_to(tmp_path / "elsewhere")
    path = make(tmp_path)
    with pytest.raises(PidFileError) as e:
        PidFile(path).acquire()
    assert path in str(e.value) and hint in str(e.value)
