"""Loopback servers for the health-check integration tests, all on 127.0.0.1 port 0.

Each records the probes it answered and whether it answered them as failing, so a test can
check that a real server left the table after exactly retry+1 failing probes.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pylvs.config.errors import Location
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.parser import load_text
from pylvs.control.status import render_health
from pylvs.health.manager import HealthManager
from pylvs.model.director import DirectorSpec
from pylvs.model.snapshot import DirectorSnapshot
from pylvs.model.table import ServiceTable
from tests.port_helpers import free_udp_port as free_udp_port  # the tests import it from here


def run(body: Callable[[], Awaitable[None]], timeout: float = 20.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)

    asyncio.run(main())


def load(text: str) -> DirectorSpec:
    result = load_text(text, "health-test.conf")
    spec = to_spec(result.config, result.problems, Location("health-test.conf", 1, 1))
    errors = [str(p) for p in result.problems if p.severity.value == "error"]
    assert not errors, errors
    return spec


def status_text(m: HealthManager) -> str:
    """What `pylvs status` shows of health (no live table: health's own weights)."""
    pools, servers = m.views()
    return render_health(DirectorSnapshot(pools=pools, servers=servers))


class Recorder:
    """The on_change callback: keeps every table with the time it came."""

    def __init__(self) -> None:
        self.tables: list[tuple[float, ServiceTable]] = []

    async def __call__(self, table: ServiceTable) -> None:
        self.tables.append((time.monotonic(), table))

    @property
    def last(self) -> ServiceTable:
        return self.tables[-1][1]

    def dests(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.last.values():
            for d in entry.dests:
                out[str(d)] = d.weight
        return out


async def until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "") -> float:
    """Wait for `cond`; returns when it became true (monotonic)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)
    return time.monotonic()


def manager(config: DirectorSpec, rec: Recorder, **kw: object) -> HealthManager:
    import random

    opts: dict[str, object] = {"bootstrap": 0.0, "rng": random.Random(1), "file_poll": 0.05}
    opts.update(kw)
    return HealthManager(config, on_change=rec, hostname="lbhost", **opts)  # type: ignore[arg-type]


class Backend:
    """Common record: `fail` switches the answer; `answers` lists (time, failing)."""

    def __init__(self) -> None:
        self.fail = False
        self.answers: list[tuple[float, bool]] = []
        self.port = 0

    def note(self) -> bool:
        self.answers.append((time.monotonic(), self.fail))
        return self.fail

    def failing_since(self, t: float) -> int:
        return sum(1 for at, f in self.answers if f and at >= t)


class HttpBackend(Backend):
    def __init__(self, body: bytes = b"hello world") -> None:
        super().__init__()
        self.body = body
        self.status = 200
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self, ssl_ctx: object = None) -> HttpBackend:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_ctx)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            req = await r.readuntil(b"\r\n\r\n")
            self.requests.append(req)
            failing = self.note()
            status = 500 if failing else self.status
            w.write(b"HTTP/1.0 %d X\r\nContent-Length: %d\r\n\r\n" % (status, len(self.body)))
            w.write(self.body)
            await w.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            w.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


class SmtpBackend(Backend):
    async def start(self) -> SmtpBackend:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.helos: list[bytes] = []
        return self

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            failing = self.note()
            w.write(b"554 go away\r\n" if failing else b"220 test ESMTP\r\n")
            line = await r.readline()
            self.helos.append(line)
            w.write(b"250 hello\r\n")
            await r.readline()
            w.write(b"221 bye\r\n")
            await w.drain()
        except OSError:
            pass
        finally:
            w.close()

    async def close(self) -> None:
        self.server.close()


class DnsBackend(Backend, asyncio.DatagramProtocol):
    async def start(self) -> DnsBackend:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self.port = self.transport.get_extra_info("sockname")[1]
        self.queries: list[bytes] = []
        return self

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries.append(data)
        failing = self.note()
        qid = struct.unpack("!H", data[:2])[0]
        flags = 0x8182 if failing else 0x8180  # QR, RD, RA (+ SERVFAIL when failing)
        self.transport.sendto(struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + data[12:], addr)

    async def close(self) -> None:
        self.transport.close()


class UdpEcho(Backend, asyncio.DatagramProtocol):
    """Echoes datagrams; failing, it answers `bad` instead."""

    async def start(self) -> UdpEcho:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        failing = self.note()
        self.transport.sendto(b"bad" if failing else data, addr)

    async def close(self) -> None:
        self.transport.close()


class MiscScript(Backend):
    """A MISC_CHECK script: exits with the number in `code_file`, logs each run."""

    def __init__(self, tmp: Path) -> None:
        super().__init__()
        self.code_file = tmp / "code"
        self.runs = tmp / "runs"
        self.code_file.write_text("0\n")
        self.path = tmp / "check.sh"
        self.path.write_text(
            f'#!/bin/sh\nc=$(cat {self.code_file})\necho "$c" >> {self.runs}\nexit $c\n'
        )
        self.path.chmod(0o755)

    def set_code(self, code: int) -> None:
        self.code_file.write_text(f"{code}\n")

    def failing_runs(self) -> int:
        if not self.runs.exists():
            return 0
        return sum(1 for line in self.runs.read_text().split() if line not in ("0",))


def notify_script(tmp: Path) -> tuple[Path, Path]:
    """A notify script that appends its arguments to a log file."""
    out = tmp / "notify.log"
    script = tmp / "notify.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {out}\n')
    script.chmod(0o755)
    return script, out


def notes(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
