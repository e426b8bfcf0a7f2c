"""Fixtures for the HAProxy-mode tests; the helpers live in hamode_helpers.py next to this."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import Proxy, Servers


@pytest.fixture
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Callable[..., Proxy]]:
    started: list[Proxy] = []

    def start(kind: str, config: str, wait: tuple[str, int] | None) -> Proxy:
        p = Proxy(tmp_path / f"{kind}-{len(started)}", kind, config, wait)
        started.append(p)
        return p

    try:
        yield start
    finally:
        for p in started:
            # whether it was still running when the test ended (a crash otherwise), and the
            # end of what it wrote: pytest shows this output only when the test failed
            code, stopped = p.proc.poll(), p.stopped
            p.stop()
            state = "stopped" if stopped else "running" if code is None else f"exited: {code}"
            print(f"--- {p.kind} ({p.tmp.name}): {state} at the end; its output ends:")
            print(p.output()[-3000:])
