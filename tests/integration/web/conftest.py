"""Fixtures for the web tests: the daemon tests' backend servers (daemon_helpers.py)."""

from __future__ import annotations

from tests.integration.daemon.daemon_helpers import backends  # noqa: F401 (a fixture)
