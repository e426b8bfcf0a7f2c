"""How long a reload of a large config stops the event loop that forwards and sends adverts.

Run by hand: `python bench/reload_stall.py [--servers 6000] [--rounds 4]`.  The daemon runs
in this process (engine.daemon.Daemon with the proxy data plane, the garbage collector tuned
as `pylvs run` tunes it), with a probe on its event loop that wakes every 2 ms and records
how late it woke (wall clock) and how much CPU the loop's thread spent in that gap (what the
loop itself was busy with, which another process on a shared box cannot inflate), and the
longest garbage collection in CPU time (a collection stops every thread).  Each round
reloads the config with one real server more or less than the round before, then a copy
with an error in its last real server (a refused reload); an idle stretch as long as a
reload is measured too (the data plane's own housekeeping).  The config has `--servers` real
servers with a TCP_CHECK each (long warmup: checks do not fire during the run), 100 per
virtual server, as the robustness session's 6,000-server file.  To compare two trees, run it
with each one's `src` first on PYTHONPATH; the script uses only the daemon's public calls.
"""

import argparse
import asyncio
import gc
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

PER_VS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(servers: int) -> str:
    out: list[str] = []
    ports: set[int] = set()
    for v in range((servers + PER_VS - 1) // PER_VS):
        port = free_port()
        while port in ports:
            port = free_port()
        ports.add(port)
        out.append(
            f"virtual_server 127.0.0.1 {port} {{\n    delay_loop 3600\n"
            "    warmup 3600\n    lvs_sched wrr\n    lvs_method NAT\n    protocol TCP\n"
        )
        for r in range(min(PER_VS, servers - v * PER_VS)):
            out.append(
                f"    real_server 10.{v // 250}.{v % 250}.{r + 1} 80 {{\n        weight 1\n"
                "        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n"
            )
        out.append("}\n")
    return "".join(out)


class GcWatch:
    """The longest garbage collection since `reset`, in CPU time of the thread that ran it
    (a collection stops every thread, the event loop's included)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._t0 = 0.0
        gc.callbacks.append(self._cb)

    def reset(self) -> None:
        self.worst = 0.0

    def _cb(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.thread_time()
        else:
            took = time.thread_time() - self._t0
            if took > self.worst and os.environ.get("GCDEBUG"):
                print("gc", _info, round(took, 4), file=sys.stderr)
            self.worst = max(self.worst, took)


class LagProbe:
    """Wakes every `period` s; the worst lateness (wall) and CPU time of the loop thread
    between two wakes, since `reset`."""

    def __init__(self, period: float = 0.002) -> None:
        self.period = period
        self.worst_wall = 0.0
        self.worst_cpu = 0.0

    def reset(self) -> None:
        self.worst_wall = self.worst_cpu = 0.0

    async def run(self) -> None:
        while True:
            t0, c0 = time.monotonic(), time.thread_time()
            await asyncio.sleep(self.period)
            late = time.monotonic() - t0 - self.period
            busy = time.thread_time() - c0
            self.worst_wall = max(self.worst_wall, late)
            self.worst_cpu = max(self.worst_cpu, busy)


async def measure(servers: int, rounds: int) -> None:
    from pylvs.dataplane.proxy.plane import ProxyDataPlane
    from pylvs.engine.daemon import Daemon, RunOptions

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "keepalived.conf"
        text = config(servers)
        conf.write_text(text)
        daemon = Daemon(RunOptions(str(conf), os.path.join(tmp, "s.sock"), grace=0.1),
                        ProxyDataPlane())  # fmt: skip
        await daemon.start()
        probe = LagProbe()
        gcw = GcWatch()
        task = asyncio.get_running_loop().create_task(probe.run())
        rows: dict[str, list[tuple[float, ...]]] = {"reload": [], "refused": [], "idle": []}
        try:
            grown = text.replace(
                "    }\n}\n",
                "    }\n    real_server 10.255.255.1 80 {\n        weight 1\n    }\n}\n",
                1,
            )  # the first virtual server gains a real server
            for n in range(rounds):
                good = grown if n % 2 == 0 else text
                refused = "weight x".join(good.rsplit("weight 1", 1))  # an error on the last RS
                for name, body in (("reload", good), ("refused", refused)):
                    conf.write_text(body)
                    await asyncio.sleep(0.2)
                    probe.reset()
                    gcw.reset()
                    t0 = time.monotonic()
                    r = await daemon.reload()
                    took = time.monotonic() - t0
                    assert (r.rc == 0) == (name == "reload"), r.stderr[-300:]
                    await asyncio.sleep(0.05)
                    rows[name].append((took, probe.worst_wall, probe.worst_cpu, gcw.worst))
                probe.reset()
                gcw.reset()
                await asyncio.sleep(took)  # as long as the last reload, doing nothing
                rows["idle"].append((took, probe.worst_wall, probe.worst_cpu, gcw.worst))
        finally:
            task.cancel()
            await daemon.shutdown()
    print(f"{servers} real servers, {rounds} rounds (seconds; medians, max in brackets)")
    for name, vals in rows.items():
        cols = list(zip(*vals, strict=True))
        took_s, wall_s, cpu_s, gcs_s = (f"{statistics.median(c):.3f} [{max(c):.3f}]" for c in cols)
        print(
            f"  {name:8s} took {took_s}  worst loop gap {wall_s}  loop CPU in a gap {cpu_s}  "
            f"longest GC {gcs_s}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--servers", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import pylvs
    from pylvs.cli.run import tune_gc

    print("pylvs from", os.path.dirname(pylvs.__file__), file=sys.stderr)
    tune_gc()  # as `pylvs run` does
    asyncio.run(measure(args.servers, args.rounds))


if __name__ == "__main__":
    main()
