"""The HTTP actions that end or suspend a rule set: `allow`, `deny`, `tarpit`, `reject`,
`return`, `auth`, `redirect`, `use-service`, `wait-for-body`, `wait-for-handshake`
(src/http_act.c, src/http_ana.c http_apply_redirect_rule and http_wait_for_msg_body;
HAProxy 2.6).

`deny` and `tarpit` only choose the reply (txn->http_reply) and end the set with DENY; the
caller answers (after the tarpit delay for `tarpit`).  `return`, `auth` and `redirect` build
their response at once (`Txn.response`) and end the set with ABRT; the caller runs the
`http-after-response` rules on it and sends it.  A `redirect` whose `location` log-format
gives nothing with `ignore-empty` is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.rules.replies import ErrorMessage, Reply, Response, build, error_message
from pylvs.proto.sample.message import HttpMessage, uri_path


@dataclass(frozen=True, slots=True)
class Allow:
    def run(self, x: Exec) -> Ret:
        return Ret.STOP


@dataclass(frozen=True, slots=True)
class Deny:
    """`deny` and `tarpit` with their reply (http-request: 403 / 500, http-response: 502)."""

    reply: Reply
    tarpit: bool = False

    def run(self, x: Exec) -> Ret:
        x.txn.status = self.reply.status
        x.txn.reply = self.reply
        x.txn.tarpit = self.tarpit
        return Ret.DENY


@dataclass(frozen=True, slots=True)
class Reject:
    """`http-request reject`, `tcp-request ... reject`: close without an answer."""

    def run(self, x: Exec) -> Ret:
        return Ret.DENY if x.rule_set.startswith("tcp-") else Ret.ABRT


def answer(x: Exec, reply: Reply) -> Response:
    backend, frontend = x.txn.pages
    return build(reply, x.stream, backend, frontend)


@dataclass(frozen=True, slots=True)
class Return:
    reply: Reply

    def run(self, x: Exec) -> Ret:
        x.txn.status = self.reply.status
        x.txn.response = answer(x, self.reply)
        x.txn.local_reply = True
        intercepted(x)
        return Ret.ABRT


@dataclass(frozen=True, slots=True)
class Auth:
    """`auth [realm REALM]`: the proxy's 401 page with `WWW-Authenticate: Basic realm=...`
    (407 and `Proxy-Authenticate` for a proxy request, which pylvs does not serve)."""

    realm: bytes | None = None

    def run(self, x: Exec) -> Ret:
        x.txn.status = 401
        backend, frontend = x.txn.pages
        reply = error_message(401, backend, frontend)
        resp = build(reply, x.stream, backend, frontend)
        realm = self.realm if self.realm is not None else x.proxy.encode()
        resp.head.delete(lambda n: n == b"www-authenticate")
        resp.head.add(b"www-authenticate", b'Basic realm="' + realm + b'"')
        x.txn.response = resp
        x.txn.local_reply = True
        intercepted(x)
        return Ret.ABRT


_REDIRECT_REASONS = {
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    307: b"Temporary Redirect",
    308: b"Permanent Redirect",
}


@dataclass(frozen=True, slots=True)
class Redirect:
    """`redirect location|prefix|scheme VALUE [code N] [drop-query] [append-slash]
    [set-cookie NAME[=VALUE]] [clear-cookie NAME] [ignore-empty]`."""

    kind: str  # "location" | "prefix" | "scheme"
    value: LogFormat
    code: int = 302
    drop_query: bool = False
    append_slash: bool = False
    cookie: bytes | None = None  # the Set-Cookie value
    ignore_empty: bool = False

    def location(self, x: Exec) -> bytes | None:
        s = x.stream
        built = self.value.build(s)
        if self.kind == "location":
            if not built and self.ignore_empty:
                return None
            return built
        req = s.request
        if req is None:
            return None
        path = uri_path(req.uri)
        if path is not None and self.drop_query:
            path = path.split(b"?", 1)[0]
        if path is None:
            path = b"/"
        if self.kind == "scheme":
            out = built + b"://" + (req.first(b"host") or b"") + path
        else:
            constant = self.value.constant
            prefix = b"" if constant == b"/" else built
            out = prefix + path
        if out and not out.endswith(b"/") and self.append_slash:
            out += b"/"
        return out

    def run(self, x: Exec) -> Ret:
        location = self.location(x)
        if location is None:
            return Ret.CONT  # ignore-empty: skipped
        fields: list[tuple[bytes, bytes]] = []
        if not x.txn.req_body_done:
            fields.append((b"connection", b"close"))
        fields.append((b"content-length", b"0"))
        fields.append((b"location", location))
        if self.code in (302, 303, 307):
            fields.append((b"cache-control", b"no-cache"))
        if self.cookie is not None:
            fields.append((b"set-cookie", self.cookie))
        head = HttpMessage.make_response(self.code, _REDIRECT_REASONS[self.code], fields)
        x.txn.status = self.code
        x.txn.response = Response(head, b"")
        x.txn.local_reply = True
        intercepted(x)  # http_apply_redirect_rule: REDIRECT_FLAG_FROM_REQ
        return Ret.ABRT


@dataclass(frozen=True, slots=True)
class UseService:
    """`use-service NAME`: an applet answers the stream from here on (pylvs has the
    Prometheus exporter); the set ends, the request goes to no server."""

    name: str

    def run(self, x: Exec) -> Ret:
        x.txn.service = self.name
        if x.proxy == x.stream.frontend.name:
            x.txn.intercepted = True  # an applet of the frontend's own rules (stream.c)
        return Ret.STOP


def intercepted(x: Exec) -> None:
    """A request rule of the frontend answered (return, auth, redirect): the frontend counts
    it as intercepted (http_act.c, http_ana.c: "if (s->sess->fe == s->be)", true while the
    frontend's own rules run; a response rule's answer is not counted)."""
    if x.rule_set in ("http-request", "redirect") and x.proxy == x.stream.frontend.name:
        x.txn.intercepted = True


@dataclass(frozen=True, slots=True)
class WaitForBody:
    """`wait-for-body time T [at-least BYTES]`: suspend the set until the whole body (or
    BYTES of it) is there, the buffer is full, or T passes (then 408 for a request, 504
    for a response)."""

    time_ms: int
    at_least: int = 0

    def run(self, x: Exec) -> Ret:
        s, txn = x.stream, x.txn
        response = x.rule_set == "http-response"
        msg = s.response if response else s.request
        if msg is None or (not response and msg.method == b"CONNECT"):
            return Ret.CONT
        done = txn.res_body_done if response else txn.req_body_done
        body = (s.res_body if response else s.req_body) or b""
        if done or txn.buffer_full or (self.at_least and len(body) >= self.at_least):
            txn.wait_until = None
            return Ret.CONT
        if txn.wait_until is not None and s.now >= txn.wait_until:
            txn.wait_until = None
            status = 504 if response else 408
            txn.status = status
            txn.response = answer(x, ErrorMessage(status))
            return Ret.ABRT
        if txn.wait_until is None:
            txn.wait_until = s.now + self.time_ms / 1000
        return Ret.YIELD


@dataclass(frozen=True, slots=True)
class WaitForHandshake:
    """`wait-for-handshake`: waits for a TLS handshake that carried early data; pylvs
    terminates no TLS, so there is never one to wait for."""

    def run(self, x: Exec) -> Ret:
        return Ret.CONT
