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
