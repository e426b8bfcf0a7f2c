"""The JSON schema of `show info json` / `show stat json` (`show schema json`, `;json-schema`).

HAProxy 2.6.12 serves a fixed document describing its JSON output (src/stats.c
stats_dump_json_schema); pylvs's JSON output is the same, so it serves the same document,
recorded from the real haproxy into the package's data (tests/data/haproxy/stats/capture.py
refreshes it).
"""

from __future__ import annotations

from importlib import resources

SCHEMA: str = resources.files("pylvs").joinpath("data/haproxy-stats-schema.json").read_text()
