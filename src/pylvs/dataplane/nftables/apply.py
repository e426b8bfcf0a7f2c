"""The nft driver: the only module that runs `nft`.

Scripts go to `nft -f -` on stdin: one invocation is one netlink batch, which the kernel
commits atomically or not at all (nf_tables_api.c `nf_tables_commit` / `__nf_tables_abort`),
so a failed update leaves the previous ruleset in place.  Listings use `nft -j` (JSON) and
are parsed by counters.py.  `list counters table` prints only the named counters: a DR flow
map can hold 10^5 elements, and listing them every second cost more CPU than the forwarding.
"""

from __future__ import annotations

import asyncio
import shutil

from .counters import TableDump, parse_table


class NftError(RuntimeError):
    """nft refused a script or a listing (its stderr is the message)."""


class Nft:
    def __init__(self, binary: str = "nft") -> None:
        found = shutil.which(binary)
        if found is None:
            raise NftError(f"{binary} not found: the nftables data plane needs the nft tool")
        self.binary = found

    async def run(self, script: str) -> None:
        """Apply `script` atomically."""
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-f",
            "-",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate(script.encode())
        if proc.returncode != 0:
            raise NftError(err.decode(errors="replace").strip() or f"nft exit {proc.returncode}")

    def _listing(self, family: str, table: str, counters_only: bool) -> list[str]:
        what = ["counters", "table"] if counters_only else ["table"]
        return [self.binary, "-j", "list", *what, family, table]

    async def dump(self, family: str, table: str, *, counters_only: bool = False) -> TableDump:
        """Counters (and unless `counters_only`, set elements) of one table; empty if absent."""
        proc = await asyncio.create_subprocess_exec(
            *self._listing(family, table, counters_only),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            return TableDump({}, {})
        if counters_only:
            return parse_table(out.decode())
        # A full listing holds the dynamic sets (10^5 elements and more at high connection
        # rates): parsed in a worker thread, so the loop goes on serving VRRP and checks.
        return await asyncio.to_thread(parse_table, out.decode())
