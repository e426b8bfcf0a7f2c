"""Build director specs from keepalived.conf text for the pure health tests."""

from __future__ import annotations

import textwrap

from pylvs.config.errors import Location
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.parser import load_text
from pylvs.health.effects import CheckerRef, LvsState
from pylvs.model.director import DirectorSpec


def config(text: str) -> KeepalivedConfig:
    result = load_text(textwrap.dedent(text), "test.conf")
    errors = [str(p) for p in result.problems if p.severity.value == "error"]
    assert not errors, errors
    return result.config


def spec(text: str) -> DirectorSpec:
    result = load_text(textwrap.dedent(text), "test.conf")
    converted = to_spec(result.config, result.problems, Location("test.conf", 1, 1))
    errors = [str(p) for p in result.problems if p.severity.value == "error"]
    assert not errors, errors
    return converted


def state(text: str) -> LvsState:
    return LvsState(spec(text).pools, router_id="LVS1")


def ref(st: LvsState, rs: int, check: int = 0, vs: int = 0) -> CheckerRef:
    ident = list(st.vs)[vs]
    keys = list(st.vs[ident].rs_conf)
    return CheckerRef(ident, keys[rs], check)
