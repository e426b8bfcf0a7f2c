"""ACLs and conditions, compiled and evaluated (src/acl.c, src/pattern.c; HAProxy 2.6).

An ACL is one or more expressions (every `acl NAME ...` line with that name adds one), each
a sample expression and a `Matcher`; it passes when any expression matches any value its
fetch yields (acl_exec_cond iterates multi-valued fetches such as `hdr()`).  A condition is
`if`/`unless`, alternatives separated by `or`/`||`, each a suite of `!`-able ACL names or
anonymous `{ ... }` ACLs that must all pass.

Results are three-valued as in acl.c: PASS, FAIL, and MISS when a fetch lacked data that
may still arrive (a `tcp-request content` rule before its inspect delay ends); negation
turns MISS into MISS.  `Cond.test` gives True/False, or None for MISS so that the caller
can wait; with `unless`, the result is inverted after MISS counts as a failure (acl_pass).
HAProxy's predefined ACLs (TRUE, FALSE, LOCALHOST, HTTP, METH_GET, ...) are compiled from
their definitions in acl.c default_acl_list (config/haproxy/compile_samples.py compiles
configurations into these objects).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.sample.expr import Expr, Wait
from pylvs.proto.sample.pattern import Matcher
from pylvs.proto.sample.stream import Stream

FAIL, MISS, PASS = 0, 1, 3

# acl.c default_acl_list
PREDEFINED: dict[str, tuple[str, ...]] = {
    "TRUE": ("always_true",),
    "FALSE": ("always_false",),
    "LOCALHOST": ("src", "127.0.0.1/8", "::1"),
    "HTTP": ("req.proto_http",),
    "HTTP_1.0": ("req.ver", "1.0"),
    "HTTP_1.1": ("req.ver", "1.1"),
    "HTTP_2.0": ("req.ver", "2.0"),
    "METH_CONNECT": ("method", "CONNECT"),
    "METH_DELETE": ("method", "DELETE"),
    "METH_GET": ("method", "GET", "HEAD"),
    "METH_HEAD": ("method", "HEAD"),
    "METH_OPTIONS": ("method", "OPTIONS"),
    "METH_POST": ("method", "POST"),
    "METH_PUT": ("method", "PUT"),
    "METH_TRACE": ("method", "TRACE"),
    "HTTP_URL_ABS": ("url_reg", "^[^/:]*://"),
    "HTTP_URL_SLASH": ("url_beg", "/"),
    "HTTP_URL_STAR": ("url", "*"),
    "HTTP_CONTENT": ("req.hdr_val(content-length)", "gt", "0"),
    "RDP_COOKIE": ("req.rdp_cookie_cnt", "gt", "0"),
    "REQ_CONTENT": ("req.len", "gt", "0"),
    "WAIT_END": ("wait_end",),
}
# Fetches whose value may still grow while data arrives (SMP_F_MAY_CHANGE with a sample:
# payload.c smp_fetch_len; a payload range that is all there is final, one that is not is
# a WAIT)
VOLATILE = frozenset({"req.len", "req_len", "res.len"})


@dataclass(frozen=True, slots=True)
class AclExpr:
    expr: Expr
    matcher: Matcher
    volatile: bool

    def result(self, s: Stream) -> int:
        res = FAIL
        for smp in self.expr.each(s):
            if isinstance(smp, Wait):
                return MISS
            if self.matcher.match(smp) is not None:
                return PASS
        if self.volatile and not s.final:
            res = MISS
        return res


@dataclass(frozen=True, slots=True)
class CompiledAcl:
    name: str
    exprs: tuple[AclExpr, ...]

    def result(self, s: Stream) -> int:
        res = FAIL
        for expr in self.exprs:
            res |= expr.result(s)
            if res == PASS:
                break
        return res


def _neg(res: int) -> int:
    return 3 >> res  # acl.c acl_neg


@dataclass(frozen=True, slots=True)
class Cond:
    """A compiled `if|unless` condition."""

    unless: bool
    suites: tuple[tuple[tuple[bool, CompiledAcl], ...], ...]
    text: str = ""

    def exec(self, s: Stream) -> int:
        """acl_exec_cond: PASS, FAIL or MISS before `unless` applies."""
        cond = FAIL
        for suite in self.suites:
            res = PASS
            for negate, acl in suite:
                term = acl.result(s)
                if negate:
                    term = _neg(term)
                res &= term
                if res != PASS:
                    break
            cond |= res
            if cond == PASS:
                break
        return cond

    def test(self, s: Stream) -> bool | None:
        """Whether the rule applies; None when data is missing (wait and try again)."""
        res = self.exec(s)
        if res == MISS:
            return None
        ok = res == PASS
        return not ok if self.unless else ok

    def holds(self, s: Stream) -> bool:
        """Whether the rule applies once all data is there (MISS counts as a failure)."""
        ok = self.exec(s) == PASS
        return not ok if self.unless else ok
