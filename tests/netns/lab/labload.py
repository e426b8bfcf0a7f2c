"""Steady client load and VIP watching for the lab's end-to-end tests."""

import json
import subprocess
import sys
import threading
import time
from collections import Counter

from pylvs.lab import nodes
from pylvs.lab.commands import Lab


class Load:
    """One request every `every` seconds from the client for `duration` seconds, in the
    background; `.results()` gives [(monotonic send time, answer or "")]."""

    def __init__(self, lab: Lab, duration: float, every: float = 0.01, timeout: float = 0.5):
        argv = [sys.executable, "-m", "pylvs.lab.probe", "--host", str(lab.topo.vip)]
        argv += ["--every", str(every), "--duration", str(duration), "--timeout", str(timeout)]
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
            stdout=subprocess.PIPE, text=True, env=nodes._env(),
        )  # fmt: skip

    def results(self) -> list[tuple[float, str]]:
        out, _ = self.proc.communicate(timeout=120)
        return [(float(t), a) for t, a in json.loads(out)]


class VipWatch:
    """Polls who holds the VIP every 10 ms in a thread; `changes` is [(time, masters)]."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.changes: list[tuple[float, tuple[str, ...]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.01)

    def _sample(self) -> None:
        now = time.monotonic()
        masters = tuple(self.lab.masters())
        if not self.changes or self.changes[-1][1] != masters:
            self.changes.append((now, masters))

    def stop(self) -> None:
        """Stop polling, after one last look: a caller that has just seen a change itself
        (wait_masters) must find it here even if the thread's next poll never came."""
        self._stop.set()
        self._thread.join()
        self._sample()

    def first(self, masters: tuple[str, ...], after: float) -> float | None:
        for t, m in self.changes:
            if t >= after and m == masters:
                return t
        return None


def wait_masters(lab: Lab, masters: tuple[str, ...], timeout: float) -> float | None:
    """Seconds until exactly `masters` hold the VIP, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if tuple(lab.masters()) == masters:
            return time.monotonic() - start
        time.sleep(0.01)
    return None


def counts(results: list[tuple[float, str]]) -> Counter[str]:
    return Counter(a for _, a in results)
