"""What a listing asks of the data plane: only `ipvsadm -c` reads the connection list, which
on the kernel data plane is a full read of conntrack and the DR flow maps; the listings that
show numbers let the plane read them first (`refresh`, awaited: the kernel plane reads off the
event loop), the others (-S, --timeout) and the changes do not."""

import asyncio
from pathlib import Path

from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine.daemon import Daemon, RunOptions
from pylvs.proto.conntrack.table import ConnEntry


class CountingPlane(FakeDataPlane):
    def __init__(self) -> None:
        super().__init__()
        self.conn_reads = 0
        self.refreshes: list[bool] = []

    async def refresh(self, *, connections: bool = False) -> None:
        self.refreshes.append(connections)

    def connections(self, now: float | None = None) -> list[ConnEntry]:
        self.conn_reads += 1
        return super().connections(now)


def test_only_the_connection_listing_reads_connections(tmp_path: Path) -> None:
    dp = CountingPlane()
    daemon = Daemon(RunOptions(str(tmp_path / "k.conf"), str(tmp_path / "s.sock")), dp)

    async def run(*argv: str) -> int:
        return (await daemon.ipvsadm(list(argv), "")).rc

    async def go() -> None:
        for argv in (["-Ln"], ["-Ln", "--stats"], ["-Ln", "--rate"], ["-Sn"], ["-L", "--timeout"]):
            assert await run(*argv) == 0
        assert dp.conn_reads == 0
        assert dp.refreshes == [False, False, False]  # -Ln, --stats, --rate
        assert await run("-A", "-t", "10.0.0.1:80") == 0
        assert await run("-Lnc") == 0
        assert dp.conn_reads == 1
        assert dp.refreshes == [False, False, False, True]

    asyncio.run(go())


def test_a_restore_that_lists_lets_the_plane_read_first(tmp_path: Path) -> None:
    """`-R` input may list between its changes (ipvsadm runs each line at once): the plane
    reads first when a line lists numbers, with the connections when one is `-L -c`."""
    dp = CountingPlane()
    daemon = Daemon(RunOptions(str(tmp_path / "k.conf"), str(tmp_path / "s.sock")), dp)

    async def restore(text: str) -> int:
        return (await daemon.ipvsadm(["-R"], text)).rc

    async def go() -> None:
        assert await restore("-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n") == 0
        assert dp.refreshes == []
        assert await restore("-A -t 10.0.0.2:80\n-L -n\n-L --timeout\n") == 0
        assert dp.refreshes == [False]
        assert await restore("-L -n -c\n-A -t 10.0.0.3:80\n") == 0
        assert dp.refreshes == [False, True] and dp.conn_reads == 1

    asyncio.run(go())


def test_sync_daemon_commands_are_refused_in_a_restore_too(tmp_path: Path) -> None:
    """--start-daemon fails as a failed kernel call (255) on its own and on a `-R` line,
    where it used to be taken silently (and `-L --daemon` then showed a daemon)."""
    dp = CountingPlane()
    daemon = Daemon(RunOptions(str(tmp_path / "k.conf"), str(tmp_path / "s.sock")), dp)

    async def go() -> None:
        alone = await daemon.ipvsadm(["--start-daemon", "master"], "")
        assert alone.rc == 255 and "not available" in alone.stderr and alone.stderr.endswith("\n")
        r = await daemon.ipvsadm(["-R"], "--start-daemon master\n-A -t 10.0.0.1:80\n")
        assert r.rc == 0 and "not available" in r.stderr  # a kernel error does not end -R
        listed = await daemon.ipvsadm(["-L", "--daemon"], "")
        assert (listed.rc, listed.stdout) == (0, "")
        assert "10.0.0.1:80" in (await daemon.ipvsadm(["-Sn"], "")).stdout

    asyncio.run(go())
