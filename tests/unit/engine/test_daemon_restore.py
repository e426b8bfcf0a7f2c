"""`ipvsadm -R` runs its lines off the event loop: a restore of tens of thousands of lines costs
seconds of CPU (~100 µs a line), which on the loop stopped forwarding, checks and VRRP
adverts for as long.  The table lock still keeps other edits out while it runs."""

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from pylvs.control.ipvsadm import session
from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine import daemon as daemon_module
from pylvs.engine.daemon import Daemon, RunOptions


def test_a_restore_runs_while_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = session.run_command
    loop_ran = threading.Event()
    threads: list[threading.Thread] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        # Only the loop sets the event: run on the loop, this would wait in vain.
        assert loop_ran.wait(10), "the event loop did not run while -R ran"
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "run_command", watched)
    dp = FakeDataPlane()
    daemon = Daemon(RunOptions(str(tmp_path / "k.conf"), str(tmp_path / "s.sock")), dp)

    async def go() -> None:
        asyncio.get_running_loop().call_soon(loop_ran.set)
        text = "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n-L -n\n"
        r = await daemon.ipvsadm(["-R"], text)
        assert r.rc == 0, r.stderr
        assert "10.0.1.1:80" in r.stdout  # the listing line read the plane (on the loop)
        assert [len(e.dests) for e in daemon.tables.live.values()] == [1]

    asyncio.run(go())
    assert threads and threads[0] is not threading.main_thread()


def test_other_commands_stay_on_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single change is cheap: it runs where it is, without a thread hop."""
    real = session.run_command
    threads: list[threading.Thread] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "run_command", watched)
    daemon = Daemon(RunOptions(str(tmp_path / "k.conf"), str(tmp_path / "s.sock")), FakeDataPlane())
    r = asyncio.run(daemon.ipvsadm(["-A", "-t", "10.0.0.1:80"], ""))
    assert r.rc == 0 and threads == [threading.main_thread()]
