"""The IPVS table keepalived programs when it starts with a configuration.

`to_table(config)` follows check/ipwrapper.c `init_service_vs` / `init_service_rs` /
`update_quorum_state(init=true)` (keepalived 2.2.7), assuming what can only be known at run
time:

* every real server is up unless it starts in alpha mode (`alpha` on the real/virtual server
  or on one of its checkers), in which case it is added only once checked; an alpha real server
  with `inhibit_on_failure` is added with weight 0 instead (keepalived adds it "disabled");
* tracked files read 0 at start, so FILE_CHECK does not change weights;
* quorum: the live weight (sum of up real servers' weights) is compared with
  quorum + hysteresis; below it, a `sorry_server` replaces the real servers; with
  `sorry_server_inhibit` and quorum up, the sorry server is present with weight 0;
* a virtual_server_group becomes one service per member (each address of a range, each fwmark);
  a key already programmed by an earlier virtual server is skipped (keepalived would fail to add
  it; the parser reports it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pylvs.config.keepalived.lvs.checks import BfdCheck, FileCheck
from pylvs.config.keepalived.lvs.model import RealServerConf, VirtualServerConf
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.model.service import AF_INET, AF_INET6, Protocol, RealServer, ServiceKey

if TYPE_CHECKING:
    from pylvs.model.table import ServiceTable


def starts_alive(rs: RealServerConf) -> bool:
    """A real server is up at start unless it or one of its checkers is in alpha mode."""
    if rs.alpha:
        return False
    for c in rs.checkers:
        if isinstance(c, FileCheck):
            continue
        alpha = c.alpha if isinstance(c, BfdCheck) else c.timing.alpha
        if alpha:
            return False
    return True


def service_keys(vs: VirtualServerConf, config: KeepalivedConfig) -> Iterator[ServiceKey]:
    """The IPVS keys of a virtual server: its own, or one per member of its group."""
    if vs.group is None:
        key = vs.key
        if key is not None:
            yield key
        return
    group = config.group(vs.group)
    if group is None:
        return
    for e in group.entries:
        if e.fwmark is not None:
            af = e.family if e.family in (AF_INET, AF_INET6) else vs.af
            yield ServiceKey.mark(e.fwmark, af)
            continue
        proto = vs.protocol or Protocol.UDP
        for addr in e.addresses():
            yield ServiceKey(protocol=proto, address=addr, port=e.port)


def initial_dests(vs: VirtualServerConf) -> tuple[RealServer, ...]:
    dests: list[RealServer] = []
    live = 0
    for rs in vs.real_servers:
        if starts_alive(rs):
            dests.append(rs.server)
            live += rs.server.weight
        elif rs.inhibit_on_failure:
            dests.append(dataclasses.replace(rs.server, weight=0))
    sorry = vs.sorry_server
    if sorry is None:
        return tuple(dests)
    if live < vs.quorum + vs.hysteresis or live == 0:
        # "Starting with quorum down": alive real servers removed, the sorry server added
        kept = [d for d in dests if d.weight == 0 and d.key != sorry.server.key]
        return (*kept, sorry.server)
    if sorry.inhibit and all(d.key != sorry.server.key for d in dests):
        dests.append(dataclasses.replace(sorry.server, weight=0))
    return tuple(dests)


def to_table(config: KeepalivedConfig) -> ServiceTable:
    # model/table.py here, not at import: the parser uses this module's service_keys, and a
    # check does not need the table's classes (issue 18 #10)
    from pylvs.model.table import ServiceEntry, ServiceTable

    entries: dict[ServiceKey, ServiceEntry] = {}
    for vs in config.virtual_servers:
        dests = initial_dests(vs)
        for key in service_keys(vs, config):
            if key in entries:
                continue
            entries[key] = ServiceEntry(vs.service(key), dests)
    return ServiceTable(entries.values())
