"""`python -m pylvs.vrrp.run -f keepalived.conf [--config-id ID]`: VRRP only, until SIGTERM.

Loads the config (problems printed as `FILE:LINE:COL: error|warning: ...`; errors exit 1),
then runs a `VrrpManager` on the real host (`NetlinkHost`).  SIGTERM or SIGINT stop it the way
keepalived stops (priority-0 adverts, VIPs released, notify_stop); SIGHUP reloads the file.
Log lines go to stderr with a monotonic timestamp, keepalived's texts after it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from pylvs.config.registry import LoadOptions, UnknownFormatError, source_for
from pylvs.model.director import DirectorSpec
from pylvs.system.netlink import NetlinkHost
from pylvs.vrrp.manager import VrrpManager


def read_config(path: str, config_id: str | None) -> DirectorSpec | None:
    try:
        loaded = source_for(path, LoadOptions(config_id=config_id)).load(path)
    except UnknownFormatError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return None
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    return loaded.spec if loaded.ok else None


async def serve(path: str, config_id: str | None) -> int:
    config = read_config(path, config_id)
    if config is None:
        return 1
    host = NetlinkHost()
    manager = VrrpManager(config, host)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    reloads: asyncio.Queue[None] = asyncio.Queue()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, reloads.put_nowait, None)
    await manager.start()
    try:
        while not stopping.is_set():
            waiter = loop.create_task(stopping.wait())
            reload = loop.create_task(reloads.get())
            done, pending = await asyncio.wait({waiter, reload}, return_when="FIRST_COMPLETED")
            for task in pending:
                task.cancel()
            if reload in done:
                fresh = read_config(path, config_id)
                if fresh is not None:
                    await manager.reload(fresh)
    finally:
        await manager.stop()
        host.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pylvs.vrrp.run", description=__doc__)
    parser.add_argument("-f", "--use-file", required=True, dest="file")
    parser.add_argument("-i", "--config-id", default=None)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(created).6f pylvs-vrrp: %(message)s",
        stream=sys.stderr,
    )
    return asyncio.run(serve(args.file, args.config_id))


if __name__ == "__main__":
    sys.exit(main())
