"""A reload of a 6,000-server config does not stop the event loop (issue 18, fault 15).

The daemon forwards, checks and sends VRRP adverts on one event loop; a reload used to read
and parse the file on it (2.4 s of loop time for this config).  Now the file is read, parsed
and converted, and the new health state built, in worker threads with the garbage collector
off, and what is left on the loop is small.  A probe on the loop wakes every 2 ms; between
two wakes it takes the CPU time the loop's thread spent (the loop's own work: another process
on a shared box cannot inflate it), and every garbage collection's CPU time is taken too (a
collection stops all threads).  Both stay under 50 ms during the reload, and during a reload
that is refused for an error in its last line.  The speed itself is measured by
bench/reload_stall.py.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from pathlib import Path

import pytest

from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine.daemon import Daemon, RunOptions

pytestmark = pytest.mark.slow

SERVERS, PER_VS = 6000, 100
STALL = 0.050


def config(port: int) -> str:
    out: list[str] = []
    for v in range(SERVERS // PER_VS):
        out.append(
            f"virtual_server 127.0.0.1 {port + v} {{\n    delay_loop 3600\n    warmup 3600\n"
            "    lvs_sched wrr\n    lvs_method NAT\n    protocol TCP\n"
        )
        for r in range(PER_VS):
            out.append(
                f"    real_server 10.0.{v}.{r + 1} 80 {{\n        weight 1\n"
                "        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n"
            )
        out.append("}\n")
    return "".join(out)


class Stalls:
    """The loop thread's CPU time between two wakes of a 2 ms timer, and the CPU time of
    each garbage collection, worst since `reset`."""

    def __init__(self) -> None:
        self.loop = 0.0
        self.gc = 0.0
        self._gc_start = 0.0
        gc.callbacks.append(self._collected)

    def reset(self) -> None:
        self.loop = self.gc = 0.0

    def close(self) -> None:
        gc.callbacks.remove(self._collected)

    def _collected(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.thread_time()
        else:
            self.gc = max(self.gc, time.thread_time() - self._gc_start)

    async def probe(self) -> None:
        while True:
            before = time.thread_time()
            await asyncio.sleep(0.002)
            self.loop = max(self.loop, time.thread_time() - before)


def test_a_large_reload_and_a_refused_one_leave_the_loop_running(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1]) % 50000 + 1024
    text = config(port)
    grown = text.replace(
        "    }\n}\n", "    }\n    real_server 10.255.0.1 80 {\n        weight 1\n    }\n}\n", 1
    )
    refused = "weight x".join(grown.rsplit("weight 1", 1))  # an error in the last server
    conf = tmp_path / "keepalived.conf"
    conf.write_text(text)
    d = Daemon(RunOptions(str(conf), str(tmp_path / "s.sock"), grace=0.1), FakeDataPlane())
    stalls = Stalls()

    async def go() -> None:
        await d.start()
        probe = asyncio.get_running_loop().create_task(stalls.probe())
        try:
            seen: dict[str, tuple[float, float]] = {}
            for name, body, rc in (("reload", grown, 0), ("refused", refused, 1)):
                conf.write_text(body)
                await asyncio.sleep(0.05)
                stalls.reset()
                r = await d.reload()
                await asyncio.sleep(0.05)
                assert r.rc == rc, r.stderr[-500:]
                seen[name] = (stalls.loop, stalls.gc)
            assert len(d.tables.live.entries()[0].dests) == PER_VS + 1
            for name, (loop, collect) in seen.items():
                assert loop < STALL and collect < STALL, (name, seen)
        finally:
            probe.cancel()
            stalls.close()
            await d.shutdown()

    # As `pylvs run` freezes what exists before the daemon starts (cli/run.py tune_gc):
    # here that is also whatever the test session gathered, which a full collection would
    # walk.
    gc.collect()
    gc.freeze()
    try:
        asyncio.run(go())
    finally:
        gc.unfreeze()
