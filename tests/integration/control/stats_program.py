"""A small program serving the stats socket and page over a FakeRuntime, for the tests.

    python stats_program.py DIR [--timeout S] [--maxconn N]

Binds `DIR/admin.sock` (level admin, mode 600), `DIR/user.sock` (level user), a TCP socket
and a stats page on 127.0.0.1 (ports chosen by the kernel), prints one JSON line with the
TCP port and the page port once ready, and serves until it is terminated.  The runtime has
a frontend `fe` and a backend `be` with servers s1..s3 (HAProxy's round robin from
sched.haproxy), so commands change real balancer state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time

from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime, FakeServer
from pylvs.control.haproxy.web import StatsSettings
from pylvs.control.stats_http import PageListener, StatsPageServer
from pylvs.control.stats_socket import SocketSpec, StatsSocketServer
from pylvs.model.proxies import ProcessInfo
from pylvs.proto.stick import Level


async def main(directory: str, timeout: float, maxconn: int) -> None:
    servers = [FakeServer(f"s{i}", port=8000 + i) for i in (1, 2, 3)]
    runtime = FakeRuntime(
        [FakeProxy("fe", "frontend", "http"), FakeProxy("be", "backend", "http", servers=servers)],
        clock=time.time,
        info=ProcessInfo(maxconn=100, hard_maxconn=100, started=time.time()),
    )
    sockets = StatsSocketServer(
        runtime,
        [
            SocketSpec(f"{directory}/admin.sock", Level.ADMIN, mode=0o600),
            SocketSpec(f"{directory}/user.sock", Level.USER, mode=0o666),
            SocketSpec("ipv4@127.0.0.1:0", Level.OPERATOR),
        ],
        timeout=timeout,
        maxconn=maxconn,
        clock=time.time,
    )
    page = StatsPageServer(
        runtime,
        [
            PageListener(
                "127.0.0.1",
                0,
                StatsSettings("fe", uri="/stats", refresh=5, admin=(lambda r: True,)),
                request_timeout=timeout,
                keepalive_timeout=timeout,
            )
        ],
        on_exchange=lambda e: runtime.count_page(e.proxy, e.status, e.received, e.sent, e.first),
    )
    await sockets.start()
    await page.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps({"tcp": sockets.bound()[2].port, "page": page.ports[0]}), flush=True)
    await stop.wait()
    await sockets.close()
    await page.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--maxconn", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.directory, args.timeout, args.maxconn))
