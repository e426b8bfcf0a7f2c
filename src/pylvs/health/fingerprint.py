"""Comparable identity of a checker's configuration, without source locations.

A reload keeps a checker's state when its virtual server, real server and configuration are
unchanged (keepalived's per-checker `compare` functions, check/check_daemon.c
`migrate_checkers`); moving a block to another line of the file must not count as a change,
so `loc` fields are left out.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def sans_loc(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (f.name, sans_loc(getattr(value, f.name)))
                for f in dataclasses.fields(value)
                if f.name != "loc"
            ),
        )
    if isinstance(value, tuple | list):
        return tuple(sans_loc(v) for v in value)
    return value
