"""A proxy's compiled rules, and the verdicts the rule phases return to the driver.

`ProxyRules` holds everything one frontend, backend or listen section decides with: its
tcp-request connection/session/content and tcp-response content rules with the inspect
delays, its http-request/http-response/http-after-response rules, `redirect` rules, the
switching rules (`use_backend`, `default_backend`), `use-server` rules, its sticking rules
and its error pages.  config/haproxy/compile_rules.py builds them from a parsed
configuration; tcp_flow.py and http_flow.py run them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.proto.rules.acl import Cond
from pylvs.proto.rules.engine import Rule, cond_passes
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.rules.replies import ErrorPages, Response
from pylvs.proto.sample.expr import Expr
from pylvs.proto.sample.stream import ProxyRef, Stream


@dataclass(frozen=True, slots=True)
class SwitchRule:
    """`use_backend NAME|FMT [if|unless cond]`."""

    backend: LogFormat
    cond: Cond | None = None


@dataclass(frozen=True, slots=True)
class ServerRule:
    """`use-server NAME if|unless cond`."""

    server: str
    cond: Cond


@dataclass(frozen=True, slots=True)
class StickRule:
    """`stick match|on|store-request|store-response EXPR [table T] [if|unless cond]`."""

    kind: str
    expr: Expr
    table: str
    cond: Cond | None = None


@dataclass(frozen=True, slots=True)
class ProxyRules:
    name: str
    ref: ProxyRef
    mode: str = "http"  # "tcp" | "http"
    # A backend or listen section: what a `use_backend %[...]` name may name (proxy.c
    # proxy_be_by_name looks among proxies with PR_CAP_BE only).
    is_backend: bool = True
    tcp_connection: tuple[Rule, ...] = ()
    tcp_session: tuple[Rule, ...] = ()
    tcp_content: tuple[Rule, ...] = ()
    inspect_delay_ms: int = 0
    tcp_response: tuple[Rule, ...] = ()
    response_inspect_delay_ms: int = 0
    http_request: tuple[Rule, ...] = ()
    http_response: tuple[Rule, ...] = ()
    http_after: tuple[Rule, ...] = ()
    redirects: tuple[Rule, ...] = ()
    switching: tuple[SwitchRule, ...] = ()
    default_backend: str | None = None
    use_server: tuple[ServerRule, ...] = ()
    stick: tuple[StickRule, ...] = ()
    pages: ErrorPages = field(default_factory=ErrorPages)
    tarpit_ms: int = 0  # `timeout tarpit` (else `timeout connect`, else 0)
    # `stats admin if|unless COND`: the stats page's admin actions for a request whose
    # condition holds (http_handle_stats runs them on the page's request, first one wins)
    stats_admin: tuple[Cond, ...] = ()
    # `monitor-uri URI` (a frontend's): HAProxy answers it itself, 200, or 503 when one of
    # the `monitor fail if|unless COND` conditions holds
    monitor_uri: bytes | None = None
    monitor_fail: tuple[Cond, ...] = ()
    # `option http-restrict-req-hdr-names delete|reject` (None: preserve, the default)
    restrict_hdr_names: str | None = None
    # `unique-id-format` (a frontend's: each request's id, built once) and
    # `unique-id-header` (the request field that carries it to the server)
    unique_id: LogFormat | None = None
    unique_id_header: bytes | None = None
    # `force-persist` (True) and `ignore-persist` (False) rules in declaration order: the
    # first whose condition holds sets SF_FORCE_PRST or SF_IGNORE_PRST (stream.c
    # process_switching_rules, on the backend's persist_rules)
    persist: tuple[tuple[bool, Cond], ...] = ()
    # How many request and response capture slots the proxy has (nb_req_cap, nb_rsp_cap:
    # `capture request|response header`, `declare capture` and `http-request|response
    # capture ... len N` alike): %hr/%hs write every one, empty when nothing was captured;
    # None when it has none (a proxy with slots is not `ruleless` for the HTTP engine)
    capture_slots: tuple[int, int] | None = None

    def persistence(self, s: Stream) -> tuple[bool, bool]:
        """(force, ignore) for stream `s`: what its first matching persist rule says."""
        for force, cond in self.persist:
            if cond_passes(cond, s, may_miss=False):
                return force, not force
        return False, False

    # `option http-buffer-request`: a backend that has it (and the frontend not) waits for
    # the request body before its rules (proxy.c stream_set_backend), `timeout http-request`
    buffer_request: bool = False
    http_request_ms: int | None = None


# -- verdicts: how a phase ended, what the driver does next ----------------------------------


@dataclass(frozen=True, slots=True)
class Wait:
    """Call the phase again when more data arrives, or at `until` (seconds) if set (an
    inspect delay or a wait-for-body deadline)."""

    until: float | None = None


@dataclass(frozen=True, slots=True)
class Go:
    """Go on: the next phase (for a request: the `backend`, and the server `use-server`
    named if any)."""

    backend: str | None = None
    server: str | None = None


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the client's connection without answering (reject, silent-drop)."""

    silent: bool = False


@dataclass(frozen=True, slots=True)
class Respond:
    """Send `response` (http-after-response rules already applied), then end the stream;
    `head` tells whether a HEAD request asked (no body is written)."""

    response: Response


@dataclass(frozen=True, slots=True)
class Tarpit:
    """Hold the client until `until` (seconds), then send `response`."""

    response: Response
    until: float


@dataclass(frozen=True, slots=True)
class Service:
    """An applet answers (`use-service`): pylvs has `prometheus-exporter`."""

    name: str


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A tcp stream becomes an HTTP one (`switch-mode http`): the HTTP driver takes its
    connection, the bytes read so far included, with the mux `proto` names ("" the default:
    HTTP/1, or HTTP/2 on its preface; "h1"; "h2")."""

    proto: str


Verdict = Wait | Go | Drop | Respond | Tarpit | Service | Upgrade
