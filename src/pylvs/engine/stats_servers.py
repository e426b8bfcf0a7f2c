"""The stats socket(s) and stats page(s) a haproxy.cfg asks for, served against the live
runtime (engine/proxy_stats.py): `stats socket` lines of `global` (control/stats_socket.py,
HAProxy's runtime API at their level, `stats timeout` / `stats maxconn`) and every proxy with
`stats enable` (control/stats_http.py on each of its bound addresses, the proxy's `stats`
settings; `stats admin if|unless COND` is tested on the requester's address).
"""

from __future__ import annotations

import ipaddress

from pylvs.control.haproxy.web import AdminRule, PageRequest, StatsSettings
from pylvs.control.stats_http import PageListener, StatsPageServer
from pylvs.control.stats_socket import SocketSpec, StatsSocketServer
from pylvs.model.proxy_spec import ConnFacts, ConnTest, FrontendSpec, ListenAddress, ProxiesSpec
from pylvs.proto.stick import Level

from .proxy_stats import LiveProxies

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


def _admin_rule(test: ConnTest, address: ListenAddress) -> AdminRule:
    dst = address.host or ipaddress.ip_address(_ANY[address.family])

    def rule(request: PageRequest) -> bool:
        try:
            src = ipaddress.ip_address(request.client)
        except ValueError:
            return False
        return test.test(ConnFacts(src, 0, dst, address.port))

    return rule


def page_listeners(fe: FrontendSpec) -> list[PageListener]:
    page = fe.stats
    assert page is not None
    out: list[PageListener] = []
    for address in fe.addresses:
        settings = StatsSettings(
            proxy=fe.name,
            uri=page.uri,
            refresh=page.refresh_s,
            realm=page.realm,
            auth=page.auth,
            admin=tuple(_admin_rule(t, address) for t in page.admin),
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
            )
        )
    return out


class StatsServers:
    """Every stats socket and page of one configuration."""

    def __init__(self, live: LiveProxies, spec: ProxiesSpec) -> None:
        self.live = live
        self.sockets = StatsSocketServer(
            live,
            socket_specs(spec),
            timeout=spec.stats_timeout_ms / 1000,
            maxconn=spec.stats_maxconn,
        )
        listeners = [
            li for fe in spec.frontends if fe.stats is not None for li in page_listeners(fe)
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
