"""Health driving the real proxy data plane: a backend killed under load is detected by
TCP_CHECK and, from then on, no new connection is sent to it (live connections are not cut
by the removal, as with IPVS)."""

from __future__ import annotations

import asyncio
import time

from pylvs.dataplane.proxy import ProxyDataPlane
from pylvs.model.table import ServiceTable, diff
from tests.integration.health.health_fixtures import load, manager, run, until
from tests.port_helpers import free_port


class Named:
    """Sends its name on accept; `kill()` stops listening."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.accepted = 0

    async def start(self) -> Named:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            w.write(self.name.encode() + b"\n")
            await w.drain()
            await r.read()
        except OSError:
            pass
        finally:
            w.close()

    async def kill(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def ask(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(2.0):
            line = await reader.readline()
    finally:
        writer.close()
    return line.decode().strip()


def test_no_new_connection_reaches_a_detected_dead_backend() -> None:
    async def body() -> None:
        a, b = await Named("a").start(), await Named("b").start()
        vport = free_port()
        text = f"""
virtual_server 127.0.0.1 {vport} {{
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  delay_loop 0.2
  warmup 0
  real_server 127.0.0.1 {a.port} {{
    TCP_CHECK {{
      connect_timeout 0.3
      retry 1
      delay_before_retry 0.1
    }}
  }}
  real_server 127.0.0.1 {b.port} {{
    TCP_CHECK {{
      connect_timeout 0.3
      retry 1
      delay_before_retry 0.1
    }}
  }}
}}
"""
        dp = ProxyDataPlane(housekeeping_interval=3600.0)
        await dp.start()
        applied = ServiceTable()
        detected: list[float] = []
        accepted_at_detection: list[int] = []

        async def on_change(table: ServiceTable) -> None:
            nonlocal applied
            await dp.apply(diff(applied, table))
            applied = table
            if applied and all(d.port != b.port for e in applied.values() for d in e.dests):
                detected.append(time.monotonic())
                accepted_at_detection.append(b.accepted)

        m = manager(load(text), on_change)  # type: ignore[arg-type]
        await m.start()
        answers: list[tuple[float, str]] = []
        stop = asyncio.Event()

        async def client() -> None:
            while not stop.is_set():
                started = time.monotonic()  # when the connection was opened
                try:
                    answers.append((started, await ask(vport)))
                except (OSError, TimeoutError):
                    answers.append((started, "error"))
                await asyncio.sleep(0.005)

        clients = [asyncio.create_task(client()) for _ in range(4)]
        await asyncio.sleep(0.5)
        assert {n for _, n in answers} == {"a", "b"}
        await b.kill()
        await until(lambda: bool(detected), what="detection")
        t_detect = detected[0]
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*clients)
        after = [n for t, n in answers if t > t_detect]
        assert len(after) > 20
        assert set(after) == {"a"}  # nothing new went to b, no error either
        assert b.accepted == accepted_at_detection[0]
        await m.stop()
        await dp.stop(0.5)
        await a.kill()

    run(body)
