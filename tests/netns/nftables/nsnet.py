"""Throw-away network namespaces for the nftables netns tests.

Every namespace is named `pl<pid>-<role>` so parallel runs never collide, and `Lab.close()`
(called from fixture teardown, also after failures) kills the processes started in them and
deletes them.  Addresses are 10.x / fd00:x inside these namespaces only; nothing is added to
the host's own namespace and nothing routes out of the machine.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[2] / "src"


def missing_reason() -> str | None:
    """Why the netns tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and nftables)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"needs the {tool} tool"
    return None


class Lab:
    def __init__(self, tag: str) -> None:
        self.prefix = f"pl{os.getpid()}{tag}"
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen[str]] = []

    def ns(self, role: str) -> str:
        name = f"{self.prefix}-{role}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.namespaces.append(name)
        self.sh(name, "ip link set lo up")
        return name

    def sh(self, ns: str, command: str, check: bool = True) -> str:
        done = subprocess.run(
            ["ip", "netns", "exec", ns, "sh", "-c", command], capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{ns}: {command}: {done.stderr}")
        return done.stdout

    def veth(self, a: str, a_if: str, b: str, b_if: str) -> None:
        tmp_a, tmp_b = f"{self.prefix}a", f"{self.prefix}b"
        subprocess.run(
            ["ip", "link", "add", tmp_a[:15], "netns", a, "type", "veth", "peer", "name",
             tmp_b[:15], "netns", b],
            check=True,
        )  # fmt: skip
        self.sh(a, f"ip link set {tmp_a[:15]} name {a_if} && ip link set {a_if} up")
        self.sh(b, f"ip link set {tmp_b[:15]} name {b_if} && ip link set {b_if} up")

    def python(self, ns: str, script: str, *args: str) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=str(SRC))
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, str(HERE / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        return proc

    def backend(
        self, ns: str, name: str, port: int, proto: str = "tcp", bind: str = "0.0.0.0"
    ) -> None:
        proc = self.python(ns, "backend.py", name, str(port), proto, bind)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"

    def held_service(
        self, service: dict[str, Any], servers: list[str], vport: int, rport: int
    ) -> dict[str, Any]:
        """`service` moved to `vport`, its real servers to `rport`, where a `hold` backend
        (backend.py) is started in each of `servers` (named r1, r2, ... in order)."""
        for i, ns in enumerate(servers, 1):
            self.backend(ns, f"r{i}", rport, "hold")
        dests = [dict(d, port=rport) for d in service["dests"]]
        return dict(service, port=vport, dests=dests)

    def hold(self, ns: str, host: str, port: int) -> str:
        """Open a TCP connection from `ns` and keep it open (hold.py) until the lab closes;
        the name of the real server that answered."""
        proc = self.python(ns, "hold.py", host, str(port))
        assert proc.stdout is not None
        return proc.stdout.readline().split()[0]

    def client(self, ns: str, proto: str, host: str, port: int, n: int) -> list[str]:
        """The answers to `n` exchanges, one after the other (client.py)."""
        return self.timed_client(ns, proto, host, port, n)[0]

    def timed_client(
        self, ns: str, proto: str, host: str, port: int, n: int, source: str = ""
    ) -> tuple[list[str], float]:
        """The answers to `n` exchanges from `source` (default: the kernel's choice), and the
        seconds they took together."""
        env = dict(os.environ, PYTHONPATH=str(SRC))
        done = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, str(HERE / "client.py"), proto, host,
             str(port), str(n), source],
            capture_output=True, text=True, env=env, check=True, timeout=120,
        )  # fmt: skip
        out = json.loads(done.stdout)
        answers: list[str] = out["answers"]
        return answers, float(out["seconds"])

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        for name in self.namespaces:
            subprocess.run(["ip", "netns", "del", name], check=False)


class Director:
    """The data plane running in its namespace, driven over its stdin / stdout."""

    def __init__(self, lab: Lab, ns: str, *ingress: str) -> None:
        self.lab = lab
        self.ns = ns
        self.proc = lab.python(ns, "director.py", *ingress)

    def call(self, op: str, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("director exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def table(self, services: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("table", services=services)

    def text(self, op: str, **kw: Any) -> str:
        reply = self.call(op, **kw)
        text: str = reply["text"]
        return text

    def stop(self) -> None:
        self.call("stop")
        self.proc.wait(timeout=10)
