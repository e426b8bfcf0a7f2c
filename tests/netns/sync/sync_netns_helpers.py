"""Network namespaces for tests/netns/sync: a switch namespace with a bridge, and nodes.

Every name starts with `s<pid>` so parallel runs never collide; the bridge lives in its own
namespace, so nothing touches the host's network.  Node n has eth0 with 10.88.0.n/24 and
fd88::n/64 (no DAD).  The daemons run in `NsLoop`s: a thread that moved itself into a
node's namespace with setns(2) and runs an asyncio event loop there (sockets made by that
thread belong to the namespace).  Everything is deleted in teardown, even after a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "bridge"):
        if shutil.which(tool) is None:
            return f"needs `{tool}`"
    return None


def sh(*args: str) -> None:
    subprocess.run(args, capture_output=True, text=True, check=True, timeout=30)


def setns(name: str) -> None:
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns", name)
    finally:
        os.close(fd)


class NsLoop:
    """An asyncio event loop running in a thread inside network namespace `ns`."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.cleanups: list[Callable[[], object]] = []  # run in the loop before it stops
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        setns(self.ns)
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args) run in the loop's thread (inside the namespace); its result."""

        async def run() -> Any:
            return fn(*args)

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return future.result(30)

    def until(self, pred: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait (in the test's thread) until pred(), evaluated in the loop, holds."""
        end = self.loop.time() + timeout
        while True:
            if self.call(pred):
                return True
            if self.loop.time() > end:
                return False
            concurrent.futures.wait([], timeout=0.05)

    def stop(self) -> None:
        for cleanup in self.cleanups:
            self.call(cleanup)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Net:
    def __init__(self) -> None:
        self.prefix = f"s{os.getpid()}"
        self.switch = f"{self.prefix}sw"
        self.namespaces: list[str] = []
        self.loops: list[NsLoop] = []
        self._ns(self.switch)
        sh("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.switch, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", self.switch, "link", "set", "br0", "up")

    def _ns(self, name: str) -> None:
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def node(self, n: int) -> str:
        ns = f"{self.prefix}n{n}"
        self._ns(ns)
        port = f"{self.prefix}p{n}"
        sh(
            "ip",
            "link",
            "add",
            port,
            "netns",
            self.switch,
            "type",
            "veth",
            "peer",
            "eth0",
            "netns",
            ns,
        )
        sh("ip", "-n", self.switch, "link", "set", port, "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", f"10.88.0.{n}/24", "dev", "eth0")
        sh("ip", "-n", ns, "addr", "add", f"fd88::{n}/64", "dev", "eth0", "nodad")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        # a new bridge port forwards only once the carrier change went through linkwatch
        # (up to a second): until then its first datagrams would be lost
        deadline = time.monotonic() + 10
        while "forwarding" not in self._port_state(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return ns

    def _port_state(self, port: str) -> str:
        done = subprocess.run(
            ["bridge", "-n", self.switch, "-j", "link", "show", "dev", port],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            return " ".join(str(link.get("state")) for link in json.loads(done.stdout or "[]"))
        except json.JSONDecodeError:
            return ""

    def loop(self, ns: str) -> NsLoop:
        loop = NsLoop(ns)
        self.loops.append(loop)
        return loop

    def close(self) -> None:
        for loop in self.loops:
            loop.stop()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
