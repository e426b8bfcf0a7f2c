"""The HTTP rule phases of one client connection, on the runtime's compiled rules.

proto/rules/http_flow runs HAProxy 2.6's request phases (the frontend's `http-request`
rules, `redirect`, the switching rules: `use_backend`/`default_backend`, the backend's rules,
`use-server`), the response phases (`http-response` of the backend then the frontend) and
`http-after-response`; this keeps what they share per connection (the sample Session:
addresses, `http_first_req`, tracked counters) and per request (the Stream and its Txn), and
turns heads into the messages rules edit and back (proto/rules/h1.py).  HAProxy's own
answers (a deny's 403, the 502/503/504 of a failed server side, errorfiles) are built
through `http_flow.error_reply`, so the proxies' error pages and `http-after-response`
rules apply to them as in src/http_ana.c.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.limits import HTX_STRUCT, Limits, htx_fields_size, htx_head_size
from pylvs.proto.http.message import Fields, RequestHead, ResponseHead
from pylvs.proto.rules import counters, h1, http_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.replies import Response
from pylvs.proto.rules.ruleset import Go, Respond, Verdict, Wait
from pylvs.proto.sample import Session, Stream

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.runtime import ProxyRuntime

    from .body_wait import BodySoFar


class Phases:
    """The rule phases of one connection of frontend `frontend` (see the module doc)."""

    __slots__ = ("carried", "held", "limits", "persist", "proxies", "sess", "txn")

    def __init__(self, runtime: ProxyRuntime, sess: Session, carried: Txn | None = None) -> None:
        self.proxies = runtime.rules.proxies
        self.sess = sess  # the connection's (frontend.py made it and ran its session rules)
        self.txn: Txn | None = None
        # a stream `switch-mode http` switched: the first request's, past its content rules
        self.carried = carried
        self.limits = runtime.http.limits
        self.held = [0, 0]  # the HTX size of the request's / response's body in the buffer
        # the driver's on_response hooks (cookie persistence) on the head the http-response
        # rules left, before http-after-response: the head they edited, or a status to answer
        self.persist: Callable[[ResponseHead], ResponseHead | int] | None = None

    def request(self, head: RequestHead, now: float) -> Verdict:
        """A new request's phases, up to its backend (`Go`) or the answer that ends it."""
        self.begin(head, now)
        assert self.txn is not None
        return http_flow.request(self.txn, self.proxies)

    def begin(self, head: RequestHead, now: float) -> None:
        """A new request's stream, before its phases run (`again`)."""
        carried, self.carried = self.carried, None
        self.ended(now)
        self.sess.requests += 1
        msg = h1.request_message(head)
        msg.room = room(self.limits, (head.method, head.target, head.version), head.fields)
        self.held[0] = 0
        if carried is not None:  # the switched stream: the HTTP phases go on from its rules
            stream = carried.stream
            stream.now, stream.request = now, msg
            carried.commands.clear()
        else:
            stream = Stream(self.sess, now=now, request=msg)
        stream.remember_request()  # the request line as received: what %r logs
        self.txn = carried or Txn(stream)

    def continue_sent(self) -> None:
        """The proxy answered `Expect: 100-continue` itself: the field is not forwarded."""
        if self.txn is not None and self.txn.stream.request is not None:
            self.txn.stream.request.delete(lambda name: name == b"expect")

    def body(self, so_far: BodySoFar, *, response: bool) -> None:
        """What the rules see of the body their message waits for (body_wait.py)."""
        txn = self.txn
        if txn is None:
            return
        if response:
            txn.stream.res_body = bytes(so_far.data)
            txn.res_body_done = so_far.done
        else:
            txn.stream.req_body = bytes(so_far.data)
            txn.req_body_done = so_far.done
        txn.buffer_full = so_far.full
        self._hold(response, min(len(so_far.data), so_far.room))

    def _hold(self, response: bool, size: int) -> None:
        """`size` bytes of the message's body are in its buffer: one HTX data block, which
        takes from the room the message's rewrites have."""
        txn = self.txn
        msg = None if txn is None else txn.stream.response if response else txn.stream.request
        block = size + 8 if size > 0 else 0
        if msg is not None and msg.room is not None:
            msg.room -= block - self.held[response]
        self.held[response] = block

    def ended(self, now: float) -> None:
        """The request's stream is over: the counters it tracked go back (counters.py)."""
        for txn in (self.txn, self.carried):
            if txn is not None:
                txn.stream.now = now
                counters.stop_stream(txn.stream)
        self.txn = self.carried = None

    def closed(self, now: float) -> None:
        """The connection is over: the session's tracked counters go back."""
        self.ended(now)
        counters.stop_session(self.sess, now)

    @property
    def stream(self) -> Stream | None:
        return self.txn.stream if self.txn is not None else None

    def again(self, now: float) -> Verdict:
        """The request phases once more (after a Wait), from where they stopped."""
        assert self.txn is not None
        self.txn.stream.now = now
        return http_flow.request(self.txn, self.proxies)

    def forwarded(self, head: RequestHead) -> RequestHead:
        """The request head as the rules left it."""
        assert self.txn is not None and self.txn.stream.request is not None
        return h1.request_head(self.txn.stream.request, head)

    def response(
        self, head: ResponseHead, now: float, body: BodySoFar | None = None, arrived: int = 0
    ) -> ResponseHead | Answer | Wait | None:
        """The response phases on a server's final head: the head to write (edited), an
        answer to write instead (a deny: 502, a rule error: 500), a wait (wait-for-body:
        `response_again` once more of the body came or at its deadline) or None (drop).
        `arrived`: the body bytes read with the head (in the buffer when the rules run)."""
        txn = self.txn
        if txn is None:
            return head
        s = txn.stream
        s.response = h1.response_message(head)
        s.response.room = room(self.limits, (head.version, head.code, head.reason), head.fields)
        self.held[1] = 0
        s.status = head.status
        s.res_body = None
        if body is not None:
            self.body(body, response=True)
            self._hold(True, min(max(arrived, len(body.data)), body.room))
        return self.response_again(head, now)

    def response_again(self, head: ResponseHead, now: float) -> ResponseHead | Answer | Wait | None:
        """The response phases from where they stopped (see `response`)."""
        txn = self.txn
        if txn is None:
            return head
        s = txn.stream
        s.now = now
        verdict = http_flow.response(txn, self.proxies)
        if isinstance(verdict, Respond):
            return answer(verdict.response)
        if isinstance(verdict, Wait):
            return verdict
        if not isinstance(verdict, Go) or s.response is None:
            return None
        edited = h1.response_head(s.response, head)
        s.status = edited.status
        if self.persist is not None:
            hooked = self.persist(edited)
            if isinstance(hooked, int):  # option checkcache's deny (persistence.py)
                return self.error(hooked)
            if hooked is not edited:
                self._rewritten(hooked)
                edited = hooked
        if not http_flow.after_response(txn, self.proxies):
            txn.const_reply = True
            txn.internal_error = True
            return self.error(500)
        return h1.response_head(s.response, edited)

    def _rewritten(self, head: ResponseHead) -> None:
        """The hooks' fields in the rules' message: http_process_res_common inserts the
        persistence cookie (and `Cache-control: private`) there, in the buffer the
        http-after-response rules then edit, taking from their room."""
        msg = self.txn.stream.response if self.txn is not None else None
        if msg is None:
            return
        fields = [(n.lower(), v) for n, v in head.fields]
        if msg.room is not None:
            msg.room -= htx_fields_size(fields) - htx_fields_size(msg.fields)
        msg.fields = fields

    def own(self, resp: Response) -> Answer:
        """An applet's response (the stats page) through the http-after-response rules."""
        if self.txn is None:
            return answer(resp)
        return answer(http_flow.finish(self.txn, self.proxies, resp))

    def error(self, status: int) -> Answer:
        """HAProxy's answer `status` for this request: the proxies' error pages, through
        their http-after-response rules."""
        txn = self.txn
        if txn is None:
            return Answer.page(status)
        verdict = http_flow.error_reply(txn, self.proxies, status)
        assert isinstance(verdict, Respond)
        return answer(verdict.response)


def room(limits: Limits, parts: tuple[bytes, bytes, bytes], fields: Fields) -> int:
    """What a message's rewrites may add: the buffer's HTX size (tune.bufsize less the HTX
    header) less the head's HTX size; its body takes from it as it is buffered (`_hold`).
    Reading stops `tune.maxrewrite` short of the end, so at least that much is left
    (htx_add_header and htx_replace_blk_value fail past it: strict_rw_mode.vtc)."""
    return limits.bufsize - HTX_STRUCT - htx_head_size(parts, fields)


def answer(resp: Response) -> Answer:
    return h1.answer(resp)
