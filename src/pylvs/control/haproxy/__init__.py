"""HAProxy 2.6's runtime API (the stats socket) and stats page, as pure code over a snapshot.

The runtime implements `admin.Runtime` (a `StatsSource` giving `model.proxies` snapshots,
streams, captured errors and stick tables, and a `ProxyAdmin` applying changes);
`session.CliSession` is one stats socket connection (bytes in, HAProxy's answers out);
`web.handle` answers one request to a stats page.  The drivers are control/stats_socket.py
and control/stats_http.py; `fake.FakeRuntime` is an in-memory runtime over the real balancer.
"""

from pylvs.control.haproxy.admin import ErrorLog, ProxyAdmin, Runtime, StatsSource
from pylvs.control.haproxy.context import CliState, Context, SocketInfo
from pylvs.control.haproxy.session import CliSession
from pylvs.control.haproxy.web import PageRequest, PageResponse, StatsSettings, handle

__all__ = [
    "CliSession",
    "CliState",
    "Context",
    "ErrorLog",
    "PageRequest",
    "PageResponse",
    "ProxyAdmin",
    "Runtime",
    "SocketInfo",
    "StatsSettings",
    "StatsSource",
    "handle",
]
