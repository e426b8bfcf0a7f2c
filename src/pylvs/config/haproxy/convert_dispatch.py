"""A backend that balances nothing: `dispatch ADDR:PORT` and `option transparent` (src/cfgparse.c
check_config_validity, src/backend.c assign_server/assign_server_address, HAProxy 2.6).

A backend without a `balance` line (its own or its defaults') that says `dispatch` sends every
stream to that address; one that says `option transparent` (or `transparent`) to the address
the client reached (as `set-dst`/`set-dst-port` left it).  Neither is a server: logs name
`<NOSRV>`, the stats list no row for it, and an HTTP connection to it is private to its client
connection (src/backend.c: a target that is not a server is never shared).  With a `balance`
line, `dispatch` is ignored with HAProxy's warning and `transparent` is an error; `dispatch`
wins over `transparent`.
"""

from __future__ import annotations

from pylvs.config.errors import Problems
from pylvs.config.haproxy.model import Proxy
from pylvs.model.proxy_spec import ServerSpec

NOSRV = "<NOSRV>"


def _transparent(proxy: Proxy) -> bool:
    return proxy.more.transparent or any(
        n == "transparent" and on for n, on, _ in proxy.options.others
    )


def direct_target(proxy: Proxy, problems: Problems) -> ServerSpec | None:
    """The address every stream of `proxy` goes to (address None: the client's destination),
    or None when it balances over its servers."""
    target = proxy.more.dispatch
    transparent = _transparent(proxy)
    if target is None and not transparent:
        return None
    kind = proxy.type_str
    if proxy.balance_loc is not None:
        if target is None:
            problems.error(
                proxy.loc, f"{kind} '{proxy.name}' cannot use both transparent and balance mode."
            )
        else:
            problems.warning(
                proxy.loc,
                f"dispatch address of {kind} '{proxy.name}' will be ignored in balance mode.",
            )
        return None
    if target is None:
        return ServerSpec(name=NOSRV, id=0, host="", address=None, port=None)
    return ServerSpec(name=NOSRV, id=0, host=target.host, address=target.ip, port=target.port)
