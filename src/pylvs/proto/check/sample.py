"""Sample expressions and log-format strings as HAProxy evaluates them inside a check.

A check's rules may compute what they send or expect: `send-lf`, `uri-lf`, `on-error`,
`status-code`, `set-var`, `connect port <expr>`.  HAProxy evaluates them in the check's own
session (src/tcpcheck.c, src/sample.c, src/log.c sess_build_logline): the fetches see the
check's variables (`check.*`, `sess.*`, `proc.*`), the backend and server, and the response
(`res.payload` reads the raw input buffer of a TCP check; `status`, `res.hdr` & co. the
response of an HTTP check).

The fetches, converters, casts and variables are proto/sample's, the one sample evaluator of
pylvs: a check run is a proto/sample `Stream` (`Context`) whose response side is what the
check received, with a `check.` variable scope of its own and the date as its clock.  The
configuration reader compiles each expression (`Expr.compiled`); one naming a fetch or
converter proto/sample lacks stays uncompiled, gives no sample, and was warned about as
UNSUPPORTED.  A missing sample prints nothing (a check's formats have no LOG_OPT_MANDATORY).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pylvs.proto.rules import logfmt
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Expr as Compiled
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.stream import Process, ProxyRef, ServerRef, Session, Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import Vars, parse_var_name

BUFSIZE = 16384  # tune.bufsize: payload fetches refuse offsets past it

__all__ = ["BUFSIZE", "Context", "Expr", "HttpView", "LogFormat", "Smp", "evaluate", "render"]


@dataclass(frozen=True, slots=True)
class Expr:
    """A sample expression `fetch(args),conv(args),...` as written, and compiled (None
    when it names what proto/sample does not implement: it then gives no sample)."""

    fetch: str
    args: tuple[str, ...] = ()
    converters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    text: str = ""
    compiled: Compiled | None = None


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A log-format string: literal text and `%[expr]` parts, in order."""

    parts: tuple[str | Expr, ...]
    text: str = ""

    @staticmethod
    def literal(text: str) -> LogFormat:
        return LogFormat((text,), text)


@dataclass(frozen=True, slots=True)
class HttpView:
    """What an HTTP check's fetches see of the response (the HTX message)."""

    status: int
    reason: bytes
    version: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # names lower-cased, in order
    body: bytes = b""


class Context(Stream):
    """One check run as proto/sample sees it: the check's session on its backend and
    server, its `check.` variables, what it received (see the module doc)."""

    def __init__(
        self,
        *,
        process: Process,
        backend: str = "",
        backend_id: int = 0,
        server: str = "",
        server_id: int = 0,
        wall: float = 0.0,
    ) -> None:
        be = ProxyRef(backend, backend_id, mode="tcp")
        super().__init__(Session(process, be), now=wall)
        self.backend = be
        self.server = ServerRef(server, server_id)
        self.in_response = True  # a check's rules read the response side
        self.check_vars = Vars()

    def scope(self, scope: str) -> Vars | None:
        return self.check_vars if scope == "check" else super().scope(scope)

    def set_var(self, name: str, smp: Smp) -> None:
        """Set `scope.name` (a protocol check's preset variables)."""
        v = parse_var_name(name)
        found = self.scope(v.scope)
        if found is not None:
            found.set(v.name, smp)

    def received(self, payload: bytes | None, http: HttpView | None) -> None:
        """What the check has read so far: a TCP check's input buffer, or the response
        of an HTTP check once its head is complete."""
        self.res_payload = payload or b""
        if http is None:
            self.response, self.res_body = None, None
            return
        self.response = HttpMessage.make_response(
            http.status, http.reason, list(http.headers), http.version
        )
        self.res_body = http.body


def host_process(
    hostname: str, environ: Mapping[str, str], proc_vars: Mapping[str, Smp]
) -> Process:
    """The process a host's checks share: its name, environment, `proc.` variables."""
    process = Process(env=environ, hostname=hostname)
    for name, smp in proc_vars.items():
        process.vars.set(parse_var_name(name).name, smp)
    return process


def evaluate(expr: Expr, ctx: Context) -> Smp | None:
    """The sample an expression gives in `ctx`, or None (no sample, as HAProxy's fetch
    returning 0)."""
    return None if expr.compiled is None else expr.compiled.eval(ctx)


def to_str(smp: Smp) -> bytes | None:
    """sample_casts[*][STR]."""
    return ty.as_str(smp)


def to_int(smp: Smp) -> int | None:
    """sample_casts[*][SINT]: a string gives its leading (signed) digits."""
    out = ty.cast(smp, ty.SINT)
    return None if out is None else out.num


_NO_OPTIONS: frozenset[str] = frozenset()


class _NoSample:
    """An expression proto/sample does not implement: it gives no sample."""

    def eval_as(self, s: Stream, want: int) -> Smp | None:
        return None


_NO_SAMPLE = _NoSample()


def render(fmt: LogFormat, ctx: Context) -> bytes:
    """sess_build_logline over a format, by proto/rules' log-format renderer (the one
    renderer): each expression cast to a string up to its first NUL, nothing when it gives
    nothing: the checks parse their formats without LOG_OPT_MANDATORY (src/tcpcheck.c), so
    no "-" stands in for a missing sample (reg-test checks/http-check.vtc: `hdr x-test
    "server=%[var(check.server)]"` with the variable unset sends "server=")."""
    nodes: list[logfmt.Node] = []
    for part in fmt.parts:
        if isinstance(part, str):
            nodes.append(part.encode("latin-1", "replace"))
        else:
            expr: Any = part.compiled if part.compiled is not None else _NO_SAMPLE
            nodes.append(logfmt.SampleNode(expr, _NO_OPTIONS))
    return logfmt.LogFormat(tuple(nodes), http=False, text=fmt.text).build(ctx)
