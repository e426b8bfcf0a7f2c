"""The HTTP driver's bodies and tunnels through the relay's C path (issue 21 point 6: the parse
and the header edits stay off the per-byte path).

Heads are read, judged and edited in Python (the machines of proto/http/conn); once a head is
forwarded and the machine's framer says how its body goes on (`Framer.handover`), the body is
handed to the pump (poller.py, _body.h) and the socket comes back at the body's end, so a
kept-alive connection's next request is read in Python again (the C path never reads past a
body: a pipelined request stays in the socket).  Per direction:

* a content-length body: `pass_body(LENGTH, bytes left)`; a chunked one: `pass_body(CHUNKED)`
  from a size line's start, or inside a chunk (the rest's size line written first), the
  trailer block coming back raw for the field rules; each ends as a `BodyPassed` event for the
  machine whose framer it belongs to, which goes on as if it had read the body itself;
* a response that runs to the server's close, and both ways of a tunnel (after a 101 or a
  CONNECT's 2xx): the layer-4 DATA mode (`make_fast`), whose EOF comes to Python as before.

With `option splice-request|splice-response|splice-auto` (proto/http/splicing.py says when)
a content-length body and a tunnel's or close-delimited response's bytes go through the
pump's pipe with splice(2) (`pipe_through`, _pipe.h); each pass that splices holds one of
`maxpipes`, and the bytes spliced come back with the counts, for show stat's h1 module.

Only when the output is the input: a body the other side writes re-framed (a length-less
response to a kept-alive client is written chunked) stays in Python, as does everything a
machine must see byte by byte (a head, a body not yet reachable by the C path: bytes already
read and held by the framer are framed first).  What the peer cannot take spills back: it is
queued on the peer's Endpoint, the source is held (`BODY`) until that queue drains, then the
body goes on in C.  Counts come back through `counted` (harvested before stats and timers
read them): the frontend's and server's bytes and the exchange's, and, for a server's socket,
the activity that moves `timeout server` / `timeout tunnel` (`BodyProgressed`).  Without the
C extension, or with PYLVS_PROXY_PUMP=0, nothing is handed over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pylvs.dataplane.proxy.poller import DATA
from pylvs.proto.http import splicing
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import Phase as ClientPhase
from pylvs.proto.http.conn.server import Phase as ServerPhase
from pylvs.proto.http.framer import Phase as Framing
from pylvs.proto.relay.body import BodyCut, BodyEnded, BodyMode
from pylvs.proto.relay.events import Side

from . import sizes
from .endpoint import BODY, Endpoint

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.poller import Poller
    from pylvs.model.proxy_spec import HttpSpec

    from .server_side import ServerConn
    from .stream import HttpSession

_SIZE_LINE_MAX = 24  # "%X\r\n" of a chunk's rest


class Pass:
    """One body (or one way of a tunnel) in C: `src`'s bytes go to `dst`."""

    __slots__ = ("dst", "mode", "owner", "pipe", "request", "sc", "spilled", "src")

    def __init__(  # noqa: PLR0917 - one record, made in one place
        self,
        owner: Passing,
        src: Endpoint,
        dst: Endpoint,
        sc: ServerConn,
        mode: int,
        request: bool,
    ) -> None:
        self.owner = owner
        self.src, self.dst, self.sc, self.mode = src, dst, sc, mode
        self.request = request  # the client's bytes (else the server's)
        self.spilled = False  # the peer filled up: `src` is held until `dst` drains
        self.pipe = splicing.OFF  # splice(2): ON or AUTO, holding one of `maxpipes`

    def stop(self) -> None:
        """End it now (Endpoint: a socket of it closes, or `src` sees its EOF in Python)."""
        self.owner.stop(self.src)


class Passing:
    """The passes of one HttpSession (at most one per socket); the owner the poller calls."""

    __slots__ = ("passes", "piped", "poller", "s")

    def __init__(self, s: HttpSession, poller: Poller) -> None:
        self.s = s
        self.poller = poller
        self.passes: dict[int, Pass] = {}
        self.piped = False  # a pass of it spliced: counts to collect (`counted`)

    # -- what can go to C now ------------------------------------------------------------

    def check(self) -> None:
        """After a round of the machines: resume what spilled and drained, hand over what
        the machines now let go."""
        for p in list(self.passes.values()):
            if p.spilled and not p.dst.backlog and p.dst.connected:
                self._resume(p)
        s = self.s
        sc = s.sc
        if sc is None or sc.handler is not s or sc.ep is None or sc.ep.closed:
            return
        client, server = s.client, sc.ep
        if client.closed:
            return
        cm, sm = s.cm, sc.m
        if not sm.raw:  # frames on the server's socket (HTTP/2): bodies stay in Python
            return
        if cm.phase is ClientPhase.TUNNEL:
            if sm.phase is ServerPhase.TUNNEL:
                self._tunnel(client, server, sc)
            return
        if cm.phase is not ClientPhase.ACTIVE or sm.phase is not ServerPhase.ACTIVE:
            return
        if client.fd not in self.passes and not client.eof_seen:
            plan = cm.framer.handover()
            if plan is not None:
                self._request(plan, client, server, sc)
        txn = cm.txn
        if (
            server.fd not in self.passes
            and not server.eof_seen
            and txn is not None
            and txn.started
            and not txn.bodyless
            and s.comp is None  # a compressed body is re-made in Python (compress.py)
            and s.cstore is None  # a body being stored stays in Python (cache.py)
        ):
            plan = sm.framer.handover()
            if plan is not None:
                self._response(plan, server, client, sc, chunked=txn.chunked)

    def _request(self, plan: tuple[Framing, int], src: Endpoint, dst: Endpoint, sc: Any) -> None:
        framing, left = plan
        if framing is Framing.LENGTH and not sc.m.body_chunked:
            self._body(src, dst, sc, BodyMode.LENGTH, size=left, left=0, request=True)
        elif framing is Framing.CHUNKED and sc.m.body_chunked:
            cap = self.s.cm.front.limits.raw_head
            self._body(src, dst, sc, BodyMode.CHUNKED, size=cap, left=left, request=True)

    def _response(
        self, plan: tuple[Framing, int], src: Endpoint, dst: Endpoint, sc: Any, *, chunked: bool
    ) -> None:
        framing, left = plan
        if framing is Framing.LENGTH and not chunked:
            self._body(src, dst, sc, BodyMode.LENGTH, size=left, left=0, request=False)
        elif framing is Framing.CHUNKED and chunked:
            cap = sc.m.back.limits.raw_head
            self._body(src, dst, sc, BodyMode.CHUNKED, size=cap, left=left, request=False)
        elif framing is Framing.UNTIL_CLOSE and not chunked:
            self._data(src, dst, sc, request=False)

    def _tunnel(self, client: Endpoint, server: Endpoint, sc: ServerConn) -> None:
        if client.fd not in self.passes and not client.eof_seen:
            self._data(client, server, sc, request=True)
        if server.fd not in self.passes and not server.eof_seen:
            self._data(server, client, sc, request=False)

    def _body(
        self,
        src: Endpoint,
        dst: Endpoint,
        sc: ServerConn,
        mode: BodyMode,
        *,
        size: int,
        left: int,
        request: bool,
    ) -> None:
        if src.holds & ~BODY:
            return  # held by the machine or the flow control: their release comes back here
        if left:  # inside a chunk: its rest gets its own size line, as the C path writes them
            if dst.backlog or not dst.connected:
                return  # once nothing is before it (a retried connect would resend the line)
            dst.write(b"%X\r\n" % left)
        p = self._start(src, dst, sc, mode, request=request)
        side = Side.CLIENT if request else Side.SERVER
        self.poller.pass_body(src.fd, dst.fd, self, src, side=side, mode=mode, size=size, left=left)
        if mode is BodyMode.LENGTH:
            self._pipe(p)
        self._settle(p)

    def _data(self, src: Endpoint, dst: Endpoint, sc: ServerConn, *, request: bool) -> None:
        if src.holds & ~BODY:
            return
        p = self._start(src, dst, sc, DATA, request=request)
        self.poller.make_fast(src.fd, dst.fd, self, src, DATA)
        self._pipe(p)
        self._settle(p)

    def _start(
        self, src: Endpoint, dst: Endpoint, sc: ServerConn, mode: int, *, request: bool
    ) -> Pass:
        p = Pass(self, src, dst, sc, mode, request)
        self.passes[src.fd] = p
        src.passing = p
        dst.passing_to = p
        return p

    def _settle(self, p: Pass) -> None:
        """A pass starts held while its peer still has bytes to send first (or connects)."""
        if p.dst.backlog or not p.dst.connected:
            p.spilled = True
            if p.mode == DATA:
                self._unfast(p.src)
            p.src.hold(BODY)

    def _unfast(self, src: Endpoint) -> None:
        counts = self.poller.unfast(src.fd)
        if counts is not None:
            self.counted(src, *counts)

    def _resume(self, p: Pass) -> None:
        p.spilled = False
        if p.mode == DATA:
            self.poller.make_fast(p.src.fd, p.dst.fd, self, p.src, DATA)
            if p.pipe:  # `set` reset it
                self.poller.pipe_through(p.src.fd, p.pipe, self.s.http.pipesize)
        else:
            self.poller.resume_body(p.src.fd, p.dst.fd)
        p.src.release(BODY)

    def stop(self, src: Endpoint) -> None:
        """End `src`'s pass now (a socket of it closes, or sees its EOF in Python): the C path
        forgets it, its last counts are collected."""
        p = self.passes.get(src.fd)
        if p is None:
            return
        self._unfast(src)  # while the pass is known: a tunnel's last bytes count for its log
        self.passes.pop(src.fd, None)
        self._detach(p)

    def stop_all(self) -> None:
        for p in list(self.passes.values()):
            self.stop(p.src)

    def _pipe(self, p: Pass) -> None:
        """Splice this pass's bytes when HAProxy would (proto/http/splicing.py): both
        connections raw (no TLS), splicing on, the proxies' options, a pipe free."""
        s, sc = self.s, p.sc
        state = s.http
        be = sc.conns.be if sc.conns is not None else s.up.be
        if not state.splice or s.facts.tls is not None or sc.tls is not None or be is None:
            return
        how = splicing.how(p.request, _options(s.fe.spec.http), _options(be.spec.http))
        if how and state.pipes.take():
            p.pipe = how
            self.piped = True
            self.poller.pipe_through(p.src.fd, how, state.pipesize)

    def _detach(self, p: Pass) -> None:
        if p.pipe:
            p.pipe = splicing.OFF
            self.s.http.pipes.give()
        p.src.passing = None
        if p.dst.passing_to is p:
            p.dst.passing_to = None
        p.src.release(BODY)

    # -- the poller's callbacks (poller.BodyOwner) -----------------------------------------

    def counted(self, end: Any, pkts: int, nbytes: int, last: float) -> None:
        s = self.s
        ep: Endpoint = end
        x = s.x
        counters = s.fe.counters
        p = self.passes.get(ep.fd)
        sc = p.sc if p is not None else s.sc
        if self.piped:
            self._spliced(ep, sc)
        dst = p.dst if p is not None else s.client if ep is not s.client else None
        if dst is None and sc is not None:
            dst = sc.ep
        _h1_bytes(ep, dst, nbytes)
        if ep is s.client:  # (bin/bout: the exchange's sizes, sizes.settle)
            counters.inpkts += pkts
            if x is not None and p is not None and p.mode == DATA:  # a tunnel's
                sizes.tunnelled(x, True, nbytes)
        else:
            counters.outpkts += pkts
            if sc is not None:
                sc.srv.counters.outpkts += pkts
            if x is not None and p is not None and p.mode == DATA:
                sizes.tunnelled(x, False, nbytes)
        if s.closed or sc is None or sc.handler is not s:
            return
        # activity: a tunnel's timer moves with either way, timeout server with the server's
        if s.cm.phase is ClientPhase.TUNNEL:
            s.client_event(ev.BodyProgressed(last))
            s.server_event(sc, ev.BodyProgressed(last))
        elif ep is not s.client:
            s.server_event(sc, ev.BodyProgressed(last))

    def spilled(self, end: Any, data: bytes | None, err: int) -> None:
        p = self.passes.get(end.fd)
        if p is None:
            return
        if data and p.dst.h1 is not None:  # counted as sent by `counted`: it was not (yet)
            p.dst.h1.bytes_out -= len(data)
        if err:  # a read (data None) or a write failed: the socket at fault fails
            self.passes.pop(end.fd, None)
            self._detach(p)
            self._unfast(end)
            failed = p.src if data is None else p.dst
            failed.owner.failed(failed)
            if data is not None and p.mode != DATA:
                # The peer is gone with the body half passed (a server that answered and
                # closed during the upload): the body cannot be taken up where the C path
                # left it, so it ends cut and the connection closes after the response, as
                # HAProxy closes it.
                self._cut(p)
            return
        if data:
            p.dst.write(data)
        if end.fd in self.passes and not p.dst.closed:
            p.spilled = True
            if p.mode == DATA:
                self._unfast(end)
            if p.dst.connected and not p.dst.backlog:
                # The peer took the rest at once (it read meanwhile, on another CPU): no
                # drain will come to resume the pass, so it goes on now (held, it waited
                # for the peer's timeout: nginx's 5 s lingering close under 4 uploads).
                self._resume(p)
            else:
                end.hold(BODY)

    def _cut(self, p: Pass) -> None:
        s = self.s
        if s.closed:
            return
        if p.request:
            s.client_event(ev.BodyPassed(BodyCut(Side.CLIENT, 0, 0)))
        elif p.sc.handler is s:
            s.server_event(p.sc, ev.BodyPassed(BodyCut(Side.SERVER, 0, 0)))

    def ended(self, end: Any, how: int) -> None:
        return  # no EOF mode is asked for: an EOF comes to the Endpoint

    def body_ended(self, end: Any, event: BodyEnded) -> None:
        p = self.passes.pop(end.fd, None)
        if p is None:
            return
        self._detach(p)
        s = self.s
        if s.x is not None:
            sizes.passed(s.x, p.request, event)
        if s.closed:
            return
        if p.request:
            s.client_event(ev.BodyPassed(event))
        elif p.sc.handler is s:
            s.server_event(p.sc, ev.BodyPassed(event))

    def _spliced(self, ep: Endpoint, sc: ServerConn | None) -> None:
        """The bytes the pump spliced from `ep` to its peer: h1_spliced_bytes_in of the
        side they came from, h1_spliced_bytes_out of the side they went to."""
        got, sent = self.poller.piped(ep.fd)
        if not got:
            return
        s = self.s
        be = (sc.conns.be if sc.conns is not None else s.up.be) if sc is not None else s.up.be
        fe_h1 = s.fe.h1
        be_h1 = be.h1 if be is not None else None
        if ep is s.client:
            fe_h1.spliced_in += got
            if be_h1 is not None:
                be_h1.spliced_out += sent
        else:
            fe_h1.spliced_out += sent
            if be_h1 is not None:
                be_h1.spliced_in += got


def _options(http: HttpSpec | None) -> splicing.SpliceOptions:
    if http is None:
        return splicing.NONE
    return splicing.SpliceOptions(http.splice_request, http.splice_response, http.splice_auto)


def _h1_bytes(src: Endpoint, dst: Endpoint | None, nbytes: int) -> None:
    """What the C path read from `src` and sent to `dst`, in their H1 stats modules (what
    it could not send comes back through `spilled`, which takes it off again)."""
    if src.h1 is not None:
        src.h1.bytes_in += nbytes
    if dst is not None and dst.h1 is not None:
        dst.h1.bytes_out += nbytes
