"""The nft driver: the only module that runs `nft`.

Scripts go to `nft -f -` on stdin: one invocation is one netlink batch, which the kernel
commits atomically or not at all (nf_tables_api.c `nf_tables_commit` / `__nf_tables_abort`),
so a failed update leaves the previous ruleset in place.  Listings use `nft -j` (JSON) and
are parsed by counters.py.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess

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

    def run_sync(self, script: str) -> None:
        done = subprocess.run(
            [self.binary, "-f", "-"], input=script.encode(), capture_output=True, check=False
        )
        if done.returncode != 0:
            raise NftError(done.stderr.decode(errors="replace").strip())

    async def dump(self, family: str, table: str) -> TableDump:
        """Counters and set elements of one table (empty when the table does not exist)."""
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-j",
            "list",
            "table",
            family,
            table,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            return TableDump({}, {})
        return parse_table(out.decode())
