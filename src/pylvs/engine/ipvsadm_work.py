"""The slow parts of an `ipvsadm` request, off the event loop that forwards and sends VRRP.

Two things in a request can take long: name look-ups (a host name in `-a -r HOST`, `-R`
lines, and every address and port of a listing without `-n`; issue 18 item 12) and building
a big listing (14,000 connections in `-Lnc` stalled forwarding 0.2-0.6 s; item 17).  Here:

* parsing runs in a worker thread with a `BoundedLookups` resolver (each look-up bounded, the
  request's look-ups too); `-R` lines are parsed there as well, so their names are cached;
* a listing takes on the loop only what must be read there — the services' views and the
  data plane's connection rows (`DataPlane.connections_later`) — and is built and rendered
  in a worker thread;
* a command that changes the table runs on the loop as before (it is quick), with a resolver
  that only answers from the cache: whatever it asks was resolved while parsing.

The worker threads are pylvs's own (two of them), so a stuck look-up cannot starve
asyncio's default executor that other parts use.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

from pylvs.control.ipvsadm import command as ipvsadm_cmd
from pylvs.control.ipvsadm.args import parse as parse_ipvsadm
from pylvs.control.ipvsadm.lookups import BoundedLookups
from pylvs.control.ipvsadm.messages import Failure
from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.control.ipvsadm.restore import split_restore_lines
from pylvs.control.ipvsadm.session import render_list
from pylvs.control.ipvsadm.system_resolver import system_resolver
from pylvs.dataplane.base import DataPlane
from pylvs.engine.snapshot import conn_view, plane_snapshot

T = TypeVar("T")
Parsed = ipvsadm_cmd.Command | Failure


class IpvsadmWork:
    def __init__(self, lookups: BoundedLookups | None = None, workers: int = 2) -> None:
        self.lookups = lookups or BoundedLookups(system_resolver())
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pylvs-ipvsadm")

    async def call(self, fn: Callable[..., T], *args: object, **kw: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kw))

    async def parse(self, argv: list[str], stdin: str) -> tuple[Parsed, list[Parsed], Resolver]:
        """The command, the commands of its `-R` lines (or itself), and the request's
        resolver; every name they contain is looked up here, off the loop."""
        resolver = self.lookups.request()

        def work() -> tuple[Parsed, list[Parsed]]:
            cmd = parse_ipvsadm(["ipvsadm", *argv], resolver=resolver)
            if not isinstance(cmd, ipvsadm_cmd.Restore):
                return cmd, [cmd]
            lines = split_restore_lines(stdin)
            return cmd, [
                parse_ipvsadm(["ipvsadm", *t], reading_stdin=True, resolver=resolver) for t in lines
            ]

        cmd, lists = await self.call(work)
        return cmd, lists, resolver

    async def listing(
        self, cmd: ipvsadm_cmd.List | ipvsadm_cmd.Save, dp: DataPlane, resolver: Resolver
    ) -> str | Failure:
        """Read the plane on the loop (now, nothing awaited before), build and render in a
        worker thread."""
        conns = isinstance(cmd, ipvsadm_cmd.List) and cmd.what is ipvsadm_cmd.ListWhat.CONNECTIONS
        base = plane_snapshot(dp)
        rows = dp.connections_later() if conns else None

        def work() -> str | Failure:
            conn_views = tuple(conn_view(c) for c in rows()) if rows is not None else ()
            return render_list(cmd, replace(base, conns=conn_views), resolver)

        return await self.call(work)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.lookups.close()
