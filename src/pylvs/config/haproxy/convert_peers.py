"""haproxy.cfg `peers` sections -> model/peers.py's PeersSpec (src/cfgparse.c
cfg_parse_peers and check_config_validity's rules).

A section is kept when it is not `disabled` and one of its peers is this process (its name is
`-L`'s, `localpeer`'s or the host's): that peer listens -- on the section's `bind`, else on its
own `peer` line's address -- and the others are connected to.  Its tables are those declared
in it (`table`) and the proxies' `stick-table ... peers SECTION`, in the order HAProxy
registers them (the section's first, then the proxies').  Peers are listed as HAProxy links
them (each new one first), which is the order `show peers` prints.
"""

from __future__ import annotations

from pylvs.config.haproxy.model import Bind, HaproxyConfig, Peer, Peers
from pylvs.model.peers import PeerSpec, PeersSpec


def peers_specs(config: HaproxyConfig) -> tuple[PeersSpec, ...]:
    local = config.local_peer
    out = []
    for section in config.peers:
        if section.disabled or local is None:
            continue
        me = next((p for p in section.peers if p.name == local), None)
        if me is None:
            continue
        out.append(_section(config, section, me, local))
    return tuple(reversed(out))  # cfg_peers is linked backwards too


def _section(config: HaproxyConfig, section: Peers, me: Peer, local: str) -> PeersSpec:
    tables = [spec.name for spec, _loc in section.tables]
    tables += [
        p.stick_table.name
        for p in config.proxies
        if p.stick_table is not None and p.stick_table.peers == section.name
    ]
    peers = tuple(_peer(p, p.name == local, section.bind) for p in reversed(section.peers))
    host, port, fd = _listen(section.bind, me)
    return PeersSpec(
        name=section.name,
        local_name=local,
        peers=peers,
        listen_host=host,
        listen_port=port,
        listen_fd=fd,
        tables=tuple(tables),
        where=f"{section.loc.file}:{section.loc.line}",
    )


def _listen(bind: Bind | None, me: Peer) -> tuple[str | None, int, int | None]:
    if bind is not None and bind.endpoints:
        ep = bind.endpoints[0]
        if ep.family == "fd" and (ep.path or "").isdigit():
            return None, 0, int(ep.path or 0)
        return str(ep.ip) if ep.ip is not None else "0.0.0.0", ep.port or 0, None
    if me.target is None:
        return None, 0, None
    return _host(me), me.target.port or 0, None


def _peer(peer: Peer, local: bool, bind: Bind | None) -> PeerSpec:
    if local and peer.target is None and bind is not None:
        host, lport, _fd = _listen(bind, peer)
        return PeerSpec(peer.name, host or "", lport, local=True)
    port = peer.target.port if peer.target is not None else None
    return PeerSpec(peer.name, _host(peer), port or 0, local=local)


def _host(peer: Peer) -> str:
    target = peer.target
    if target is None:
        return ""
    if target.ip is not None:
        return str(target.ip)
    return target.host or "0.0.0.0"
