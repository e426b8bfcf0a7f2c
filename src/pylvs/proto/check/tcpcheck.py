"""One run of a check's ruleset, sans I/O: events in, connection commands out.

This is HAProxy 2.6's tcpcheck_main with its rule evaluators (src/tcpcheck.c) and the
connection-error reporting of src/check.c (chk_report_conn_err), driven by a socket driver:

    run = CheckRun(ruleset, check, address, owner, ctx, timeouts)
    cmds = run.begin(now)              # Open(...) first
    cmds = run.connected(now)          # the connection is up: Write(...)s, maybe Close
    cmds = run.received(data, now)     # bytes read
    cmds = run.closed(now)             # the peer's FIN
    cmds = run.failed(error, now)      # a socket error: "Connection refused", ...
    cmds = run.expired(now)            # `now` reached `run.deadline`
    run.done                           # the result is in `check` (status, health, desc)

Rules are evaluated in order until one waits (for the connection, or for data) or stops the
run; a waiting expect resumes at the first inverted expect of its chain.  Results go through
`HealthCheck.set_status` exactly where HAProxy calls set_server_check_status (a protocol
check may call it twice in one run, as HAProxy does), and the log lines and failed-check
counts it yields are collected in `logs` / `failed_checks` for the server to emit.

Deadlines follow process_chk_conn: a connect may take `inter` (or, with `timeout check`,
min(inter, `timeout connect`)); once connected the rest takes `timeout check` when set.
That second deadline is set from an I/O callback, which does not move the task in HAProxy's
timer tree: the task still wakes at the connect deadline and only then sees the new one
(recorded: `timeout check 300ms` under `timeout connect 1s` times out after 1 s).  So
`deadline` (when the driver calls `expired`) and `expire` (the logical one) are kept apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pylvs.model.tls import TlsServerSpec
from pylvs.proto.check import custom, expect, request
from pylvs.proto.check.custom import AgentReply, Step, Verdict
from pylvs.proto.check.health import HealthCheck, LogLine
from pylvs.proto.check.response import HttpResponse
from pylvs.proto.check.rules import (
    Connect,
    Custom,
    Expect,
    ExpectKind,
    HttpSend,
    Proto,
    Rule,
    Ruleset,
    Send,
    SendKind,
    SetVar,
    step_id,
)
from pylvs.proto.check.sample import BUFSIZE, Context, Smp, evaluate, render, to_int, to_str
from pylvs.proto.check.status import Result, Status
from pylvs.proto.check.vars import set_var
from pylvs.proto.sample import types as ty

if TYPE_CHECKING:
    from pylvs.proto.check.h2 import H2Response

PROXY_V1_LOCAL = b"PROXY UNKNOWN\r\n"
PROXY_V2_LOCAL = b"\r\n\r\n\x00\r\nQUIT\n" + b"\x20\x00\x00\x00"


@dataclass(frozen=True, slots=True)
class CheckAddress:
    """Where a server's checks connect by default (server address, `addr`, `port`) and
    whether they start with a PROXY header (0 none, 1 v1, 2 v2)."""

    server_addr: str
    server_port: int = 0  # the service port (0: none)
    check_addr: str | None = None  # `addr`
    check_addr_port: int = 0
    check_port: int = 0  # `port`
    send_proxy: int = 0
    socks4: tuple[str, int] | None = None  # the server's `socks4` proxy
    check_via_socks4: bool = False  # `check-via-socks4`: the default connect goes through it
    # the default connect's multiplexer for an HTTP check (`check-proto`, else the server's
    # `proto`: init_srv_check); None: HTTP/1
    check_proto: str | None = None
    tls: TlsServerSpec | None = None  # the default connect speaks TLS with these settings


@dataclass(frozen=True, slots=True)
class Open:
    """Open a TCP connection.  `delay_ack`: do not acknowledge the SYN-ACK at once
    (TCP_QUICKACK off: the connection stays half-open on the server's side when the check
    closes right away); `preface`: bytes to send first (a PROXY header); `via`: a SOCKS4
    proxy to reach host:port through (its handshake comes before the preface)."""

    host: str
    port: int
    preface: bytes = b""
    delay_ack: bool = False
    via: tuple[str, int] | None = None
    tls: TlsServerSpec | None = None  # TLS (`check-ssl`): the handshake after the preface


@dataclass(frozen=True, slots=True)
class Write:
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection: with a reset (SO_LINGER 0) unless `linger` was asked or the
    peer already closed its side."""

    reset: bool


Command = Open | Write | Close


class Owner(Protocol):
    """What a run needs from the server it checks."""

    def uweight(self) -> int: ...

    def stopped(self) -> bool:
        """next_state == STOPPED (disable-on-404 only applies to a server not down)."""
        ...

    def server_state(self) -> str:
        """The `x-haproxy-server-state` value (httpchk_build_status_header)."""
        ...

    def agent_reply(self, reply: AgentReply) -> str | None:
        """Apply an agent's admin state, weight and maxconn; the first warning, if any."""
        ...


@dataclass(frozen=True, slots=True)
class Timeouts:
    check: int = 0  # `timeout check` (ms, 0: unset)
    connect: int = 0  # `timeout connect` (ms, 0: unset)


class _Conn:
    __slots__ = ("eos", "error", "h2", "http", "linger", "up")

    def __init__(self, http: HttpResponse | None, linger: bool) -> None:
        self.up = False
        self.eos = False
        self.error: str | None = None
        self.http = http
        self.linger = linger
        self.h2: H2Response | None = None  # `http` when the connection speaks HTTP/2


_WAIT, _CONTINUE, _STOP = "wait", "continue", "stop"


class CheckRun:
    """One check run (see the module doc)."""

    def __init__(
        self,
        ruleset: Ruleset,
        check: HealthCheck,
        *,
        address: CheckAddress,
        owner: Owner,
        ctx: Context,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self.ruleset, self.check, self.address = ruleset, check, address
        self.owner, self.ctx, self.timeouts = owner, ctx, timeouts
        self.rules: tuple[Rule, ...] = ruleset.rules
        self.step: int | None = None  # check->current_step
        self.conn: _Conn | None = None
        self.bi = bytearray()  # read data (TCP rulesets)
        self.pending = bytearray()  # received, not read yet
        self.subscribed = False  # waiting for data (SUB_RETRY_RECV)
        self.deadline: float | None = None  # when the task wakes (its place in the timers)
        self.expire: float | None = None  # the logical deadline (t->expire)
        self.done = False
        self.logs: list[LogLine] = []
        self.failed_checks = 0
        self._out: list[Command] = []
        self._method = b"OPTIONS"

    # -- events ----------------------------------------------------------------------------

    def begin(self, now: float) -> list[Command]:
        self.check.start(now)
        self.check.in_progress = True
        for name, value in self.ruleset.preset_vars:
            kind = ty.SINT if isinstance(value, int) else ty.STR
            self.ctx.set_var(name, Smp(kind, value))
        return self._run(now)

    def connected(self, now: float) -> list[Command]:
        if self.conn is not None and not self.conn.up:
            self.conn.up = True
        return self._run(now)

    def received(
        self, data: bytes, now: float, *, eof: bool = False, error: str | None = None
    ) -> list[Command]:
        """Bytes read; `eof` / `error` when the same read also met the peer's FIN or an
        error (HAProxy then judges the data it got with no more to come)."""
        if self.conn is None or self.done:
            return []
        self.pending += data
        self.conn.eos = self.conn.eos or eof
        if error is not None:
            self.conn.error = error
        self.subscribed = False
        return self._run(now)

    def closed(self, now: float) -> list[Command]:
        if self.conn is None or self.done:
            return []
        self.conn.eos = True
        self.subscribed = False
        return self._run(now)

    def failed(self, error: str, now: float, *, established: bool = False) -> list[Command]:
        """A socket error; `established`: the transport was up when it came (a SOCKS4
        proxy refusing: HAProxy cleared CO_FL_WAIT_L4_CONN on its reply, so it is a
        socket error, not a layer-4 connection problem)."""
        if self.conn is None or self.done:
            return []
        self.conn.error = error
        self.conn.up = self.conn.up or established
        self.subscribed = False
        return self._run(now)

    def expired(self, now: float) -> list[Command]:
        """The task woke at `deadline` with the check still running: a timeout if the
        logical deadline passed, else the task sleeps again until it."""
        if self.done:
            return []
        if self.expire is not None and now < self.expire:
            self.deadline = self.expire
            return []
        self._out = []
        self._report_conn_err(now, None, expired=True)
        return self._finish(now)

    # -- tcpcheck_main ---------------------------------------------------------------------

    def _run(self, now: float) -> list[Command]:
        if self.done:
            return []
        self._out = []
        if self.check.result is Result.UNKNOWN:
            self._main(now)
        if self.check.result is not Result.UNKNOWN:
            return self._finish(now)
        return self._out

    def _main(self, now: float) -> None:
        conn = self.conn
        # an error met by the read that also brought data is judged with that data
        # (tcpcheck_eval_recv); one found later ends the check
        if conn is not None and conn.error is not None and not self.pending:
            self._report_conn_err(now, conn.error, expired=False)
            return
        start = 0 if self.step is None else self.step
        must_read, last_read = True, False
        for i in range(start, len(self.rules)):
            rule = self.rules[i]
            self.check.code = 0
            if isinstance(rule, Connect):
                if self.conn is not None and self.step != i:
                    # recorded: HAProxy resets a TCP check's connection for the next
                    # connect, but its H1 multiplexer has already ended an HTTP one cleanly
                    self._close(reset=self.conn.http is None)
                self.step = i
                ret = self._connect(rule, i, now)
                must_read, last_read = not self.bi, False
            elif isinstance(rule, Send | HttpSend):
                self.step = i
                ret = self._send(rule, now)
                must_read = True
            elif isinstance(rule, Expect):
                self.step = i
                if must_read:
                    ret = self._recv(rule, now)
                    if ret != _CONTINUE:
                        if ret == _STOP:
                            self._end(now)
                        return
                    conn = self.conn
                    last_read = conn is not None and (conn.error is not None or conn.eos)
                    must_read = False
                ret = self._expect(rule, last_read, now)
                if ret == _WAIT:
                    self.step = i if rule.head < 0 else rule.head
                    self.subscribed = True
            else:
                ret = self._action(rule)
            if ret == _WAIT:
                return
            if ret == _STOP:
                self._end(now)
                return
        self._succeed(now)

    def _succeed(self, now: float) -> None:
        """All rules passed: the status of the last rule evaluated."""
        rule = self.rules[self.step] if self.step is not None else None
        if isinstance(rule, Expect):
            if self._disable_404():
                self._set(Status.L7OKCD, None, now)
                return
            desc = self._success_message(rule)
            self._set(rule.ok_status or Status.L7OKD, desc, now)
        elif isinstance(rule, Connect):
            self._set(Status.L4OK, None if rule.implicit else "(tcp-check)", now)
        else:
            self._set(Status.L7OKD, "(tcp-check)", now)

    def _end(self, now: float) -> None:
        """out_end_tcpcheck: a connection error not yet reported is reported now."""
        conn = self.conn
        if conn is not None and conn.error is not None:
            self._report_conn_err(now, conn.error, expired=False)

    def _disable_404(self) -> bool:
        return self.ruleset.disable_on_404 and not self.owner.stopped() and self.check.code == 404

    # -- connect ---------------------------------------------------------------------------

    def _socks4(self, rule: Connect) -> tuple[str, int] | None:
        """tcpcheck_eval_connect: through the server's SOCKS4 proxy when the rule says
        `via-socks4`, or when it is the default connect and the server `check-via-socks4`
        (the health check's flag: an agent check never goes through it)."""
        a = self.address
        if a.socks4 is None:
            return None
        if rule.via_socks4 or (rule.default and a.check_via_socks4 and not self.check.agent):
            return a.socks4
        return None

    def _connect(self, rule: Connect, index: int, now: float) -> str:
        conn = self.conn
        if conn is not None:
            if not conn.up:
                return _WAIT
            if self.timeouts.check:
                self.expire = now + self.timeouts.check / 1000  # from I/O: see the module doc
            return _CONTINUE
        self.bi.clear()
        self.pending.clear()
        host, port = self._target(rule)
        preface = b""
        proxy_v = 0
        if rule.send_proxy:
            proxy_v = self.address.send_proxy or 1
        elif rule.default and self.address.send_proxy and not self.check.agent:
            proxy_v = self.address.send_proxy
        if proxy_v:
            preface = PROXY_V2_LOCAL if proxy_v == 2 else PROXY_V1_LOCAL
        nxt = self._next(index)
        delay_ack = nxt is None or not isinstance(nxt, Expect)
        http: HttpResponse | None = None
        h2 = None
        # tcpcheck_eval_connect: the rule's multiplexer, else the check's for the default
        # connect (CheckAddress.check_proto), else HTTP/1 for an HTTP check
        mux = rule.proto or (self.address.check_proto if rule.default else None)
        if self.ruleset.http and mux == "h2":
            # imported here: a process without HTTP/2 checks starts without the library
            from pylvs.proto.check.h2 import H2Response

            http = h2 = H2Response()
            preface += h2.preface()  # after a PROXY header
        elif self.ruleset.http:
            http = HttpResponse()
        self.conn = _Conn(http, rule.linger)
        self.conn.h2 = h2
        tls = self.address.tls if rule.default and not self.check.agent else None
        self._out.append(Open(host, port, preface, delay_ack, self._socks4(rule), tls))
        inter = self.check.inter
        deadline = now + inter / 1000
        if self.timeouts.check and self.timeouts.connect:
            deadline = min(deadline, now + self.timeouts.connect / 1000)
        self.deadline = self.expire = deadline
        return _WAIT

    def _target(self, rule: Connect) -> tuple[str, int]:
        a = self.address
        host = rule.addr or a.check_addr or a.server_addr
        port = rule.port
        if not port and rule.port_expr is not None:
            smp = evaluate(rule.port_expr, self.ctx)
            port = (to_int(smp) or 0) if smp is not None else 0
        if not port and rule.addr:
            port = rule.addr_port
        port = port or a.check_port or (a.check_addr_port if a.check_addr else 0)
        return host, port or a.server_port

    def _next(self, index: int) -> Rule | None:
        for rule in self.rules[index + 1 :]:
            if not isinstance(rule, SetVar):
                return rule
        return None

    def _close(self, reset: bool = True) -> None:
        conn = self.conn
        if conn is not None:
            self._out.append(Close(reset=reset and not conn.linger and not conn.eos))
        self.conn = None
        self.subscribed = False

    # -- send ------------------------------------------------------------------------------

    def _send(self, rule: Send | HttpSend, now: float) -> str:
        conn = self.conn
        if conn is None or conn.error is not None:
            return _STOP
        self.bi.clear()
        step = step_id(rule)
        if isinstance(rule, HttpSend):
            state = self.owner.server_state() if self.ruleset.send_state else None
            req = request.parts(rule, self.ctx, state)
            self._method = req.method
            if conn.h2 is not None:
                conn.h2.request(req)  # HEADERS once the server's SETTINGS came
                data = conn.h2.outgoing()
            else:
                data = request.http1(req)
                if conn.http is not None:
                    conn.http = HttpResponse(self._method)
        elif rule.kind in (SendKind.STRING, SendKind.BINARY):
            if len(rule.data) >= BUFSIZE:
                msg = (
                    f"tcp-check send : string too large ({len(rule.data)}) for buffer size"
                    f" ({BUFSIZE}) at step {step}"
                )
                self._set(Status.L7RSP, msg, now)
                return _STOP
            data = rule.data
        else:
            assert rule.fmt is not None
            data = render(rule.fmt, self.ctx)
            if rule.kind is SendKind.BINARY_LF:
                try:
                    data = bytes.fromhex(data.decode("latin-1"))
                except ValueError:
                    msg = f"tcp-check send : failed to build log-format string at step {step}"
                    self._set(Status.L7RSP, msg, now)
                    return _STOP
        if data:
            self._out.append(Write(data))
        return _CONTINUE

    # -- receive ---------------------------------------------------------------------------

    def _recv(self, rule: Expect, now: float) -> str:
        """tcpcheck_eval_recv."""
        conn = self.conn
        if conn is None:
            return _STOP
        if self.subscribed:
            return _WAIT
        cur_read = 0
        if self.pending:
            room = BUFSIZE - len(self.bi)
            chunk = bytes(self.pending[:room])
            del self.pending[: len(chunk)]
            if conn.http is not None:
                cur_read = conn.http.feed(chunk)
                self._h2_frames(conn)
            else:
                self.bi += chunk
                cur_read = len(chunk)
        if conn.eos and not self.pending and conn.http is not None:
            conn.http.feed_eof()
        empty = conn.http.empty if conn.http is not None else not self.bi
        if empty and conn.error is not None:
            return _STOP
        if not cur_read:
            if conn.http is not None and (conn.http.eom or conn.http.parsing_error):
                return _CONTINUE  # end of input: the expect rule judges what there is
            if conn.error is None and not conn.eos:
                self.subscribed = True
                return _WAIT
            if empty:
                msg = f"TCPCHK got an empty response at step {step_id(rule)}"
                if rule.comment:
                    msg += f" comment: '{rule.comment}'"
                self._set(rule.error_status or Status.L7RSP, msg, now)
                return _STOP
        return _CONTINUE

    def _h2_frames(self, conn: _Conn) -> None:
        """HTTP/2 (h2.py): what reading made the connection send (its SETTINGS ACK, the
        request's HEADERS, WINDOW_UPDATEs); a connection or stream error is the socket
        error HAProxy reports, without information."""
        http = conn.h2
        if http is None:
            return
        data = http.outgoing()
        if data:
            self._out.append(Write(data))
        if http.failed and conn.error is None:
            conn.error = ""

    # -- expect ----------------------------------------------------------------------------

    def _expect(self, rule: Expect, last_read: bool, now: float) -> str:
        conn = self.conn
        http = conn.http if conn is not None else None
        view = http.view() if http is not None else None
        self.ctx.received(None if self.ruleset.http else bytes(self.bi), view)
        if conn is not None and conn.http is not None:
            if conn.http.head is not None:
                self.check.code = conn.http.head.status
            verdict: expect.Verdict = expect.http_expect(
                rule, conn.http, last_read, self.ctx, self._disable_404_allowed()
            )
        elif rule.kind is ExpectKind.CUSTOM:
            return self._custom(rule, last_read or len(self.bi) >= BUFSIZE, now)
        else:
            full = last_read or len(self.bi) >= BUFSIZE
            verdict = expect.tcp_expect(rule, bytes(self.bi), full, self.ctx)
        if verdict is Step.WAIT:
            return _WAIT
        if verdict is Step.CONTINUE:
            return _CONTINUE
        assert isinstance(verdict, expect.Failed)
        desc = self._error_message(rule, verdict.info, verdict.matched)
        self._set(verdict.status, desc, now)
        return _STOP

    def _disable_404_allowed(self) -> bool:
        return self.ruleset.disable_on_404 and not self.owner.stopped()

    def _custom(self, rule: Expect, last_read: bool, now: float) -> str:
        data = bytes(self.bi)
        if rule.custom is Custom.AGENT_REPLY:
            return self._agent(data, last_read, now)
        last_rule = self._next(self.rules.index(rule)) is None
        got: Step | Verdict
        if rule.custom is Custom.MYSQL_INITHS:
            got = custom.mysql_packet(data, 0, last_read, last_rule)
        elif rule.custom is Custom.MYSQL_OK:
            got = custom.mysql_packet(data, custom.mysql_ok_offset(data), last_read, last_rule)
        elif rule.custom is Custom.LDAP_BINDRSP:
            got = custom.ldap_bind_response(data, last_read)
        else:
            got = custom.spop_agent_hello(data, last_read)
        if got is Step.WAIT:
            return _WAIT
        if got is Step.CONTINUE:
            return _CONTINUE
        assert isinstance(got, Verdict)
        if not got.error:
            self._set(rule.ok_status or got.status, got.desc.decode("latin-1"), now)
            return _CONTINUE
        self.check.code = got.code
        desc = self._error_message(rule, got.desc, False)
        self._set(got.status, desc, now)
        return _STOP

    def _agent(self, data: bytes, last_read: bool, now: float) -> str:
        """tcpcheck_agent_expect_reply."""
        if not self.check.enabled:
            return _STOP
        reply = custom.agent_line(data, last_read)
        if reply is Step.WAIT:
            return _WAIT
        if reply is None:
            self._set(self.check.status, "Ignoring incomplete line from agent", now)
            return _STOP
        assert isinstance(reply, AgentReply)
        warning = self.owner.agent_reply(reply)
        status = reply.status
        if reply.health is not None:
            self.check.health = self.check.top if status is Status.L7OKD else 0
            msg = reply.description
            if not msg or status is Status.L7OKD:
                msg = reply.error or warning or msg
            desc = f"via agent : {reply.health}"
            if msg:
                desc += f" ({msg})"
            self._set(status, desc, now)
        elif reply.error:
            self._set(status, f"agent reports an error : {reply.error}", now)
        elif warning:
            self._set(status, f"agent warns : {warning}", now)
        else:
            self._set(status, None, now)
        return _STOP

    # -- actions ---------------------------------------------------------------------------

    def _action(self, rule: Rule) -> str:
        if isinstance(rule, SetVar):
            set_var(rule, self.ctx)
        return _CONTINUE

    # -- messages --------------------------------------------------------------------------

    def _error_message(self, rule: Expect, info: bytes, matched: bool) -> str:
        """tcpcheck_expect_onerror_message."""
        if info:
            msg = info.split(b"\0", 1)[0].decode("latin-1")
        elif rule.on_error is not None:
            msg = render(rule.on_error, self.ctx).split(b"\0", 1)[0].decode("latin-1")
        elif self.ruleset.proto is not Proto.TCP:
            msg = ""
        else:
            msg = _generic_error(rule, matched)
        if rule.comment:
            msg += f" comment: {rule.comment}"
        self._status_code(rule)
        return msg

    def _success_message(self, rule: Expect) -> str:
        """tcpcheck_expect_onsuccess_message."""
        if rule.on_success is not None:
            msg = render(rule.on_success, self.ctx).split(b"\0", 1)[0].decode("latin-1")
        elif self.ruleset.proto is Proto.TCP:
            msg = "(tcp-check)"
        else:
            msg = ""
        self._status_code(rule)
        return msg

    def _status_code(self, rule: Expect) -> None:
        if rule.status_code is None:
            return
        smp = evaluate(rule.status_code, self.ctx)
        text = to_str(smp) if smp is not None else None
        if text:
            code = to_int(Smp(ty.STR, text))
            if code is not None:
                self.check.code = code

    # -- results ---------------------------------------------------------------------------

    def _set(self, status: Status, desc: str | None, now: float) -> None:
        failed, line = self.check.set_status(status, desc, now, self.owner.uweight())
        self.failed_checks += failed
        if line is not None:
            self.logs.append(line)

    def _report_conn_err(self, now: float, error: str | None, expired: bool) -> None:
        """chk_report_conn_err."""
        if self.check.result is not Result.UNKNOWN:
            return
        conn = self.conn
        if conn is not None and conn.error is None and not expired:
            return
        chk = self._step_text() if self.ruleset.proto is Proto.TCP else ""
        err = (error or "") + chk
        if conn is None:
            self._set(Status.SOCKERR, err, now)
        elif not conn.up:
            self._set(Status.L4CON if conn.error is not None else Status.L4TOUT, err, now)
        elif conn.error is not None:
            self._set(Status.SOCKERR, err, now)
        else:
            tout = Status.L7TOUT
            rule = self.rules[self.step] if self.step is not None else None
            if isinstance(rule, Expect) and rule.timeout_status is not None:
                tout = rule.timeout_status
            self._set(tout, err, now)

    def _step_text(self) -> str:
        rule = self.rules[self.step] if self.step is not None else None
        step = step_id(rule)
        if not step:
            return " at initial connection step of tcp-check"
        text = f" at step {step} of tcp-check"
        if isinstance(rule, Connect):
            text += f" (connect port {rule.port})" if rule.port else " (connect)"
        elif isinstance(rule, Expect):
            text += _EXPECT_WHAT[rule.kind](rule)
        elif isinstance(rule, Send):
            text += " (send)"
        comment = getattr(rule, "comment", None)
        if comment:
            text += f" comment: '{comment}'"
        return text

    def _finish(self, now: float) -> list[Command]:
        if not self.done:
            self._close()
            self.done = True
            self.check.in_progress = False
            self.deadline = self.expire = None
        return self._out


def _generic_error(rule: Expect, matched: bool) -> str:
    msg = "TCPCHK matched unwanted content" if matched else "TCPCHK did not match content"
    step = step_id(rule)
    kind = rule.kind
    if kind is ExpectKind.HTTP_STATUS:
        return f"{msg}(status codes) at step {step}"
    if kind in (ExpectKind.STRING, ExpectKind.HTTP_BODY):
        return f"{msg} '{rule.data.decode('latin-1')}' at step {step}"
    return f"{msg} {_KIND_WORD[kind]} at step {step}"


_KIND_WORD = {
    ExpectKind.BINARY: "(binary)",
    ExpectKind.STRING_REGEX: "(regex)",
    ExpectKind.HTTP_STATUS_REGEX: "(regex)",
    ExpectKind.HTTP_BODY_REGEX: "(regex)",
    ExpectKind.BINARY_REGEX: "(binary regex)",
    ExpectKind.STRING_LF: "(log-format string)",
    ExpectKind.HTTP_BODY_LF: "(log-format string)",
    ExpectKind.BINARY_LF: "(log-format binary)",
    ExpectKind.CUSTOM: "(custom function)",
    ExpectKind.HTTP_HEADER: "(header pattern)",
}


def _quoted(prefix: str) -> Callable[[Expect], str]:
    return lambda r: f" ({prefix} '{r.data.decode('latin-1')}')"


def _fixed(text: str) -> Callable[[Expect], str]:
    return lambda _r: f" ({text})"


# What chk_report_conn_err says of the expect rule a run stopped at.
_EXPECT_WHAT: dict[ExpectKind, Callable[[Expect], str]] = {
    ExpectKind.STRING: _quoted("expect string"),
    ExpectKind.BINARY: _quoted("expect binary"),
    ExpectKind.STRING_REGEX: _fixed("expect regex"),
    ExpectKind.BINARY_REGEX: _fixed("expect binary regex"),
    ExpectKind.STRING_LF: _fixed("expect log-format string"),
    ExpectKind.BINARY_LF: _fixed("expect log-format binary"),
    ExpectKind.HTTP_STATUS: _fixed("expect HTTP status codes"),
    ExpectKind.HTTP_STATUS_REGEX: _fixed("expect HTTP status regex"),
    ExpectKind.HTTP_HEADER: _fixed("expect HTTP header pattern"),
    ExpectKind.HTTP_BODY: _quoted("expect HTTP body content"),
    ExpectKind.HTTP_BODY_REGEX: _fixed("expect HTTP body regex"),
    ExpectKind.HTTP_BODY_LF: _fixed("expect log-format HTTP body"),
    ExpectKind.CUSTOM: _fixed("expect custom function"),
}
