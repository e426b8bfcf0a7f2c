"""The typed draft of a defaults, frontend, backend or listen section while it is read.

A proxy's draft starts as a copy of the draft of the defaults section it inherits from
(src/proxy.c `proxy_defproxy_cpy`: mode, options, timeouts, balance, retries, maxconn,
default-server, logs, stats, checks, cookie, captures, default_backend, ... - never binds,
servers, ACLs or the stick table); its own keywords then change it.  Collections are tuples, so
copying a draft is copying its fields.  `reader.py` turns a finished draft into `model.Proxy`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from pylvs.config.errors import Location
from pylvs.config.haproxy.checkset import CheckDraft
from pylvs.config.haproxy.model import (
    Acl,
    Bind,
    Capture,
    Cookie,
    Directives,
    ErrorFile,
    ForwardFor,
    LogTarget,
    Rule,
    Sample,
    ServerOptions,
    Stats,
    StickRule,
    SwitchRule,
    Target,
    Timeouts,
)
from pylvs.model.proxy_spec import CompressionSpec
from pylvs.proto.stick.spec import TableSpec
from pylvs.sched.haproxy.params import LbParams


@dataclass(slots=True)
class ServerDraft:
    loc: Location
    name: str
    target: Target
    options: ServerOptions
    id: int | None = None
    # the proxy's default-server as it stood at this line (HAProxy applies it then: a later
    # default-server does not reach the servers above it)
    defaults: ServerOptions | None = None


@dataclass(slots=True)
class OptionDraft:
    """`option` settings; None: not set here nor inherited (HAProxy's default applies)."""

    enabled: dict[str, bool] = field(default_factory=dict)
    args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    redispatch_interval: int = -1
    forwardfor: ForwardFor | None = None
    http_mode: str | None = None
    where: dict[str, Location] = field(default_factory=dict)  # the line of each option

    def copy(self) -> OptionDraft:
        return dataclasses.replace(
            self, enabled=dict(self.enabled), args=dict(self.args), where=dict(self.where)
        )


@dataclass(slots=True)
class ProxyDraft:
    kind: str  # "defaults" | "frontend" | "backend" | "listen"
    name: str
    loc: Location
    mode: str | None = None
    defaults: str | None = None
    id: int | None = None
    description: str | None = None
    disabled: bool = False
    binds: tuple[Bind, ...] = ()
    servers: tuple[ServerDraft, ...] = ()
    default_server: ServerOptions = field(default_factory=ServerOptions)
    timeouts: Timeouts = field(default_factory=Timeouts)
    maxconn: int | None = None
    backlog: int | None = None
    fullconn: int | None = None
    retries: int | None = None
    lb: LbParams | None = None  # `balance` and `hash-type` so far
    lb_loc: Location | None = None  # the `balance` line
    balance_sample: Sample | None = None
    hash_balance_factor: int | None = None
    options: OptionDraft = field(default_factory=OptionDraft)
    stick_table: TableSpec | None = None
    stick_table_loc: Location | None = None
    stick_rules: tuple[StickRule, ...] = ()
    acls: tuple[Acl, ...] = ()
    tcp_request_connection: tuple[Rule, ...] = ()
    tcp_request_session: tuple[Rule, ...] = ()
    tcp_request_content: tuple[Rule, ...] = ()
    tcp_request_inspect_delay_ms: int | None = None
    tcp_response_inspect_delay_ms: int | None = None
    tcp_response_content: tuple[Rule, ...] = ()
    http_request: tuple[Rule, ...] = ()
    http_response: tuple[Rule, ...] = ()
    http_after_response: tuple[Rule, ...] = ()
    redirects: tuple[Rule, ...] = ()
    use_backends: tuple[SwitchRule, ...] = ()
    use_servers: tuple[SwitchRule, ...] = ()
    default_backend: str | None = None
    default_backend_loc: Location | None = None
    checks: CheckDraft = field(default_factory=CheckDraft)
    stats: Stats = field(default_factory=Stats)
    cookie: Cookie | None = None
    captures: tuple[Capture, ...] = ()
    errorfiles: tuple[ErrorFile, ...] = ()
    errorloc: tuple[tuple[int, str, str], ...] = ()
    logs: tuple[LogTarget, ...] = ()
    log_tag: str | None = None
    log_format: str | None = None
    log_format_loc: Location | None = None
    unique_id_format: str | None = None
    unique_id_header: str | None = None
    monitor_uri: str | None = None
    http_reuse: str | None = None
    load_server_state_from_file: str | None = None
    server_state_file_name: str | None = None
    more: Directives = field(default_factory=Directives)

    @property
    def type_str(self) -> str:
        """How HAProxy's messages name this kind of proxy (proxy.c proxy_cap_str)."""
        return "proxy" if self.kind == "listen" else self.kind

    @property
    def defines_rules(self) -> bool:
        """Whether this (defaults) section has TCP/HTTP rules: HAProxy restricts who may
        inherit them (cfgparse-listen.c)."""
        return bool(
            self.tcp_request_connection
            or self.tcp_request_session
            or self.tcp_request_content
            or self.tcp_response_content
            or self.http_request
            or self.http_response
            or self.http_after_response
        )

    def inherit(self, kind: str, name: str, loc: Location, defaults: str | None) -> ProxyDraft:
        """A new proxy section's draft from this defaults draft (proxy_defproxy_cpy)."""
        # A defaults section has both sides (cfgparse-listen.c: `defaults B from A` copies
        # all of A into B, the frontend's settings and the backend's).
        fe = kind in ("frontend", "listen", "defaults")
        be = kind in ("backend", "listen", "defaults")
        d = ProxyDraft(kind, name, loc, defaults=defaults)
        d.mode, d.disabled = self.mode, self.disabled
        d.default_server = self.default_server
        d.options = self.options.copy()
        d.stats, d.logs, d.log_tag = self.stats, self.logs, self.log_tag
        d.unique_id_format, d.unique_id_header = self.unique_id_format, self.unique_id_header
        d.tcp_request_inspect_delay_ms = self.tcp_request_inspect_delay_ms
        t = self.timeouts
        keep: dict[str, int | None] = {"tarpit": t.tarpit, "http_request": t.http_request}
        keep["http_keep_alive"] = t.http_keep_alive
        if fe:
            keep.update(client=t.client, client_fin=t.client_fin)
            d.maxconn, d.backlog, d.captures = self.maxconn, self.backlog, self.captures
            d.monitor_uri, d.log_format = self.monitor_uri, self.log_format
            d.log_format_loc = self.log_format_loc
            d.default_backend, d.default_backend_loc = (
                self.default_backend,
                self.default_backend_loc,
            )
            d.tcp_request_connection = self.tcp_request_connection
            d.tcp_request_session = self.tcp_request_session
        if be:
            keep.update(connect=t.connect, server=t.server, server_fin=t.server_fin)
            keep.update(check=t.check, queue=t.queue, tunnel=t.tunnel)
            d.lb, d.lb_loc, d.balance_sample = self.lb, self.lb_loc, self.balance_sample
            d.hash_balance_factor, d.fullconn = self.hash_balance_factor, self.fullconn
            d.retries, d.cookie = self.retries, self.cookie
            d.http_reuse = self.http_reuse  # PR_O_REUSE_* are proxy options: copied
            d.checks = self.checks.inherit()
            d.load_server_state_from_file = self.load_server_state_from_file
            d.tcp_response_content = self.tcp_response_content
            d.tcp_response_inspect_delay_ms = self.tcp_response_inspect_delay_ms
        d.timeouts = Timeouts(**keep)
        d.tcp_request_content, d.http_request = self.tcp_request_content, self.http_request
        d.http_response, d.http_after_response = self.http_response, self.http_after_response
        d.errorfiles, d.errorloc = self.errorfiles, self.errorloc
        d.more = _inherited(self.more, fe=fe, be=be)
        return d


def _inherited(m: Directives, *, fe: bool, be: bool) -> Directives:
    """What proxy_defproxy_cpy copies of the less common directives, by side."""
    return Directives(
        source=m.source if be else None,
        transparent=m.transparent,
        persist_rdp_cookie=m.persist_rdp_cookie if be else None,
        errorfiles_refs=m.errorfiles_refs,
        http_errors=m.http_errors,
        errors_order=m.errors_order,
        rate_limit_sessions=m.rate_limit_sessions if fe else None,
        retry_on=m.retry_on if be else (),
        dynamic_cookie_key=m.dynamic_cookie_key if be else None,
        # proxy_defproxy_cpy copies the algorithm and type lists, not `offload`
        compression=(
            CompressionSpec(m.compression.algos, m.compression.types) if m.compression else None
        ),
        others=m.others,
    )
