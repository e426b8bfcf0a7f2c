"""The stats socket(s) and stats page(s) a haproxy.cfg asks for, served against the live
runtime (engine/proxy_stats.py): `stats socket` lines of `global` (control/stats_socket.py,
HAProxy's runtime API at their level, `stats timeout` / `stats maxconn`) and every proxy with
`stats enable` (control/stats_http.py on each of its bound addresses, the proxy's `stats`
settings; `stats admin if|unless COND` is tested with the rules engine on the page's request:
its address, its method, path and headers, as http_handle_stats does).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from pylvs.control.haproxy.web import (
    AdminRule,
    PageRequest,
    PageResponse,
    StatsSettings,
    handle,
    matches,
)
from pylvs.control.stats_http import PageListener, StatsPageServer
from pylvs.control.stats_socket import SocketSpec, StatsSocketServer
from pylvs.dataplane.haproxy.http.exchange import Exchange
from pylvs.model.proxy_spec import BackendSpec, FrontendSpec, ListenAddress, ProxiesSpec
from pylvs.proto.rules.acl import Cond
from pylvs.proto.rules.replies import Response
from pylvs.proto.rules.ruleset import ProxyRules
from pylvs.proto.sample import HttpMessage, Process, Session, Stream
from pylvs.proto.stick import Level

from .proxy_stats import LiveProxies

log = logging.getLogger(__name__)
_LEVELS = {"user": Level.USER, "operator": Level.OPERATOR, "admin": Level.ADMIN}
_ANY = {4: "0.0.0.0", 6: "::"}


def socket_specs(spec: ProxiesSpec) -> list[SocketSpec]:
    return [
        SocketSpec(
            address=s.address,
            level=_LEVELS.get(s.level, Level.OPERATOR),
            mode=s.mode,
            uid=s.uid,
            gid=s.gid,
            expose_fd=s.expose_fd,
        )
        for s in spec.stats_sockets
    ]


def _admin_rule(
    cond: Cond,
    rules: ProxyRules,
    process: Process,
    address: ListenAddress,
    clock: Callable[[], float],
) -> AdminRule:
    dst = address.host or ipaddress.ip_address(_ANY[address.family])

    def rule(request: PageRequest) -> bool:
        try:
            src = ipaddress.ip_address(request.client)
        except ValueError:
            return False
        sess = Session(process, rules.ref, src=src, dst=dst, dst_port=address.port)
        fields = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in request.headers]
        message = HttpMessage.make_request(
            request.method.encode("latin-1"),
            request.target.encode("latin-1"),
            fields,
            request.version.encode("latin-1"),
        )
        stream = Stream(sess, now=clock(), request=message)
        return cond.holds(stream)

    return rule


def page_listeners(fe: FrontendSpec, live: LiveProxies) -> list[PageListener]:
    page = fe.stats
    assert page is not None
    out: list[PageListener] = []
    rules = live.rt.proxy_rules(fe.name)
    admin = rules.stats_admin if rules is not None else ()
    for address in fe.addresses:
        settings = StatsSettings(
            proxy=fe.name,
            uri=page.uri,
            refresh=page.refresh_s,
            realm=page.realm,
            auth=page.auth,
            admin=tuple(
                _admin_rule(c, rules, live.rt.process, address, live.table_now)
                for c in admin
                if rules is not None
            ),
            hide_version=page.hide_version,
            legends=page.legends,
            node=page.node,
            scope=page.scope,
        )
        host = str(address.host) if address.host is not None else _ANY[address.family]
        out.append(
            PageListener(
                host=host,
                port=address.port,
                settings=settings,
                request_timeout=(page.request_ms or 10000) / 1000,
                keepalive_timeout=(page.keepalive_ms or 10000) / 1000,
                fd=address.fd,
            )
        )
    return out


def backend_page(be: BackendSpec, live: LiveProxies) -> Callable[[Exchange], Response | None]:
    """The stats applet of a mode http backend (`stats enable` there): a request that
    reached the backend and names its URI (http_stats_check_uri) gets the page, built as the
    page's own listeners build it (control/haproxy/web.py: auth, options, admin); `stats
    admin` conditions are tested on the request's own stream.  The body is given with its
    length rather than in chunks (the client reads the same bytes); the driver runs the
    http-after-response rules on it."""
    page = be.stats
    assert page is not None
    rules = live.rt.proxy_rules(be.name)
    admin = rules.stats_admin if rules is not None else ()

    def answer(x: Exchange) -> Response | None:
        head, stream = x.request, x.stream
        if head is None:
            return None
        settings = StatsSettings(
            proxy=be.name, uri=page.uri, refresh=page.refresh_s, realm=page.realm,
            auth=page.auth,
            admin=tuple(_holds(c, stream) for c in admin),
            hide_version=page.hide_version, legends=page.legends, node=page.node,
            scope=page.scope,
        )  # fmt: skip
        request = PageRequest(
            method=head.method.decode("latin-1"),
            target=head.target.decode("latin-1"),
            version=head.version.decode("latin-1"),
            headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in head.fields),
            client=x.src[0],
        )
        if not matches(settings, request):
            return None
        got = handle(settings, request, live)
        for action in got.actions:
            log.info("stats page %s: %s", be.name, action)
        return _response(got)

    return answer


def _holds(cond: Cond, stream: Stream | None) -> AdminRule:
    return lambda _request: stream is not None and cond.holds(stream)


def _response(page: PageResponse) -> Response:
    fields = [
        (n.encode("latin-1"), v.encode("latin-1"))
        for n, v in page.headers
        if n not in ("transfer-encoding", "content-length")
    ]
    if not page.head_only:
        fields.append((b"content-length", b"%d" % len(page.body)))
    head = HttpMessage.make_response(page.status, page.reason.encode(), fields)
    return Response(head, page.body)


class StatsServers:
    """Every stats socket and page of one configuration."""

    def __init__(self, live: LiveProxies, spec: ProxiesSpec) -> None:
        self.live = live
        for be in spec.backends:
            if be.stats is not None and be.mode == "http":
                live.rt.http.pages[be.name] = backend_page(be, live)
        self.sockets = StatsSocketServer(
            live,
            socket_specs(spec),
            timeout=spec.stats_timeout_ms / 1000,
            maxconn=spec.stats_maxconn,
        )
        listeners = [
            li for fe in spec.frontends if fe.stats is not None for li in page_listeners(fe, live)
        ]
        self.pages = StatsPageServer(live, listeners, on_exchange=live.count_page)

    async def start(self) -> None:
        await self.sockets.start()
        try:
            await self.pages.start()
        except BaseException:
            await self.sockets.close()
            raise

    async def close(self) -> None:
        await self.pages.close()
        await self.sockets.close()
