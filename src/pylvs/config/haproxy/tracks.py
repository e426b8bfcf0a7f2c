"""`track [PROXY/]SERVER`: what HAProxy 2.6 refuses once every section is read.

src/server.c `srv_apply_track`, called by cfgparse.c `check_config_validity` for each server
of each proxy in declaration order, with the server as the message context (src/errors.c
prints the first message after `set_usermsgs_ctx` as "[FILE:LINE] : 'server B/S' : ...").
A tracking server is linked as it is checked, so a chain is seen as far as the servers before
it were linked: the loop test follows only links already made (and a server whose own track
was refused links nothing).  The texts are HAProxy's, typos included ("fortracking").
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.config.errors import Cite
from pylvs.config.haproxy.model import Proxy, Server
from pylvs.config.keywords import Context

_Key = tuple[str, str]  # (proxy, server)


def check_tracks(
    proxies: Sequence[Proxy],
    ctx: Context,
    backends: dict[str, Proxy],
    linked: dict[_Key, _Key],
) -> None:
    """Report every `track` of `proxies` HAProxy would refuse, as it does; `linked` holds the
    links made so far (srv->track), the earlier proxies' included."""
    for p in proxies:
        if not p.has_backend:
            continue
        for s in p.servers:
            if s.track is None:
                continue
            got = _apply(p, s, backends, linked)
            if isinstance(got, str):
                ctx.error(s.loc, f"'server {p.name}/{s.name}' : {got}", cite=Cite.PLACE)
            else:
                linked[(p.name, s.name)] = got


def _apply(p: Proxy, s: Server, backends: dict[str, Proxy], linked: dict[_Key, _Key]) -> _Key | str:
    """The tracked server's key, or HAProxy's refusal."""
    assert s.track is not None
    pname, slash, sname = s.track.rpartition("/")
    if slash:
        px = backends.get(pname)
        if px is None:
            return no_proxy(pname)
    else:
        px = p
    strack = next((x for x in px.servers if x.name == sname), None)
    if strack is None:
        return no_server(sname)
    if not (strack.check or strack.agent_check or strack.track is not None):
        return no_check(px.name, sname)
    me = (p.name, s.name)
    loop = linked.get((px.name, sname))
    while loop is not None and loop != me:
        loop = linked.get(loop)
    if (px.name, sname) == me or loop is not None:
        back = sname if (px.name, sname) == me else s.name
        return (
            f"unable to track {px.name}/{sname} as it belongs to a tracking chain looping back"
            f" to {px.name}/{back}."
        )
    if px is not p and _disable_404(px) != _disable_404(p):
        return f"unable to use {px.name}/{sname} fortracking: disable-on-404 option inconsistency."
    return (px.name, sname)


def no_proxy(name: str) -> str:
    return f"unable to find required proxy '{name}' for tracking."


def no_server(name: str) -> str:
    return f"unable to find required server '{name}' for tracking."


def no_check(proxy: str, server: str) -> str:
    return (
        f"unable to use {proxy}/{server} for tracking as it does not have any check nor agent"
        " enabled."
    )


def _disable_404(p: Proxy) -> bool:
    return p.checks is not None and p.checks.disable_on_404
