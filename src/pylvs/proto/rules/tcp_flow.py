"""The TCP rule phases (src/tcp_rules.c tcp_exec_l4_rules, tcp_exec_l5_rules,
tcp_inspect_request, tcp_inspect_response; HAProxy 2.6).

* `connection(txn, fe)`: `tcp-request connection` rules, right after accept, before any
  data: accept (stop), reject (close at once, no stream), or the end of the list (accept).
  Only layer-4 information is there; the rules see the session (`sc*` tracked here are the
  session's and count for every stream of the connection).
* `session(txn, fe)`: `tcp-request session` rules, once the handshakes (PROXY protocol)
  are done; same verdicts.
* `content(txn, px, final=...)`: `tcp-request content` rules of a frontend (then, after
  switching, of the backend), with the request's first bytes in `stream.req_payload`.
  Until the proxy's `tcp-request inspect-delay` ends (`final=False`), a condition missing
  data, or a capture/track whose sample may still grow, makes the phase `Wait` until the
  delay's end (the driver calls again on new data or then); rules already run are run
  again on the next call, as HAProxy does.  Without an inspect delay every call is final.
  With `response=True`: the backend's `tcp-response content` rules on the response's
  first bytes (`close` asks for the server connection to be closed after the response).

* `request(txn, proxies, final=...)`: a `mode tcp` stream's whole request side, in
  process_stream's order: the frontend's `tcp-request content` rules, the switching rules
  (http_flow.switch), the backend's `tcp-request content` rules when the backend is another
  proxy, then `use-server` (process_server_rules: the first rule whose condition holds and
  whose server is not down, or any with `option persist`).  A `Wait` resumes where it
  stopped.  A `switch-mode http` that ran on the frontend's content rules ends the raw
  phase there: `Upgrade`, and the stream's HTTP phases (http_flow) choose the backend, as
  stream_set_http_mode's analysers run before the switching rules.  So does a stream the
  switching rules send to a `mode http` backend (proxy.c stream_set_backend upgrades it):
  its HTTP phases go on with that backend, whose content rules run on the HTTP request.

A `Go` verdict lets the stream go on, `Drop` closes the client connection, `Service` hands
it to the applet a frontend's `use-service` named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pylvs.proto.rules.engine import Exec, Ret, Txn, run_rules
from pylvs.proto.rules.ruleset import Drop, Go, ProxyRules, Service, Upgrade, Verdict, Wait

# Whether `use-server` may send the stream to backend/server (not down, or option persist).
Usable = Callable[[str, str], bool]


def _l4(txn: Txn, fe: ProxyRules, rule_set: str) -> Verdict:
    rules = fe.tcp_connection if rule_set == "tcp-request connection" else fe.tcp_session
    out = run_rules(rules, Exec(txn, fe.name, rule_set))
    if out.ret in (Ret.CONT, Ret.STOP, Ret.DONE, Ret.YIELD):
        return Go()
    return Drop(silent=txn.silent_drop)


def connection(txn: Txn, fe: ProxyRules) -> Verdict:
    return _l4(txn, fe, "tcp-request connection")


def session(txn: Txn, fe: ProxyRules) -> Verdict:
    return _l4(txn, fe, "tcp-request session")


def content(txn: Txn, px: ProxyRules, *, final: bool, response: bool = False) -> Verdict:
    """One call of tcp_inspect_request / tcp_inspect_response (see the module doc)."""
    s = txn.stream
    delay = px.response_inspect_delay_ms if response else px.inspect_delay_ms
    key = "res" if response else "req"
    if not delay:
        final = True
    elif not final:
        deadline = txn.inspect_until.get(key)
        if deadline is None:
            deadline = s.now + delay / 1000
            txn.inspect_until[key] = deadline
        final = s.now >= deadline
    s.final = final
    rule_set = "tcp-response content" if response else "tcp-request content"
    rules = px.tcp_response if response else px.tcp_content
    x = Exec(txn, px.name, rule_set, final=final)
    out = run_rules(rules, x, may_miss=not final)
    s.final = True
    if out.ret is Ret.YIELD:
        if final:
            return Drop()  # "yield not allowed if the inspect-delay expired": internal error
        until, txn.wait_until = txn.inspect_until.get(key), None
        if x.txn.resolving is not None and until is not None:  # do-resolve looks again
            until = min(until, s.now + 0.005)
        return Wait(until)
    txn.inspect_until.pop(key, None)
    if out.ret in (Ret.CONT, Ret.STOP, Ret.DONE):
        return Go()
    return Drop(silent=txn.silent_drop)


def switch(txn: Txn, proxies: Mapping[str, ProxyRules], fe: ProxyRules) -> str:
    """process_switching_rules (src/stream.c): the first `use_backend` whose condition
    holds decides; a `%[...]` name that names no backend (proxy_be_by_name: backends and
    listen sections only) ends the loop too, and the stream goes to `default_backend`, else
    to the frontend itself (a listen section).  haproxy 2.6.12 on `use_backend
    %[req.payload(0,2)]`, then `use_backend b2`, `default_backend b1`: "zz" reaches b1."""
    s = txn.stream
    for rule in fe.switching:
        if rule.cond is not None and not rule.cond.holds(s):
            continue
        name = rule.backend.build(s).decode("latin-1")
        target = proxies.get(name)
        if target is not None and target.is_backend:
            return name
        break
    return fe.default_backend or fe.name


def use_server(txn: Txn, be: ProxyRules, usable: Usable | None) -> str | None:
    """process_server_rules: the server the first holding `use-server` rule names, if it
    may take the stream (else the next rule)."""
    s = txn.stream
    for rule in be.use_server:
        if rule.cond.holds(s) and (usable is None or usable(be.name, rule.server)):
            return rule.server
    return None


def request(
    txn: Txn,
    proxies: Mapping[str, ProxyRules],
    *,
    final: bool,
    usable: Usable | None = None,
) -> Verdict:
    """A tcp stream's request side (see the module doc); `Go(backend, server)`."""
    s = txn.stream
    fe = proxies[s.frontend.name]
    if txn.stage == "fe-content":
        verdict = content(txn, fe, final=final)
        if not isinstance(verdict, Go):
            return verdict
        if txn.service is not None:  # `use-service`: a Lua tcp applet takes the stream
            return Service(txn.service)
        if txn.switch_mode is not None:
            txn.stage = "monitor"  # the HTTP phases go on after the content rules
            return Upgrade(txn.switch_mode)
        name = switch(txn, proxies, fe)
        s.backend = proxies[name].ref
        txn.backend = name
        if proxies[name].mode == "http":  # stream_set_backend: a tcp stream to HTTP
            txn.stage = "monitor"
            return Upgrade("")
        txn.stage = "be-content" if name != fe.name else "server"
    be = proxies[txn.backend or fe.name]
    if txn.stage == "be-content":
        verdict = content(txn, be, final=final)
        if not isinstance(verdict, Go):
            return verdict
        txn.stage = "server"
    txn.stage = "done"
    return Go(be.name, use_server(txn, be, usable))
