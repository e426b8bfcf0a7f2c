"""What every test session does first: pylvs's modules compiled to bytecode.

The tests start pylvs as processes by the hundred (`sys.executable -m pylvs`: daemons,
`pylvs haproxy -c`, the reg-tests' `haproxy`).  With PYTHONDONTWRITEBYTECODE set, as on
these machines' shells, Python never writes the `__pycache__` files, so each of those
processes compiled every module it imports from source again: a daemon's start cost 1.1 s
of CPU instead of 0.35 s, a `pylvs haproxy -c` 0.4 s instead of 0.18 s.  On a loaded box
that made startup/default_rules.vtc (fifteen `-c` runs within varnishtest's 20 s) time
out, and it slowed every test that waits for a daemon.  compileall writes the files
whatever that variable says (it honours PYTHONPYCACHEPREFIX), and only those that are
missing or older than their source.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

import pylvs


def pytest_sessionstart(session: pytest.Session) -> None:
    compileall.compile_dir(Path(pylvs.__file__).parent, quiet=1)
