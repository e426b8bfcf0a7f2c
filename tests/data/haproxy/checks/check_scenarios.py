"""The situations recorded from the real haproxy (capture.py) and replayed on pylvs's check
machine (tests/unit/proto/check/test_check_recorded.py).  Times are seconds from haproxy's start."""

from __future__ import annotations

from tests.data.haproxy.checks.check_behaviours import Behaviour, Closed, Scenario, Serve

# A scenario's servers: what each does from when on.
Servers = dict[str, list[tuple[float, Behaviour]]]

DEFAULTS = """defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  log {syslog} local0
"""

HTTP_OK = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
REQ = b"\r\n\r\n"

SCENARIOS: dict[str, Scenario] = {}

# A TCP check going up, down and up again: intervals by state, rise/fall counting.
SCENARIOS["tcp_updown"] = Scenario(
    DEFAULTS
    + """backend be
  option log-health-checks
  server s1 {s1} check inter 400 fastinter 150 downinter 700 rise 2 fall 3
""",
    {"s1": [(0, Serve()), (1.5, Closed()), (3.8, Serve())]},
    6.0,
)

# The same without log-health-checks, with a second server that never answers and a backup:
# the server state lines, "Running on backup", "has no server available".
SCENARIOS["tcp_states"] = Scenario(
    DEFAULTS
    + """backend be
  server s1 {s1} check inter 300 rise 1 fall 2
  server s2 {s2} check inter 300 rise 1 fall 1
  server b1 {b1} check inter 300 rise 1 fall 1 backup
backend solo
  server only {only} check inter 300 rise 1 fall 1
""",
    {
        "s1": [(0, Serve()), (1.0, Closed()), (2.5, Serve())],
        "s2": [(0, Closed())],
        "b1": [(0, Serve())],
        "only": [(0, Serve()), (1.2, Closed()), (2.4, Serve())],
    },
    3.5,
)

# Rise 3 / fall 2: every transitional health level and its interval.
SCENARIOS["tcp_rise3"] = Scenario(
    DEFAULTS
    + """backend be
  option log-health-checks
  server s1 {s1} check inter 500 fastinter 100 downinter 300 rise 3 fall 2
""",
    {"s1": [(0, Closed()), (1.5, Serve()), (3.0, Closed())]},
    4.5,
)

# The first checks of the process, spread over the smallest interval (start_checks).
SCENARIOS["spread"] = Scenario(
    DEFAULTS
    + """backend b1
  server a {a} check inter 1200 rise 1 fall 1
  server b {b} check inter 2s rise 1 fall 1
backend b2
  server c {c} check inter 1200 rise 1 fall 1
  server d {d} check inter 500 rise 1 fall 1
  server e {e} check inter 3s rise 1 fall 1 agent-check agent-port 1 agent-inter 5s
""",
    {name: [(0, Serve())] for name in "abcde"},
    2.6,
)

# -- HTTP checks ---------------------------------------------------------------------------

_HTTP = DEFAULTS.replace("mode tcp", "mode http") + "  option log-health-checks\n"
_ONE = "check inter 2s rise 1 fall 1"


def _backends(lines: dict[str, str]) -> str:
    """One backend per server: `lines[name]` are its check lines."""
    out = ""
    for name, body in lines.items():
        out += f"backend be_{name}\n{body}  server {name} {{{name}}} {_ONE}\n"
    return out


# What HAProxy sends for each way of writing the request.
_REQUESTS = {
    "plain": "  option httpchk\n",
    "uri": "  option httpchk /ping\n",
    "get11": "  option httpchk GET /health HTTP/1.1\n  http-check send hdr Host www.example.com\n",
    "post": "  option httpchk\n  http-check send meth POST uri /p ver HTTP/1.1 hdr X-A 1"
    " hdr Content-Length 9 body hello\n",
    "absuri": "  option httpchk\n"
    "  http-check send meth GET uri http://h.example/u?q ver HTTP/1.1\n",
    "keepalive10": "  option httpchk GET / HTTP/1.0\n  http-check send hdr connection keep-alive\n",
    "close10": "  option httpchk GET / HTTP/1.0\n  http-check send hdr Connection close\n",
    "state": "  option httpchk\n  http-check send-state\n",
    "head2": "  option httpchk HEAD /h HTTP/2.0\n",
    "upgrade": "  option httpchk\n  http-check send meth GET uri / ver HTTP/1.1 hdr host ws-host"
    " hdr connection upgrade hdr upgrade raw-proto hdr x-after 1\n",
    "hidden": "  option httpchk GET /s HTTP/1.1\\r\\nHdr:\\ v\\r\\nX-B:\\ 2\n",
    "lf": "  option httpchk\n  http-check set-var(check.p) str(/req1)\n"
    "  http-check send meth GET uri-lf %[var(check.p)] ver HTTP/1.1"
    " hdr x-srv %[srv_name] body-lf on-%[be_name]\n",
    "merge": "  http-check send hdr X-Before 1 body early\n  option httpchk PUT /m HTTP/1.1\n",
}
SCENARIOS["http_requests"] = Scenario(
    _HTTP + _backends(_REQUESTS),
    {name: [(0, Serve(HTTP_OK, REQ))] for name in _REQUESTS},
    2.3,
)

_R = b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s"


def _resp(code: int, reason: str, body: bytes = b"", extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\n\r\n" % (
        code,
        reason.encode(),
        extra,
        len(body),
    )
    return head + body


# How each kind of answer is judged, and the log line it makes.
_RESPONSES: dict[str, tuple[str, Serve]] = {
    "ok": ("  option httpchk\n", Serve(_resp(200, "OK"), REQ)),
    "e500": ("  option httpchk\n", Serve(_resp(500, "Internal Server Error"), REQ)),
    "e302": ("  option httpchk\n", Serve(_resp(302, "Found"), REQ)),
    "garbage": ("  option httpchk\n", Serve(b"XYZ garbage\r\n\r\n", REQ)),
    "cut": ("  option httpchk\n", Serve(b"HTTP/1.1 200 OK\r\nContent-Le", REQ)),
    "empty": ("  option httpchk\n", Serve(b"", REQ)),
    "silent": ("  timeout check 300ms\n  option httpchk\n", Serve(b"", REQ, close="hold")),
    "rst": ("  option httpchk\n", Serve(b"", REQ, close="rst")),
    "body_ok": (
        "  option httpchk\n  http-check expect string alive\n",
        Serve(_resp(200, "OK", b"I am alive"), REQ),
    ),
    "body_bad": (
        "  option httpchk\n  http-check expect string alive\n",
        Serve(_resp(200, "OK", b"I am dead"), REQ),
    ),
    "body_not": (
        "  option httpchk\n  http-check expect ! string dead comment c1\n",
        Serve(_resp(200, "OK", b"I am dead"), REQ),
    ),
    "rstatus": (
        "  option httpchk\n  http-check expect rstatus ^2[0-9][0-9]$\n",
        Serve(_resp(204, "No Content"), REQ),
    ),
    "status_list": (
        "  option httpchk\n  http-check expect status 200,204,300-302 on-error bad-%[status]\n",
        Serve(_resp(404, "Not Found"), REQ),
    ),
    "hdr_ok": (
        "  option httpchk\n  http-check expect hdr name x-state value -m beg run\n",
        Serve(_resp(200, "OK", extra=b"X-State: idle, running\r\n"), REQ),
    ),
    "fhdr_bad": (
        "  option httpchk\n  http-check expect fhdr name x-state value -m beg run\n",
        Serve(_resp(200, "OK", extra=b"X-State: idle, running\r\n"), REQ),
    ),
    "d404": (
        "  option httpchk\n  http-check disable-on-404\n",
        Serve(_resp(404, "Not Found"), REQ),
    ),
    "chunked": (
        "  option httpchk\n  http-check expect string b-c\n",
        Serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\na-b\r\n2\r\n-c\r\n0\r\n\r\n",
            REQ,
        ),
    ),
    "two_steps": (
        "  option httpchk\n  http-check connect\n  http-check send meth GET uri /a\n"
        "  http-check expect status 200\n  http-check connect\n  http-check send meth GET uri /b\n"
        "  http-check expect status 201\n",
        Serve(_resp(200, "OK"), REQ),
    ),
}
SCENARIOS["http_responses"] = Scenario(
    _HTTP + _backends({n: body for n, (body, _s) in _RESPONSES.items()}),
    {n: [(0, serve)] for n, (_b, serve) in _RESPONSES.items()},
    2.5,
)

# -- tcp-check rule sets -------------------------------------------------------------------

_TCPCHK = DEFAULTS + "  option log-health-checks\n  option tcp-check\n"
_TCP_RULES: dict[str, tuple[str, Serve]] = {
    "seq_ok": (
        '  tcp-check send "PING\\r\\n"\n  tcp-check expect string +PONG\n',
        Serve(b"+PONG\r\n", b"PING\r\n"),
    ),
    "nomatch": (
        '  tcp-check send "PING\\r\\n"\n  tcp-check expect string +PONG\n',
        Serve(b"-ERR nope\r\n", b"PING\r\n"),
    ),
    "comment": (
        '  tcp-check comment "say hello"\n  tcp-check send "HELLO\\r\\n"\n'
        "  tcp-check expect string WELCOME\n",
        Serve(b"GO AWAY\r\n", b"HELLO"),
    ),
    "on_error": (
        "  tcp-check send QUIT\n"
        "  tcp-check expect string OK error-status L7STS on-error got-%[res.payload(0,0),cut_crlf]"
        " status-code int(42)\n",
        Serve(b"BAD thing\r\n", b"QUIT"),
    ),
    "on_success": (
        "  tcp-check send QUIT\n"
        "  tcp-check expect string OK on-success fine-%[res.payload(0,2)]-%[srv_name]\n",
        Serve(b"OK bye\r\n", b"QUIT"),
    ),
    "min_recv": (
        "  tcp-check expect min-recv 5 !rstring ^error comment neg\n"
        "  tcp-check expect string valid\n",
        Serve(b"valid"),
    ),
    "binary": (
        "  tcp-check send-binary 01020a\n  tcp-check expect binary 0304\n",
        Serve(b"\x00\x03\x04\x05", 3),
    ),
    "rbinary": (
        "  tcp-check send-binary 01\n  tcp-check expect rbinary ^0[34]\n",
        Serve(b"\x05\x06", 1),
    ),
    "empty": (
        "  tcp-check send x\n  tcp-check expect string y\n",
        Serve(b"", b"x", close="rst"),
    ),
    "closed_at_once": (
        "  tcp-check send x\n  tcp-check expect string y\n",
        Serve(b"", b"x", read_timeout=0.0, close="fin"),
    ),
    "timeout": (
        "  timeout check 200ms\n  tcp-check send x\n  tcp-check expect string y comment waiting\n",
        Serve(b"", b"x", close="hold"),
    ),
    "refused_port": (
        "  tcp-check connect\n  tcp-check connect port {closed_port}\n",
        Serve(),
    ),
    "send_lf": (
        "  tcp-check set-var(check.greet) str(hi)\n"
        "  tcp-check send-lf %[var(check.greet)]-%[srv_name]-%[be_name]\\n\n"
        "  tcp-check expect rstring ^ok\n",
        Serve(b"ok\n", b"\n"),
    ),
    "linger": (
        "  tcp-check connect linger\n  tcp-check send x\n  tcp-check expect string y\n",
        Serve(b"y", b"x"),
    ),
    "two_connects": (
        "  tcp-check connect\n  tcp-check send one\n  tcp-check expect string 1\n"
        "  tcp-check connect port {other_port}\n  tcp-check send two\n"
        "  tcp-check expect string 2\n",
        Serve(b"1", b"one"),
    ),
}
SCENARIOS["tcp_check_rules"] = Scenario(
    _TCPCHK
    + "".join(
        f"backend be_{n}\n{body}  server {n} {{{n}}} check inter 2s rise 1 fall 1\n"
        for n, (body, _s) in _TCP_RULES.items()
    ),
    Servers({n: [(0, serve)] for n, (_b, serve) in _TCP_RULES.items()})
    | {"closed": [(0, Closed())], "other": [(0, Serve(b"2", b"two"))]},
    2.7,
)

# -- protocol checks -----------------------------------------------------------------------

_MYSQL_GREETING = bytes.fromhex(
    "4A0000000A382E302E3139000A0000006F3C025E6249410D00FFFFFF0200FFC715000000000000000000"
    "007C182159106E2761144322200063616368696E675F736861325F70617373776F726400"
)
_MYSQL_DENIED = bytes.fromhex("0D000002FF1504") + b"#28000Nope"
_PROTOCOLS: dict[str, tuple[str, list[tuple[float, Serve | Closed]]]] = {
    "redis_ok": ("  option redis-check\n", [(0, Serve(b"+PONG\r\n", 14))]),
    "redis_err": ("  option redis-check\n", [(0, Serve(b"-Error message\r\n", 14))]),
    "mysql_plain": ("  option mysql-check\n", [(0, Serve(_MYSQL_GREETING))]),
    "mysql_user": (
        "  option mysql-check user user\n",
        [(0, Serve(_MYSQL_GREETING + bytes.fromhex("0700000200000002000000"), 47))],
    ),
    "mysql_denied": (
        "  option mysql-check user bob pre-41\n",
        [(0, Serve(_MYSQL_GREETING + _MYSQL_DENIED, 19))],
    ),
    "pgsql_ok": (
        "  option pgsql-check user postgres\n",
        [(0, Serve(bytes.fromhex("520000000800000000"), 23))],
    ),
    "pgsql_fatal": (
        "  option pgsql-check user postgres\n",
        [(0, Serve(bytes.fromhex("450000000B53464154414C00"), 23))],
    ),
    "ldap_ok": (
        "  option ldap-check\n",
        [(0, Serve(bytes.fromhex("300C02010161070A010004000400"), 14))],
    ),
    "ldap_code": (
        "  option ldap-check\n",
        [(0, Serve(bytes.fromhex("300C02010161070A010104000400"), 14))],
    ),
    "ldap_rise": (
        "  option ldap-check\n",
        [(0, Closed()), (0.6, Serve(bytes.fromhex("300C02010161070A010004000400"), 14))],
    ),
    "spop_ok": (
        "  option spop-check\n",
        [
            (
                0,
                Serve(
                    bytes.fromhex(
                        "0000003665000000010000077665727369"
                        "6F6E0803322E300E6D61782D6672616D652D73697A6503FCF0060C6361706162696C"
                        "6974696573 0800".replace(" ", "")
                    ),
                    82,
                ),
            )
        ],
    ),
    "spop_frag": (
        "  option spop-check\n",
        [(0, Serve(bytes.fromhex("000000076500000000 0000".replace(" ", "")), 82))],
    ),
    "smtp_ok": (
        "  option smtpchk EHLO example.net\n",
        [(0, Serve(b"250-hi there\r\n250 OK\r\n", b"\r\n", greeting=b"220 mail ready\r\n"))],
    ),
    "smtp_helo_refused": (
        "  option smtpchk\n",
        [(0, Serve(b"550 go away\r\n", b"\r\n", greeting=b"220 mail ready\r\n"))],
    ),
    "smtp_slow_banner": (
        "  option smtpchk\n",
        [(0, Serve(b"220 ready\r\n250 OK\r\n", b"HELO", read_timeout=0.1))],
    ),
    "smtp_banner_bad": ("  option smtpchk\n", [(0, Serve(b"554 no service\r\n"))]),
    "ssl_hello": (
        "  option ssl-hello-chk\n",
        [(0, Serve(bytes.fromhex("1603010002020a"), 126))],
    ),
    "ssl_bad": ("  option ssl-hello-chk\n", [(0, Serve(b"HTTP/1.0 400 Bad\r\n\r\n", 126))]),
}
SCENARIOS["protocols"] = Scenario(
    DEFAULTS
    + "  option log-health-checks\n"
    + "".join(
        f"backend be_{n}\n{body}  server {n} {{{n}}} check inter 800ms rise"
        f" {2 if n.endswith('_rise') else 1} fall 1\n"
        for n, (body, _t) in _PROTOCOLS.items()
    ),
    {n: tl for n, (_b, tl) in _PROTOCOLS.items()},
    2.5,
)

# -- when a `timeout check` shorter than the connect timeout fires -------------------------

# HAProxy sets the post-connect deadline from an I/O callback without moving the task in its
# timer tree: the timeout is seen when the timer scan reaches the task (its old place, or
# earlier when another task's wake-up lets the scan run on to it).
SCENARIOS["timeout_scan"] = Scenario(
    DEFAULTS
    + """  option log-health-checks
backend alone
  timeout check 300ms
  option httpchk
  server a {a} check inter 3s rise 1 fall 1
backend busy
  timeout check 300ms
  option httpchk
  server b {b} check inter 3s rise 1 fall 1
backend ticker
  server t {t} check inter 1s rise 1 fall 1
""",
    {
        "a": [(0, Serve(b"", REQ, close="hold"))],
        "b": [(0, Serve(b"", REQ, close="hold"))],
        "t": [(0, Serve())],
    },
    3.0,
)

# -- agent checks --------------------------------------------------------------------------

_AGENT_REPLIES = {
    "up": b"up\n",
    "down": b"down#maintenance window\n",
    "half": b"50%\n",
    "drain": b"drain\n",
    "maint": b"maint\n",
    "combo": b"ready up 80% maxconn:30\n",
    "junk": b"what is this\n",
    "stopped": b"stopped\n",
    "fail": b"fail#boom\n",
    "cut": b"up",
    "bad_weight": b"-5%\n",
}
SCENARIOS["agent"] = Scenario(
    DEFAULTS
    + "  option log-health-checks\n"
    + "".join(
        f"backend be_{n}\n  server {n} {{{n}}} check inter 3s rise 1 fall 1 weight 10"
        f" agent-check agent-port {{ag_{n}_port}} agent-inter 600ms agent-send hello\\n\n"
        for n in (*_AGENT_REPLIES, "noagent")
    ),
    Servers({n: [(0, Serve())] for n in (*_AGENT_REPLIES, "noagent")})
    | {f"ag_{n}": [(0, Serve(r, b"\n"))] for n, r in _AGENT_REPLIES.items()}
    | {"ag_noagent": [(0, Closed())]},
    2.4,
    cli=[(2.3, "show servers state")],
)

# -- maintenance, drain and the CLI's health commands --------------------------------------

SCENARIOS["maint"] = Scenario(
    DEFAULTS
    + """  option log-health-checks
backend be
  server s {s} check inter 200ms rise 1 fall 1
  server b {b} check inter 200ms rise 1 fall 1 backup
backend tracker
  server t be/s
  server t2 {b} track be/s
""".replace("  server t be/s\n", ""),
    {"s": [(0, Serve())], "b": [(0, Serve())]},
    5.0,
    cli=[
        (0.5, "disable server be/s"),
        (1.0, "enable server be/s"),
        (1.5, "set server be/s state drain"),
        (2.0, "set server be/s state ready"),
        (2.5, "set server be/s health down"),
        (3.0, "set server be/s health up"),
        (3.5, "set weight be/s 0"),
        (4.0, "set weight be/s 1"),
        (4.5, "disable server be/b"),
    ],
)

# -- what a state change does to sessions and weights --------------------------------------

# Clients hold connections through `fe`: the one on s is cut when s goes down
# (on-marked-down shutdown-sessions), the one that went to the backup meanwhile is cut when s
# comes back (on-marked-up shutdown-backup-sessions); s then ramps its weight up over
# `slowstart 3s` (show stat's weight and throttle columns).
SCENARIOS["sessions"] = Scenario(
    DEFAULTS
    + """backend be
  timeout server 30s
  server s {s} check inter 300 rise 1 fall 1 weight 10 slowstart 3s """
    + """on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions
  server b {b} check inter 300 rise 1 fall 1 backup
frontend fe
  timeout client 30s
  bind {fe}
  default_backend be
""",
    {
        "s": [(0, Serve(close="hold")), (1.0, Closed()), (2.5, Serve(close="hold"))],
        "b": [(0, Serve(close="hold"))],
    },
    7.0,
    cli=[(t, "show stat") for t in (2.0, 3.0, 3.6, 4.2, 5.0, 6.0, 6.8)],
    clients=[(0.5, "fe"), (1.8, "fe"), (3.2, "fe")],
)

# Checks on another port and address than the traffic's (`port`, `addr`), a server whose
# address has no port, one that starts in maintenance (`disabled`) and is enabled, one that
# is down from the start under rise 2 fall 3 (the initial health).
SCENARIOS["port_addr"] = Scenario(
    DEFAULTS
    + """backend be
  option log-health-checks
  server p {p} check port {pc_port} inter 400 rise 1 fall 1
  server a 127.0.0.2:{a_port} check addr 127.0.0.1 inter 400 rise 1 fall 1
  server n 127.0.0.1 check port {n_port} inter 400 rise 1 fall 1
  server d {d} check inter 400 rise 1 fall 1 disabled
  server i {i} check inter 300 rise 2 fall 3
""",
    {
        "p": [(0, Closed())],
        "pc": [(0, Serve()), (1.2, Closed())],
        "a": [(0, Serve()), (1.6, Closed())],
        "n": [(0, Serve())],
        "d": [(0, Serve())],
        "i": [(0, Closed()), (1.4, Serve())],
    },
    3.0,
    cli=[(1.0, "enable server be/d"), (2.9, "show servers state")],
)
