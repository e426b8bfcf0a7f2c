"""A `resolvers` section's resolutions, sans I/O (HAProxy 2.6 src/resolvers.c
`process_resolvers`, `resolv_process_responses`, `resolv_run_resolution`,
`resolv_send_query`, `resolv_pick_resolution`; src/server.c `snr_resolution_cb`,
`snr_resolution_error_cb`, `snr_update_srv_status`).

Servers asking for the same name and first query type share one resolution.  A resolution
waits `timeout resolve` between runs; a run sends its query to every nameserver, retries
after `timeout retry` (`resolve_retries` tries), falls back once from AAAA to A (or back)
when the answers are errors; the first valid answer ends the run and each server then takes
an address from the answers (answers.py) — the first one counted as the nameserver's update,
the others "by DNS cache" — or goes to maintenance "resolution" (RMAINT) when none is left for
it.  An error ends the run once every nameserver said so (or at the last timeout); a server
goes to RMAINT only when the error lasted `hold nx|refused|timeout|other` since the last
valid answer.  Every decision comes back as an event for the driver to apply; time is an
argument (ms), and so is the server's current state (`State`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.model.resolvers import COUNTERS, ResolveOptions, ResolversSpec
from pylvs.proto.dns import wire
from pylvs.proto.dns.answers import CHANGE, NO_IP, Answers, Owner, family_query
from pylvs.proto.dns.events import (
    AddressChanged,
    AddressCleared,
    Event,
    Lookup,
    MaintCleared,
    MaintSet,
    Send,
)
from pylvs.proto.dns.srv import SrvRequest, SrvServers
from pylvs.proto.dns.wire import AAAA, HEADER_SIZE, MIN_RECORD_SIZE, SRV, IpAddress

# resolution status (RSLV_STATUS_*) -> (hold attribute, the RMAINT cause)
_HOLD = {
    "nx": ("hold_nx_ms", "DNS NX status"),
    "timeout": ("hold_timeout_ms", "DNS timeout status"),
    "refused": ("hold_refused_ms", "DNS refused status"),
}
_OTHER = ("hold_other_ms", "unspecified DNS error")
_STATUS = {wire.NX: "nx", wire.REFUSED: "refused", wire.INVALID: "invalid"}


@dataclass(eq=False)
class Resolution:
    name: bytes  # label form
    prefer: int  # the query type asked first
    now_ms: int
    requesters: list[tuple[Owner, ResolveOptions]] = field(default_factory=list)
    srvrqs: list[SrvRequest] = field(default_factory=list)  # an SRV record's requests
    actions: list[Asking] = field(default_factory=list)  # do-resolve's streams
    runs: int = 0  # the runs ended (a stream waits for the one after it asked)
    qtype: int = 0
    status: str = "none"
    running: bool = False
    tries: int = 0
    qid: int = 0
    last_query: int = 0
    last_resolution: int | None = None
    last_valid: int = 0
    queries: int = 0
    responses: int = 0
    answers: Answers = field(default_factory=Answers)

    def __post_init__(self) -> None:
        self.qtype = self.prefer
        self.last_valid = self.now_ms

    @property
    def wanted(self) -> bool:
        return bool(self.requesters or self.srvrqs or self.actions)


@dataclass(eq=False)
class Asking:
    """A do-resolve stream's place in a resolution (OBJ_TYPE_STREAM requester)."""

    res: Resolution
    opts: ResolveOptions
    runs: int  # the resolution's runs when it asked
    cached: bool  # the answer was fresh enough: taken at once


class Resolvers:
    """One section's resolutions, nameserver counters and query ids."""

    def __init__(self, spec: ResolversSpec, lookup: Lookup, seed: int = 1) -> None:
        self.spec = spec
        self.lookup = lookup
        self.counters = [dict.fromkeys(COUNTERS, 0) for _ in spec.nameservers]
        self.curr: list[Resolution] = []  # running, oldest query first
        self.wait: list[Resolution] = []
        self.qids: dict[int, Resolution] = {}
        self._seed = seed or 1
        self.max_answers = (spec.accepted_payload_size - HEADER_SIZE) // MIN_RECORD_SIZE
        self.srv = SrvServers(self)

    # -- requesters -------------------------------------------------------------------

    def link(self, owner: Owner, host: str, opts: ResolveOptions, now_ms: int) -> bool:
        """resolv_link_resolution: the server asks for `host` (False: not a valid name)."""
        name = wire.to_label(host)
        if name is None:
            return False
        self._pick(name, family_query(opts), now_ms).requesters.append((owner, opts))
        return True

    def _pick(self, name: bytes, prefer: int, now_ms: int) -> Resolution:
        """resolv_pick_resolution: the running or waiting one for this name and type, else
        a new one, waiting."""
        res = next(
            (r for r in (*self.curr, *self.wait) if r.name == name and r.prefer == prefer), None
        )
        if res is None:
            res = Resolution(name, prefer, now_ms)
            self.wait.append(res)
        return res

    def link_srv(self, owner: Owner, host: str, opts: ResolveOptions, now_ms: int) -> bool:
        """A server filled from the SRV record `host` (False: not a valid name); the
        backend's servers naming it share a request, the request one resolution."""
        name = wire.to_label(host)
        if name is None:
            return False
        req = self.srv.add(owner, host, opts)
        if any(req in r.srvrqs for r in (*self.curr, *self.wait)):
            return True
        self._pick(name, SRV, now_ms).srvrqs.append(req)
        return True

    # -- do-resolve ----------------------------------------------------------------------

    def ask(self, host: str, opts: ResolveOptions, now_ms: int) -> Asking | None:
        """resolv_action_do_resolve's link: the stream joins the resolution of `host`; an
        answer still within `hold valid` is `cached` (None: not a name)."""
        name = wire.str_to_dn_label(host)
        if name is None:
            return None
        res = self._pick(name, family_query(opts), now_ms)
        last = res.last_resolution
        fresh = (
            res.status == "valid" and last is not None and now_ms < last + self.spec.hold_valid_ms
        )
        asking = Asking(res, opts, res.runs, fresh)
        res.actions.append(asking)
        return asking

    def answered(self, asking: Asking) -> tuple[bool, IpAddress | None]:
        """(ended, address): a run after the ask ended (or the answer was cached), and the
        best address of a valid answer."""
        res = asking.res
        if not asking.cached and (res.running or res.runs == asking.runs):
            return False, None
        if res.status != "valid":
            return True, None
        _verdict, address = res.answers.pick(None, asking.opts, None)
        return True, address

    def release(self, asking: Asking) -> None:
        """The stream leaves; a resolution nobody wants any more goes at once (its answers
        with it, as HAProxy frees it)."""
        res = asking.res
        if asking in res.actions:
            res.actions.remove(asking)
        if not res.wanted:
            self._abort(res)
            res.answers.purge()

    def unlink(self, owner: Owner) -> None:
        for res in (*self.curr, *self.wait):
            res.requesters = [(o, p) for o, p in res.requesters if o != owner]
            res.answers.detach(owner)

    def host_of(self, owner: Owner) -> str | None:
        for res in (*self.curr, *self.wait):
            if any(o == owner for o, _ in res.requesters):
                return wire.to_text(res.name)
        return None

    # -- the task -----------------------------------------------------------------------

    def next_wakeup(self, now_ms: int) -> int:
        """resolv_update_resolvers_timeout."""
        spec = self.spec
        nxt = now_ms + spec.timeout_resolve_ms
        if self.curr:
            nxt = min(nxt, self.curr[0].last_query + spec.timeout_retry_ms)
        for res in self.wait:
            nxt = min(nxt, (res.last_resolution or 0) + spec.timeout_resolve_ms)
        return nxt

    def tick(self, now_ms: int) -> list[Event]:
        """process_resolvers: retries and timeouts of running resolutions, then the runs
        due."""
        out: list[Event] = []
        spec = self.spec
        for res in list(self.curr):
            if not res.wanted:
                self._abort(res)
                continue
            if now_ms < res.last_query + spec.timeout_retry_ms:
                break
            if not res.tries:
                if not res.responses:
                    res.status = "timeout"
                self._report_error(res, now_ms, out)
                continue
            if not res.responses or res.prefer != res.qtype or res.prefer == SRV:
                res.qtype = res.prefer
                res.tries -= 1
            else:
                res.qtype = 1 if res.prefer == AAAA else AAAA
            self._send(res, now_ms, out)
            break  # HAProxy's walk ends on the resolution it just moved to the end
        for res in list(self.wait):
            if not res.wanted:
                self._abort(res)
                continue
            due = (
                res.last_resolution is None
                or now_ms >= res.last_resolution + spec.timeout_resolve_ms
            )
            if due and not self._run(res, now_ms, out):
                res.last_resolution = now_ms
                self.wait.remove(res)
                self.wait.append(res)
        return out

    def _abort(self, res: Resolution) -> None:
        self._reset(res, res.last_resolution or 0)
        for q in (self.curr, self.wait):
            if res in q:
                q.remove(res)

    def _rnd16(self) -> int:
        s = self._seed
        s ^= (s << 13) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 7
        s ^= (s << 17) & 0xFFFFFFFFFFFFFFFF
        self._seed = s
        return s & 0xFFFF

    def _run(self, res: Resolution, now_ms: int, out: list[Event]) -> bool:
        """resolv_run_resolution."""
        if res.running:
            return False
        for _ in range(100):
            qid = self._rnd16()
            if qid not in self.qids:
                break
        else:
            return False
        res.qid, res.running, res.qtype = qid, True, res.prefer
        res.tries = self.spec.resolve_retries - 1
        self.qids[qid] = res
        self._send(res, now_ms, out)
        return True

    def _send(self, res: Resolution, now_ms: int, out: list[Event]) -> None:
        """resolv_send_query: to every nameserver, the resolution to the end of `curr`."""
        res.queries = res.responses = 0
        res.last_query = now_ms
        data = wire.query(res.qid, res.qtype, self.spec.accepted_payload_size, res.name)
        for n in range(len(self.spec.nameservers)):
            out.append(Send(n, data))
            res.queries += 1
        for q in (self.curr, self.wait):
            if res in q:
                q.remove(res)
        self.curr.append(res)

    def sent(self, nameserver: int, data: bytes, ok: bool) -> None:
        """The driver's report of a Send: `sent`, or `snd_error` (then it is not counted
        as a query the run waits for)."""
        self.counters[nameserver]["sent" if ok else "snd_error"] += 1
        res = self.qids.get(wire.query_id(data) or 0) if not ok else None
        if res is not None and res.queries:
            res.queries -= 1

    def _reset(self, res: Resolution, now_ms: int) -> None:
        res.runs += 1
        res.running = False
        res.tries = 0
        res.last_resolution = now_ms
        res.queries = res.responses = 0
        res.qtype = res.prefer
        self.qids.pop(res.qid, None)
        res.qid = 0

    def _to_wait(self, res: Resolution, now_ms: int) -> None:
        self._reset(res, now_ms)
        if res in self.curr:
            self.curr.remove(res)
        if res in self.wait:
            self.wait.remove(res)
        self.wait.append(res)

    # -- responses ----------------------------------------------------------------------

    def receive(self, nameserver: int, buf: bytes, now_ms: int) -> list[Event]:
        """resolv_process_responses, for one datagram."""
        c = self.counters[nameserver]
        out: list[Event] = []
        if len(buf) > self.spec.accepted_payload_size:
            c["too_big"] += 1
            return out
        qid = wire.query_id(buf)
        if qid is None:
            c["invalid"] += 1
            return out
        res = self.qids.get(qid)
        if res is None:
            c["outdated"] += 1
            return out
        res.responses += 1
        got = wire.validate(buf, res.name, self.max_answers)
        verdict = got.verdict
        if verdict == wire.VALID:
            res.answers.merge(got.records, now_ms)
            if got.qtype == SRV:
                res.answers.merge_srv(got.records, got.additional, now_ms)
            res.answers.expire(now_ms, self.spec.hold_obsolete_ms)
            self.srv.check(res, now_ms, out)
            res.status = "valid"
            res.last_valid = now_ms
            c["valid"] += 1
            self._success(res, nameserver, now_ms, out)
            return out
        c[verdict] += 1
        res.status = _STATUS.get(verdict, "other")
        if res.responses < res.queries:
            return out  # wait for every nameserver's word
        if res.prefer != res.qtype:
            if not res.tries:
                self._report_error(res, now_ms, out)
        elif res.prefer != SRV:  # an SRV question has no other type: the retry comes later
            res.qtype = 1 if res.prefer == AAAA else AAAA
            self._send(res, now_ms, out)
        return out

    def _success(self, res: Resolution, nameserver: int, now_ms: int, out: list[Event]) -> None:
        ns = self.spec.nameservers[nameserver]
        counters: dict[str, int] | None = self.counters[nameserver]
        if res.srvrqs:
            counters = None  # snr_resolution_cb does nothing for an SRV request
        for owner, opts in list(res.requesters):
            if self.srv.skips(owner):
                continue  # its address is an additional record's
            self._server_answer(res, owner, opts, counters, f"{self.spec.name}/{ns.name}", out)
            counters = None  # only the first requester is the nameserver's: the rest "by DNS cache"
        self._to_wait(res, now_ms)

    def _server_answer(  # noqa: PLR0917 - snr_resolution_cb's arguments
        self,
        res: Resolution,
        owner: Owner,
        opts: ResolveOptions,
        counters: dict[str, int] | None,
        updater: str,
        out: list[Event],
    ) -> None:
        """snr_resolution_cb."""
        st = self.lookup(owner)
        verdict, address = res.answers.pick(owner, opts, st.address)
        has_no_ip = verdict == NO_IP
        if verdict == CHANGE and address is not None:
            if counters is not None:
                counters["update"] += 1
            if address != st.address:
                by = updater if counters is not None else "DNS cache"
                out.append(AddressChanged(owner, st.address, address, by))
        self._update_status(res, owner, st.rmaint, has_no_ip, 0, out)

    def _update_status(  # noqa: PLR0917 - snr_update_srv_status's facts
        self,
        res: Resolution,
        owner: Owner,
        rmaint: bool,
        has_no_ip: bool,
        now_ms: int,
        out: list[Event],
    ) -> bool:
        """snr_update_srv_status: True when the server's status changed (then, without an
        address, the address is forgotten)."""
        if res.status == "none":
            return False
        if res.status == "valid":
            if has_no_ip:
                if rmaint:
                    return False
                out.append(MaintSet(owner, "No IP for server "))
                out.append(AddressCleared(owner))
                return True
            if not rmaint:
                return False
            out.append(MaintCleared(owner))
            return True
        attr, cause = _HOLD.get(res.status, _OTHER)
        if now_ms < res.last_valid + getattr(self.spec, attr):
            return False
        if rmaint:
            return False
        out.append(MaintSet(owner, cause))
        out.append(AddressCleared(owner))
        return True

    def _report_error(self, res: Resolution, now_ms: int, out: list[Event]) -> None:
        """The run failed: each server's snr_resolution_error_cb; the answers are purged
        unless a server still holds on (its hold has not run out)."""
        keep = False
        for req in list(res.srvrqs):
            keep = self.srv.error(res, req, now_ms, out) or keep
        for owner, _opts in list(res.requesters):
            st = self.lookup(owner)
            if self._update_status(res, owner, st.rmaint, True, now_ms, out):
                res.answers.detach(owner)
            else:
                keep = True
        if not keep:
            res.answers.purge()
        self._to_wait(res, now_ms)
