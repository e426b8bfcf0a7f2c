"""The sticking rules' hooks: a backend's compiled `stick` rules turned into proto/stick's
rules with the evaluator they need (src/stream.c process_sticking_rules and
process_store_rules evaluate each rule's condition, then fetch its key with
stktable_fetch_key; HAProxy 2.6).

`Sticking.of(rules, tables)` keeps, for one backend, the request-side rules (`stick match`,
`stick on`, `stick store-request`) and the response-side ones (`stick store-response`);
`evaluate(stream)` gives proto/stick the callback that runs a rule's condition and key on
that stream (request rules see the request, response rules the response).  The driver then
calls proto.stick.rules.process_sticking_rules before balancing and process_store_rules
once the server connection is up, as stream.c does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from pylvs.proto.rules.engine import cond_passes
from pylvs.proto.rules.ruleset import StickRule as CompiledStick
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick.keys import Sample
from pylvs.proto.stick.rules import Evaluate
from pylvs.proto.stick.rules import StickRule as TableRule
from pylvs.proto.stick.table import StickTable


def table_sample(smp: Smp) -> Sample | None:
    """A sample as proto/stick's key conversion takes it."""
    if smp.type in (ty.IPV4, ty.IPV6):
        return ipaddress.ip_address(smp.text)
    if smp.type in (ty.SINT, ty.BOOL):
        return smp.num
    if smp.type in (ty.STR, ty.METH):
        return smp.text.decode("latin-1")
    if smp.type == ty.BIN:
        return smp.text
    return None


@dataclass(frozen=True, slots=True)
class Sticking:
    request: tuple[tuple[TableRule, CompiledStick], ...]
    response: tuple[tuple[TableRule, CompiledStick], ...]

    @classmethod
    def of(cls, rules: tuple[CompiledStick, ...], tables: Mapping[str, StickTable]) -> Sticking:
        request: list[tuple[TableRule, CompiledStick]] = []
        response: list[tuple[TableRule, CompiledStick]] = []
        for rule in rules:
            table = tables[rule.table]
            match = rule.kind in ("match", "on")
            store = rule.kind != "match"
            pair = (TableRule(table, match, store), rule)
            (response if rule.kind == "store-response" else request).append(pair)
        return cls(tuple(request), tuple(response))

    @property
    def request_rules(self) -> list[TableRule]:
        return [t for t, _ in self.request]

    @property
    def response_rules(self) -> list[TableRule]:
        return [t for t, _ in self.response]

    def evaluate(self, s: Stream) -> Evaluate:
        compiled = {id(t): c for t, c in (*self.request, *self.response)}

        def run(rule: TableRule) -> tuple[bool, Sample | None]:
            c = compiled[id(rule)]
            if not cond_passes(c.cond, s, may_miss=False):
                return False, None
            smp = c.expr.eval(s)
            return True, None if smp is None else table_sample(smp)

        return run
