"""Pure effects of health on the IPVS table: keepalived's check/ipwrapper.c as a value.

`LvsState` holds, for every virtual server, its real servers' health (`RsHealth`), the
quorum state and whether the sorry server is in the pool.  Checker transitions come in
(`checker_result`); out come the commands keepalived would carry out (log lines in its wording,
notify / quorum scripts, notify-FIFO lines, SMTP alerts), and `table()` is the IPVS table the
state asks for, which the engine diffs against what is applied.  The rules (reference §3.12):

* `perform_svr_state`: an RS that goes down is removed ("Removing service ... from VS ..."),
  or with `inhibit_on_failure` kept with weight 0 ("Disabling service ... of VS ...");
* `update_svr_wgt`: dynamic weights (MISC_CHECK misc_dynamic, FILE_CHECK) change the weight,
  clamped by `real_weight`;
* `update_quorum_state`: the sum of the alive RS weights against quorum ± hysteresis; losing
  quorum swaps the sorry server in (alive RS leave, inhibited ones stay with weight 0), gaining
  it swaps the sorry server out; quorum_up / quorum_down scripts, FIFO and alerts follow;
* `init_service_vs`: at start quorum is evaluated with `init` set (keepalived's start state has
  no RS alive, so reaching quorum at start runs quorum_up); a sorry_server_inhibit server is
  always present, with weight 0 while quorum is up;
* `clear_services`: on shutdown, with `omega`, notify_down and quorum_down are run.

HAProxy's backup servers (real servers flagged `backup`): they do not count towards quorum
and enter the table only while no other real server is alive — the first alive one, or all
of them with the pool's `all_backups` (HAProxy `backup`, `option allbackups`).

At start, `table()` equals the table keepalived programs at start (the keepalived reader's
`to_table`, with tracked files reading 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from pylvs.health.events import (
    Effect,
    FifoLine,
    LogLine,
    RunScript,
    fmt_rs,
    fmt_vs,
    rs_alert,
    vs_alert,
)
from pylvs.health.machine import Change
from pylvs.health.rs_state import RsHealth
from pylvs.model.checks import FileProbe
from pylvs.model.pool import PoolSpec, RealServerSpec
from pylvs.model.service import Address, RealServer, ServiceKey
from pylvs.model.table import ServiceEntry, ServiceTable

RsKey = tuple[Address, int]


def _weighted(server: RealServer, weight: int) -> RealServer:
    return server if server.weight == weight else dataclasses.replace(server, weight=weight)


@dataclass(frozen=True, slots=True)
class CheckerRef:
    """One checker: its pool's id, its real server, its index there."""

    vs: str
    rs: RsKey
    index: int


@dataclass(slots=True)
class VsHealth:
    conf: PoolSpec
    ident: str
    rs: dict[RsKey, RsHealth] = field(default_factory=dict)
    rs_conf: dict[RsKey, RealServerSpec] = field(default_factory=dict)
    quorum_up: bool = False
    sorry_alive: bool = False  # the sorry server is in the pool (ISALIVE(vs->s_svr))
    started: bool = False


class LvsState:
    def __init__(
        self, pools: tuple[PoolSpec, ...], *, router_id: str, no_checker_emails: bool = False
    ) -> None:
        self.pools = pools
        self.router_id = router_id
        self.no_checker_emails = no_checker_emails
        self.vs: dict[str, VsHealth] = {}
        for conf in pools:
            vh = VsHealth(conf, conf.id)
            for rsc in conf.real_servers:
                vh.rs[rsc.key] = RsHealth.initial(rsc.server.weight, rsc.checks)
                vh.rs_conf[rsc.key] = rsc
            self.vs[conf.id] = vh
        # Each pool's table entries, kept until the pool's state changes (`_touch`): a
        # checker's result rebuilds its own pool's entries only, and unchanged entries are
        # the same objects, which the engine's diff passes over at once.
        self._entries: dict[str, tuple[ServiceEntry, ...]] = {}

    def _touch(self, ident: str | None = None) -> None:
        """The state of pool `ident` (None: of every pool) changed."""
        if ident is None:
            self._entries.clear()
        else:
            self._entries.pop(ident, None)

    # -- references -------------------------------------------------------------------

    def refs(self) -> Iterator[tuple[CheckerRef, RealServerSpec]]:
        for ident, vh in self.vs.items():
            for key, rsc in vh.rs_conf.items():
                for i in range(len(rsc.checks)):
                    yield CheckerRef(ident, key, i), rsc

    def rs_health(self, ref: CheckerRef) -> RsHealth:
        return self.vs[ref.vs].rs[ref.rs]

    # -- before start: file values, carried state ---------------------------------------

    def preset_file(self, ref: CheckerRef, status: int | None) -> None:
        """FILE_CHECK start state (init_service_rs): `status` None means fault."""
        self._touch(ref.vs)
        rs = self.rs_health(ref)
        rs.up[ref.index] = status is not None
        rs.delta[ref.index] = status or 0
        rs.alive = rs.checkers_ok

    def carry(self, old: LvsState, pairs: dict[CheckerRef, CheckerRef]) -> None:
        """Reload: take over the state of unchanged checkers, RS and virtual servers."""
        self._touch()
        for new_ref, old_ref in pairs.items():
            src = old.rs_health(old_ref)
            dst = self.rs_health(new_ref)
            dst.up[new_ref.index] = src.up[old_ref.index]
            dst.delta[new_ref.index] = src.delta[old_ref.index]
        for ident, vh in self.vs.items():
            prev = old.vs.get(ident)
            if prev is None:
                continue
            vh.started = True
            vh.quorum_up = prev.quorum_up
            vh.sorry_alive = prev.sorry_alive and vh.conf.policy.sorry_server is not None
            for key, rs in vh.rs.items():
                before = prev.rs.get(key)
                if before is not None:
                    rs.alive = before.alive

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> list[Effect]:
        """init_services: activate checkers, settle carried RS, evaluate every quorum."""
        self._touch()
        out: list[Effect] = []
        for vh in self.vs.values():
            for key, rsc in vh.rs_conf.items():
                if vh.started:
                    out += self._update_alive(vh, key)
                    continue
                for c in rsc.checks:
                    if not isinstance(c.probe, FileProbe):
                        out.append(
                            LogLine(
                                f"Activating healthchecker for service "
                                f"{fmt_rs(rsc.server, vh.conf)} for VS {fmt_vs(vh.conf)}"
                            )
                        )
            out += self._update_quorum(vh, init=True)
            vh.started = True
        return out

    def stop(self, omega: bool) -> list[Effect]:
        """clear_services: log each RS shut down; with omega, run the down notifications."""
        self._touch()
        out: list[Effect] = []
        for vh in self.vs.values():
            notify = omega and vh.conf.omega
            present = {d.key for d in self._dests(vh)}
            for key, rs in vh.rs.items():
                rsc = vh.rs_conf[key]
                if key not in present:
                    continue
                inhibited = "(inhibited) " if rsc.inhibit_on_failure and not rs.alive else ""
                out.append(
                    LogLine(
                        f"Shutting down {inhibited}service {fmt_rs(rsc.server, vh.conf)} "
                        f"from VS {fmt_vs(vh.conf)}"
                    )
                )
                if not rs.alive:
                    continue
                rs.alive = False
                if notify:
                    out += self._rs_notifies(vh, key, stopping=True)
                    if rsc.smtp_alert:
                        out.append(
                            rs_alert(
                                self.router_id,
                                fmt_rs(rsc.server, vh.conf),
                                fmt_vs(vh.conf),
                                "DOWN",
                                "=> Shutting down <=",
                            )
                        )
            vh.quorum_up = False
            if notify:
                out += self._vs_notifies(vh, False, 0, 0, stopping=True)
        return out

    # -- transitions ------------------------------------------------------------------

    def checker_result(
        self,
        ref: CheckerRef,
        change: Change,
        *,
        delta: int | None = None,
        alert_body: str | None = None,
    ) -> list[Effect]:
        """A checker's step: `delta` is its new dynamic weight contribution (MISC_CHECK
        misc_dynamic, FILE_CHECK); `alert_body` the checker's SMTP alert text."""
        self._touch(ref.vs)
        vh = self.vs[ref.vs]
        rs = vh.rs[ref.rs]
        rsc = vh.rs_conf[ref.rs]
        check = rsc.checks[ref.index]
        i = ref.index
        rs_was_alive = rs.alive
        out: list[Effect] = []
        if change is Change.UP:
            if delta is not None:
                if isinstance(check.probe, FileProbe):  # leaving FAULT: weight set silently
                    rs.delta[i] = delta
                else:
                    out += self._set_delta(vh, ref.rs, i, delta)
            rs.up[i] = True
            out += self._update_alive(vh, ref.rs)
        elif change is Change.DOWN:
            rs.up[i] = False
            out += self._update_alive(vh, ref.rs)
            rs.delta[i] = 0
        elif change is Change.FIRST_DOWN:
            out += self._rs_notifies(vh, ref.rs)
        elif delta is not None:
            out += self._set_delta(vh, ref.rs, i, delta)
        if (
            alert_body is not None
            and change in (Change.UP, Change.DOWN)
            and rsc.smtp_alert
            and (rs_was_alive != rs.alive or not self.no_checker_emails)
        ):
            state = "UP" if rs.alive else "DOWN"
            out.append(
                rs_alert(
                    self.router_id, fmt_rs(rsc.server, vh.conf), fmt_vs(vh.conf), state, alert_body
                )
            )
        return out

    # -- the table ---------------------------------------------------------------------

    def table(self) -> ServiceTable:
        entries: dict[ServiceKey, ServiceEntry] = {}
        for ident, vh in self.vs.items():
            mine = self._entries.get(ident)
            if mine is None:
                dests = self._dests(vh)
                mine = tuple(ServiceEntry(service, dests) for service in vh.conf.services)
                self._entries[ident] = mine
            for entry in mine:
                entries.setdefault(entry.service.key, entry)  # the first pool's key wins
        return ServiceTable(entries.values())

    def _in_use(self, vh: VsHealth) -> set[RsKey]:
        """The backup servers in use: none while another server is alive, else the first
        alive one (all of them with `all_backups`)."""
        backups = [k for k, rsc in vh.rs_conf.items() if rsc.backup and vh.rs[k].alive]
        if not backups or any(vh.rs[k].alive for k, c in vh.rs_conf.items() if not c.backup):
            return set()
        return set(backups if vh.conf.policy.all_backups else backups[:1])

    def _dests(self, vh: VsHealth) -> tuple[RealServer, ...]:
        out: list[RealServer] = []
        backups = self._in_use(vh)
        for key, rs in vh.rs.items():
            rsc = vh.rs_conf[key]
            if rsc.backup and key not in backups:
                continue
            if vh.sorry_alive:
                # perform_quorum_state(false): DELDEST, an EDITDEST to weight 0 when inhibited
                if rsc.inhibit_on_failure:
                    out.append(_weighted(rsc.server, 0))
            elif rs.alive:
                out.append(_weighted(rsc.server, rs.weight))
            elif rsc.inhibit_on_failure:
                out.append(_weighted(rsc.server, 0))
        sorry = vh.conf.policy.sorry_server
        if sorry is not None:
            if vh.sorry_alive:
                out = [d for d in out if d.key != sorry.server.key]
                out.append(sorry.server)
            elif sorry.inhibit and all(d.key != sorry.server.key for d in out):
                out.append(_weighted(sorry.server, 0))
        return tuple(out)

    # -- keepalived's ipwrapper.c, step by step -----------------------------------------

    def _update_alive(self, vh: VsHealth, key: RsKey) -> list[Effect]:
        """perform_svr_state."""
        rs = vh.rs[key]
        alive = rs.checkers_ok
        if alive == rs.alive:
            return []
        rsc = vh.rs_conf[key]
        inhibit = rsc.inhibit_on_failure
        if alive:
            verb, prep = ("Enabling", "of") if inhibit else ("Adding", "to")
        else:
            verb, prep = ("Disabling", "of") if inhibit else ("Removing", "from")
        rs.alive = alive
        out: list[Effect] = [
            LogLine(f"{verb} service {fmt_rs(rsc.server, vh.conf)} {prep} VS {fmt_vs(vh.conf)}")
        ]
        out += self._rs_notifies(vh, key)
        out += self._update_quorum(vh, init=False)
        return out

    def _set_delta(self, vh: VsHealth, key: RsKey, index: int, delta: int) -> list[Effect]:
        """update_svr_wgt."""
        rs = vh.rs[key]
        old = rs.weight
        rs.delta[index] = delta
        new = rs.weight
        if new == old:
            return []
        rsc = vh.rs_conf[key]
        out: list[Effect] = [
            LogLine(
                f"Changing weight from {old} to {new} for {'' if rs.alive else 'in'}active "
                f"service {fmt_rs(rsc.server, vh.conf)} of VS {fmt_vs(vh.conf)}"
            )
        ]
        return out + self._update_quorum(vh, init=False)

    def _rs_notifies(self, vh: VsHealth, key: RsKey, stopping: bool = False) -> list[Effect]:
        """do_rs_notifies: the notify script, then the FIFO line."""
        rs = vh.rs[key]
        rsc = vh.rs_conf[key]
        out: list[Effect] = []
        script = rsc.notify_up if rs.alive else rsc.notify_down
        if script is not None:
            out.append(RunScript(script, stopping))
        state = "UP" if rs.alive else "DOWN"
        out.append(FifoLine(f"RS {fmt_rs(rsc.server, vh.conf)} {fmt_vs(vh.conf)} {state}"))
        return out

    def _update_quorum(self, vh: VsHealth, *, init: bool) -> list[Effect]:
        """update_quorum_state (backup servers do not count)."""
        conf = vh.conf
        total = sum(rs.weight for k, rs in vh.rs.items() if rs.alive and not vh.rs_conf[k].backup)
        q, h = conf.policy.quorum, conf.policy.hysteresis
        threshold = q + (-h if vh.quorum_up else h)
        sorry = conf.policy.sorry_server
        out: list[Effect] = []
        if not vh.quorum_up and total >= threshold:
            vh.quorum_up = True
            out.append(LogLine(f"Gained quorum {q}+{h}={threshold} <= {total} for VS {conf.name}"))
            if sorry is not None and vh.sorry_alive:
                verb = "Disabling" if sorry.inhibit else "Removing"
                out.append(
                    LogLine(f"{verb} sorry server {fmt_rs(sorry.server, conf)} from VS {conf.name}")
                )
                vh.sorry_alive = False
                out.append(LogLine(f"Adding alive servers to the pool for VS {conf.name}"))
            return out + self._vs_notifies(vh, init, threshold, total)
        if (vh.quorum_up and (total == 0 or total < threshold)) or (
            init and not vh.quorum_up and sorry is not None and not vh.sorry_alive
        ):
            vh.quorum_up = False
            what = "Starting with quorum down" if init else "Lost quorum"
            out.append(LogLine(f"{what} {q}-{h}={threshold} > {total} for VS {conf.name}"))
            if sorry is not None and not vh.sorry_alive:
                verb = "Enabling" if sorry.inhibit else "Adding"
                out.append(
                    LogLine(f"{verb} sorry server {fmt_rs(sorry.server, conf)} to VS {conf.name}")
                )
                out.append(LogLine(f"Removing alive servers from the pool for VS {conf.name}"))
                vh.sorry_alive = True
            return out + self._vs_notifies(vh, init, threshold, total)
        return out

    def _vs_notifies(
        self, vh: VsHealth, init: bool, threshold: int, total: int, stopping: bool = False
    ) -> list[Effect]:
        """do_vs_notifies: quorum script, FIFO line, SMTP alert."""
        conf = vh.conf
        up = vh.quorum_up
        out: list[Effect] = []
        script = conf.policy.quorum_up if up else conf.policy.quorum_down
        if script is not None:
            out.append(RunScript(script, stopping))
        state = "UP" if up else "DOWN"
        out.append(FifoLine(f"VS {conf.name} {state}"))
        if conf.smtp_alert:
            if stopping:
                body = "=> Shutting down <="
            else:
                if up:
                    what = "Starting with quorum up" if init else "Gained quorum"
                else:
                    what = "Starting with quorum down" if init else "Lost quorum"
                policy = conf.policy
                body = f"=> {what} {policy.quorum}+{policy.hysteresis}={threshold} <= {total} <="
            out.append(vs_alert(self.router_id, conf.name, state, body))
        return out
