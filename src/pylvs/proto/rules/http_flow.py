"""The HTTP rule phases of one request and its response, in HAProxy 2.6's order
(src/http_ana.c http_process_req_common, http_process_res_common, http_eval_after_res_rules,
http_reply_and_close; src/stream.c process_switching_rules, process_server_rules).

Request (`request()`), once the head is parsed; every step may end it:

1. a `PRI` request is a 400 (the HTTP/2 preface on HTTP/1: http_wait_for_request); the
   frontend's `monitor-uri` (a request for it gets the 200 page, or the 503 one when a
   `monitor fail` condition holds: http_wait_for_request), then its `http-request` rules;
   then `use-service` (an applet answers), then its `redirect` rules (the first whose
   condition holds answers);
2. the switching rules: the first `use_backend` whose condition holds (a log-format name
   that names no backend ends them too), else `default_backend`, else the
   frontend itself (a listen section);
3. if the backend is another proxy: its `tcp-request content` rules, its `http-request`
   rules and its `redirect` rules;
4. the backend's `use-server` rules.

How a rule set ends decides the rest: `deny` answers its reply (403 by default) or, for
`tarpit`, holds the client `timeout tarpit` first (500 by default); `return`, `auth`,
`redirect` answer the response they built; `reject` and `silent-drop` close; an error
answers 500, an invalid message 400.  Every answer goes through the `http-after-response`
rules of the backend, then of the frontend, unless it is the 500 of a failed
after-response rule (TX_CONST_REPLY).

Response (`response()`): the backend's `tcp-response content` rules, then the backend's and
the frontend's `http-response` rules (deny: 502; an error: 500, an invalid response: 502);
a response that goes on to the client also gets the `http-after-response` rules
(`after_response()`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping

from pylvs.proto.rules.engine import Exec, Outcome, Ret, Txn, run_rules
from pylvs.proto.rules.replies import ErrorMessage, Response, build
from pylvs.proto.rules.ruleset import (
    Drop,
    Go,
    ProxyRules,
    Respond,
    Service,
    Tarpit,
    Verdict,
    Wait,
)
from pylvs.proto.rules.tcp_flow import Usable, content, switch, use_server
from pylvs.proto.sample.message import uri_path
from pylvs.proto.sample.stream import Stream

Proxies = Mapping[str, ProxyRules]


def _exec(txn: Txn, px: ProxyRules, rule_set: str) -> Exec:
    return Exec(txn, px.name, rule_set)


def _pages(txn: Txn, proxies: Proxies) -> None:
    s = txn.stream
    fe = proxies.get(s.frontend.name)
    be = proxies.get(s.backend.name) if s.backend is not None else None
    txn.pages = (be.pages if be else None, fe.pages if fe else None)


def error_reply(txn: Txn, proxies: Proxies, status: int) -> Verdict:
    """Answer `status` with the proxy's error message for it (return_prx_err)."""
    txn.status = status
    _pages(txn, proxies)
    backend, frontend = txn.pages
    resp = build(ErrorMessage(status), txn.stream, backend, frontend)
    return Respond(finish(txn, proxies, resp))


def _ended(txn: Txn, proxies: Proxies, px: ProxyRules, out: Outcome) -> Verdict | None:
    """What an http-request rule set's end means (None: go on)."""
    ret = out.ret
    if ret in (Ret.CONT, Ret.STOP, Ret.DONE):
        return None
    if ret is Ret.YIELD:
        return Wait(txn.wait_until)
    if ret is Ret.DENY:
        txn.denied_req = True  # deny and tarpit (denied_req)
        txn.denied_be = txn.backend is not None  # SF_BE_ASSIGNED
        _pages(txn, proxies)
        backend, frontend = txn.pages
        reply = txn.reply if txn.reply is not None else ErrorMessage(txn.status)
        resp = build(reply, txn.stream, backend, frontend)  # type: ignore[arg-type]
        if txn.tarpit:
            return Tarpit(finish(txn, proxies, resp), txn.stream.now + px.tarpit_ms / 1000)
        return Respond(finish(txn, proxies, resp))
    if ret is Ret.ABRT:
        if txn.response is None:
            return Drop(silent=txn.silent_drop)
        return Respond(finish(txn, proxies, txn.response))
    if ret is Ret.INV:
        return error_reply(txn, proxies, 400)
    txn.internal_error = True  # return_int_err (eint)
    return error_reply(txn, proxies, 500)


def _redirects(txn: Txn, proxies: Proxies, px: ProxyRules) -> Verdict | None:
    out = run_rules(px.redirects, _exec(txn, px, "redirect"))
    return _ended(txn, proxies, px, out)


def _http_rules(txn: Txn, proxies: Proxies, px: ProxyRules) -> Verdict | None:
    _pages(txn, proxies)  # a `return ... default-errorfiles` or `auth` reads them
    out = run_rules(px.http_request, _exec(txn, px, "http-request"))
    verdict = _ended(txn, proxies, px, out)
    if verdict is not None:
        return verdict
    if txn.service is not None:
        return Service(txn.service)
    if out.ret is Ret.DONE:
        return None
    if px.restrict_hdr_names is not None and not _restrict_names(txn, px.restrict_hdr_names):
        return error_reply(txn, proxies, 403)
    return _redirects(txn, proxies, px)


def _restrict_names(txn: Txn, mode: str) -> bool:
    """http_req_restrict_header_names: a field whose name has a character other than a
    letter, a digit or '-' is removed ("delete"), or refuses the request ("reject": False,
    answered 403 as a deny)."""
    req = txn.stream.request
    if req is None:
        return True
    bad = [n for n, _ in req.fields if not _NAME_OK.fullmatch(n)]
    if not bad:
        return True
    if mode == "reject":
        return False
    req.delete(lambda n: not _NAME_OK.fullmatch(n))
    return True


_NAME_OK = re.compile(rb"[A-Za-z0-9-]*")


UNIQUEID_LEN = 128  # the longest unique id HAProxy builds


def unique_id(s: Stream, fe: ProxyRules) -> None:
    """http_process_request: the frontend's unique id, if a rule did not ask for it already,
    and its `unique-id-header` field on the request going to the server."""
    if s.unique_id is None and fe.unique_id is not None:
        s.unique_id = fe.unique_id.build(s)[:UNIQUEID_LEN]
    if fe.unique_id_header and s.unique_id is not None and s.request is not None:
        s.request.add(fe.unique_id_header, s.unique_id)


def request(txn: Txn, proxies: Proxies, usable: Usable | None = None) -> Verdict:
    """Run the request phases from where the last call stopped (see the module doc); on
    `Go`, `backend` is the backend's name and `server` what `use-server` chose (a server
    `usable` refuses is passed over, as process_server_rules passes over a down one)."""
    s = txn.stream
    fe = proxies[s.frontend.name]
    if fe.unique_id is not None and s.make_unique_id is None:
        # the `unique-id` fetch builds it on first use (stream_generate_unique_id)
        build = fe.unique_id.build
        s.make_unique_id = lambda st: build(st)[:UNIQUEID_LEN]
    while True:
        stage = txn.stage
        if stage == "fe-content":
            verdict = content(txn, fe, final=True)
            if not isinstance(verdict, Go):
                return verdict
        elif stage == "monitor":
            done = _wait_for_request(txn, proxies, fe)
            if done is not None:
                return done
        elif stage == "fe-http":
            done = _http_rules(txn, proxies, fe)
            if done is not None:
                return done
        elif stage == "switch":  # (a tcp stream upgraded by its backend has it: tcp_flow)
            name = txn.backend or switch(txn, proxies, fe)
            s.backend = proxies[name].ref
            txn.backend = name
            if name == fe.name:
                txn.stage = "server"
                continue
        elif stage in ("be-body", "be-content"):  # its http-buffer-request, its content rules
            be = proxies[txn.backend or fe.name]
            got = _backend_body(txn, proxies, fe, be) if stage == "be-body" else None
            got = got or (content(txn, be, final=True) if stage == "be-content" else None)
            if got is not None and not isinstance(got, Go):
                return got
        elif stage == "be-http":
            done = _http_rules(txn, proxies, proxies[txn.backend or fe.name])
            if done is not None:
                return done
        else:
            be = proxies[txn.backend or fe.name]
            txn.stage = "done"
            unique_id(s, fe)
            return Go(be.name, use_server(txn, be, usable))
        txn.stage = _NEXT[stage]


def _wait_for_request(txn: Txn, proxies: Proxies, fe: ProxyRules) -> Verdict | None:
    """http_wait_for_request's answers: a `PRI` request (the HTTP/2 preface read as HTTP/1)
    is a 400, a request for the `monitor-uri` its 200 or 503."""
    s = txn.stream
    if s.request is not None and s.request.method.upper() == b"PRI":
        return error_reply(txn, proxies, 400)  # "PRI is reserved for the HTTP/2 preface"
    if fe.monitor_uri is not None and _monitored(s, fe.monitor_uri):
        failed = any(c.holds(s) for c in fe.monitor_fail)
        txn.intercepted = True
        return error_reply(txn, proxies, 503 if failed else 200)
    return None


def _monitored(s: Stream, monitor_uri: bytes) -> bool:
    """http_wait_for_request: a monitor-uri starting with '/' matches the request's path
    (with its query), any monitor-uri matches the whole target."""
    req = s.request
    if req is None:
        return False
    if monitor_uri[:1] == b"/" and uri_path(req.uri) == monitor_uri:
        return True
    return req.uri == monitor_uri


_NEXT = {
    "fe-content": "monitor",
    "monitor": "fe-http",
    "fe-http": "switch",
    "switch": "be-body",
    "be-body": "be-content",
    "be-content": "be-http",
    "be-http": "server",
}


def _backend_body(txn: Txn, proxies: Proxies, fe: ProxyRules, be: ProxyRules) -> Verdict | None:
    """A backend's `option http-buffer-request` the frontend has not applied: wait for the
    request body (http_wait_for_request_body, the backend's `timeout http-request`; its
    end is a 408).  None: go on."""
    if not be.buffer_request or fe.buffer_request or be is fe:
        return None
    if txn.req_body_done or txn.buffer_full:
        txn.wait_until = None
        return None
    now = txn.stream.now
    if txn.wait_until is not None and now >= txn.wait_until:
        txn.wait_until = None
        return error_reply(txn, proxies, 408)
    if txn.wait_until is None and be.http_request_ms is not None:
        txn.wait_until = now + be.http_request_ms / 1000
    return Wait(txn.wait_until)


def response(txn: Txn, proxies: Proxies) -> Verdict:
    """The response phases: `Go` lets the (edited) response go on to `after_response`."""
    with response_side(txn.stream):
        return _response(txn, proxies)


@contextlib.contextmanager
def response_side(s: Stream) -> Iterator[None]:
    """Rules of the response direction: request fetches find nothing (smp_prefetch_htx
    refuses the request channel for SMP_OPT_DIR_RES; the request is forwarded by then)
    except what is kept aside (the method, captures, variables)."""
    saved, in_response = s.request, s.in_response
    s.request, s.in_response = None, True
    try:
        yield
    finally:
        s.request, s.in_response = saved, in_response


def _response(txn: Txn, proxies: Proxies) -> Verdict:
    s = txn.stream
    fe = proxies[s.frontend.name]
    be = proxies[txn.backend or fe.name]
    if txn.res_stage == "content":
        verdict = content(txn, be, final=True, response=True)
        if not isinstance(verdict, Go):
            return verdict
        txn.res_stage = "be"
    order = [be] if be is fe else [be, fe]
    _pages(txn, proxies)
    if txn.res_stage == "fe" and be is not fe:  # resumed in the frontend's rules
        order = order[1:]
    for px in order:
        txn.res_stage = "fe" if px is fe else "be"
        out = run_rules(px.http_response, _exec(txn, px, "http-response"))
        if out.ret is Ret.YIELD:
            return Wait(txn.wait_until)
        if out.ret is Ret.DENY:
            txn.denied_resp = True
            _pages(txn, proxies)
            backend, frontend = txn.pages
            reply = txn.reply if txn.reply is not None else ErrorMessage(502)
            resp = build(reply, s, backend, frontend)  # type: ignore[arg-type]
            return Respond(finish(txn, proxies, resp))
        if out.ret is Ret.ABRT:
            if txn.response is None:
                return Drop(silent=txn.silent_drop)
            return Respond(finish(txn, proxies, txn.response))
        if out.ret is Ret.INV:
            return error_reply(txn, proxies, 502)
        if out.ret is Ret.ERR:
            txn.internal_error = True
            return error_reply(txn, proxies, 500)
        if out.ret is Ret.DONE:
            break
    txn.res_stage = "done"
    return Go(be.name)


def after_response(txn: Txn, proxies: Proxies) -> bool:
    """http_eval_after_res_rules on the stream's response (the server's, going out):
    whether it may go; False means answer 500 instead (`error_reply(txn, proxies, 500)`
    after setting `txn.const_reply`)."""
    s = txn.stream
    fe = proxies[s.frontend.name]
    be = proxies[txn.backend or fe.name]
    _pages(txn, proxies)
    with response_side(s):
        for px in [be] if be is fe else [be, fe]:
            out = run_rules(px.http_after, _exec(txn, px, "http-after-response"))
            if out.ret not in (Ret.CONT, Ret.STOP, Ret.DONE):
                return False
            if out.ret is Ret.DONE:
                break
    return True


def finish(txn: Txn, proxies: Proxies, resp: Response) -> Response:
    """A response the proxy itself sends, through the http-after-response rules; the 500
    page (with no rules) if one of them fails (http_reply_and_close)."""
    if txn.const_reply:
        return resp
    s = txn.stream
    saved = s.response
    s.response = resp.head
    if txn.status == -1:
        txn.status = resp.head.status
    s.status = resp.head.status
    ok = after_response(txn, proxies)
    s.response = saved if not ok else resp.head
    if ok:
        return resp
    txn.const_reply = True
    txn.status = 500
    _pages(txn, proxies)
    backend, frontend = txn.pages
    return build(ErrorMessage(500), s, backend, frontend)
