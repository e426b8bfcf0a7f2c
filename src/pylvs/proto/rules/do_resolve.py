"""`http-request|tcp-request content do-resolve(<var>,<resolvers>[,ipv4|ipv6]) <expr>`: the
expression's name resolved through a `resolvers` section, the address into the variable
(HAProxy 2.6 src/resolvers.c `resolv_action_do_resolve`, src/action.c
`act_resolution_cb`; configuration §4.2).

The name (the expression as a string) joins the section's resolution of that name and
family (shared with the servers and other streams asking the same); an answer still valid
(`hold valid` since the last resolution) is taken at once, else the resolution is run and
the stream waits for its end (the rules suspended, this rule run again).  A valid answer's
best address (the family asked first scores highest) goes into the variable; an error, a
name that is not one, or no resolvers running leave the variable alone.  In `tcp-request
content` a stream whose inspect delay is over does not wait (ACT_OPT_FINAL: the action ends
without an address); an HTTP request waits until the resolution ends (resolve_retries x
timeout retry at most).  The driver's resolvers (engine/proxy_resolvers.py) answer through
`DnsCalls`; the stream looks again every few milliseconds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol

from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Expr
from pylvs.proto.sample.vars import VarName

POLL = 0.005  # seconds between two looks at a pending resolution

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Asked(Protocol):
    """A stream's place in a resolution (its resolv_requester)."""

    def poll(self) -> tuple[bool, Address | None]:
        """(ended, the address it gave); an unended one is (False, None)."""
        ...

    def release(self) -> None: ...


class DnsCalls(Protocol):
    """What the running resolvers offer the action (engine/proxy_resolvers.py)."""

    def ask(self, resolvers: str, host: str, prefer: str) -> Asked | None:
        """Join the resolution of `host` (None: no such running section, or not a name)."""
        ...


@dataclass(frozen=True, slots=True)
class DoResolve:
    var: VarName | None  # None: a name HAProxy accepts and never sets (vars_hash_name fails)
    resolvers: str
    prefer: str  # "ipv4" | "ipv6"
    expr: Expr

    def run(self, x: Exec) -> Ret:
        txn = x.txn
        # ACT_OPT_FINAL: only tcp-request content's expired inspect delay (an HTTP request
        # is final only once its client is gone, which ends the stream here)
        final = x.final and x.rule_set.startswith("tcp-")
        pending = txn.resolving
        if isinstance(pending, _Pending):
            ended, address = pending.asked.poll()
            if not ended and not final:
                txn.wait_until = x.stream.now + POLL
                return Ret.YIELD
            txn.resolving = None
            pending.asked.release()
            if ended:
                self._store(x, address)
            return Ret.CONT
        dns: DnsCalls | None = getattr(x.stream.sess.process, "dns", None)
        smp = self.expr.eval_as(x.stream, ty.STR)
        if dns is None or smp is None:
            return Ret.CONT
        host = bytes(smp.text).decode("latin-1")
        asked = dns.ask(self.resolvers, host, self.prefer)
        if asked is None:
            return Ret.CONT
        ended, address = asked.poll()
        if ended or final:
            asked.release()
            if ended:
                self._store(x, address)
            return Ret.CONT
        txn.resolving = _Pending(asked)
        txn.wait_until = x.stream.now + POLL
        return Ret.YIELD

    def _store(self, x: Exec, address: Address | None) -> None:
        if address is None or self.var is None:
            return
        scope = x.stream.scope(self.var.scope)
        if scope is not None:
            kind = ty.IPV4 if address.version == 4 else ty.IPV6
            scope.set(self.var.name, ty.Smp(kind, address.packed))


@dataclass(frozen=True, slots=True)
class _Pending:
    asked: Asked
