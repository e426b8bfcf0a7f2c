"""The steps capture.py plays against the real haproxy (and the test replays against pylvs).

Each step is a CLI exchange on one stats socket (`admin`, `oper`, `user` or `tcp`), raw
bytes or a command line, or a raw HTTP request to a stats page; `compare` says how the test
compares pylvs's answer with HAProxy's: `exact` (byte for byte) or a field-by-field kind for
answers holding values that differ by nature (times, pids, counters of the process itself):
`stat`, `typed`, `json`, `info`, `info_json`, `state`, `sess`, `errors`, `table`, `html`,
`http_stat`, `first_line`.  Order matters: both sides go through the same state changes.
"""

from __future__ import annotations

from typing import Any


def cli(cmd: str, sock: str = "admin", compare: str = "exact") -> dict[str, Any]:
    return {"op": "cli", "send": cmd + "\n", "sock": sock, "compare": compare}


def raw(data: str, sock: str = "admin", compare: str = "exact") -> dict[str, Any]:
    return {"op": "cli", "send": data, "sock": sock, "compare": compare}


def page(request: str, listen: str = "stats", compare: str = "exact") -> dict[str, Any]:
    return {"op": "page", "send": request, "listen": listen, "compare": compare}


def get(
    path: str, listen: str = "stats", extra: str = "", compare: str = "exact", method: str = "GET"
) -> dict[str, Any]:
    return page(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n", listen, compare
    )


def post(path: str, body: str, listen: str = "stats", extra: str = "") -> dict[str, Any]:
    return page(
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}",
        listen,
    )


AUTH_OK = "Authorization: Basic YWRtaW46c2VjcmV0\r\n"  # admin:secret
AUTH_BAD = "Authorization: Basic YWRtaW46d3Jvbmc=\r\n"  # admin:wrong

READ = [
    cli("help"),
    cli("show info", compare="info"),
    cli("show info typed", compare="info"),
    cli("show info json", compare="info_json"),
    cli("show info desc", compare="info"),
    cli("show info typed desc", compare="info"),
    cli("show stat", compare="stat"),
    cli("show stat typed", compare="typed"),
    cli("show stat json", compare="json"),
    cli("show stat typed desc", compare="typed"),
    cli("show stat desc", compare="stat"),
    cli("show stat -1 -1 -1", compare="stat"),
    cli("show stat be 4 -1", compare="stat"),
    cli("show stat 3 2 -1", compare="stat"),
    cli("show stat tcpl 8 -1", compare="stat"),
    cli("show stat tcpl 8 -1 typed", compare="typed"),
    cli("show stat be 1 -1 typed", compare="typed"),
    cli("show stat 4 -1 2", compare="stat"),
    cli("show stat #4 6 -1", compare="stat"),
    cli("show stat no-maint", compare="stat"),
    cli("show stat up", compare="stat"),
    cli("show stat up no-maint typed", compare="typed"),
    cli("show stat domain proxy be 2 -1", compare="stat"),
    cli("show stat domain resolvers", compare="first_line"),
    cli("show stat domain x"),
    cli("show stat nosuch 1 1"),
    cli("show stat 0 -1 -1"),
    cli("show stat x", compare="stat"),
    cli("show servers state", compare="state"),
    cli("show servers state be", compare="state"),
    cli("show servers state #5", compare="state"),
    cli("show servers state nosuch"),
    cli("show backend"),
    cli("show table"),
    cli("show table tcpl"),
    cli("show table nosuch"),
    cli("show schema json"),
]

WEIGHTS = [
    cli("get weight be/w1"),
    cli("get weight be"),
    cli("get weight x/y"),
    cli("get weight be/nosuch"),
    cli("get weight be/#3"),
    cli("get weight #4/w3"),
    cli("set weight be/w1 50%"),
    cli("get weight be/w1"),
    cli("set weight be/w1 300"),
    cli("set weight be/w1 abc"),
    cli("set weight be/w1 10x"),
    cli("set weight be/w1"),
    cli("set weight be/w1 -5%"),
    cli("set weight be/w1 1000%"),
    cli("get weight be/w1"),
    cli("set weight srr/r1 3"),
    cli("set weight srr/r1 0"),
    cli("show stat srr 4 -1", compare="stat"),
    cli("set weight srr/r1 100%"),
    cli("get weight srr/r1"),
    cli("set server be/w1 weight 2"),
    cli("get weight be/w1"),
    cli("show stat be -1 -1", compare="stat"),
]

STATES = [
    cli("set server be/w1 state drain"),
    cli("show stat be 4 -1", compare="stat"),
    cli("show servers state be", compare="state"),
    cli("set server be/w1 state foo"),
    cli("set server be/w1 state ready"),
    cli("set server be/w3 health down"),
    cli("show servers state be", compare="state"),
    cli("show stat be 6 -1", compare="stat"),
    cli("set server be/w3 health stopping"),
    cli("show stat be 4 -1", compare="stat"),
    cli("set server be/w3 health up"),
    cli("set server be/w3 health x"),
    cli("set server be/w1 agent up"),
    cli("set server be/w1 foo"),
    cli("set server be/w1"),
    cli("set server be/nosuch state ready"),
    cli("set server nosuch/w1 state ready"),
    cli("set server be state ready"),
    cli("set server be/#1 state maint"),
    cli("show stat be 4 -1", compare="stat"),
    cli("set server #4/w1 state ready"),
    cli("disable server be/w3"),
    cli("show stat be 4 -1", compare="stat"),
    cli("show stat be 4 -1 no-maint", compare="stat"),
    cli("show stat up", compare="stat"),
    cli("enable server be/w3"),
    cli("show servers state be", compare="state"),
    cli("enable server be/w2"),
    cli("show stat be 4 -1", compare="stat"),
    cli("disable server be/w2"),
    cli("set server be/w1 state maint; set server be/w3 state maint"),
    cli("show stat be -1 -1", compare="stat"),
    cli("show stat be -1 -1 typed", compare="typed"),
    cli("set server be/w1 state ready;set server be/w3 state ready"),
    cli("set maxconn server be/w3 20"),
    cli("show stat be 4 3", compare="stat"),
    cli("set maxconn server be/w3 x"),
    cli("set maxconn server be/w3 5y"),
    cli("set maxconn server be/w3"),
    cli("enable health be/w1"),
    cli("enable agent be/w1"),
    cli("disable agent be/w1"),
    cli("disable health tcpl/t1"),
    cli("show stat tcpl 4 -1", compare="stat"),
    cli("enable health tcpl/t1"),
    cli(
        "set server tcpl/t1 health up; show stat tcpl 4 1; set server tcpl/t1 health down",
        compare="stat",
    ),
    cli("shutdown sessions server be/w1"),
    cli("shutdown session 0x1234"),
    cli("shutdown session"),
    cli("shutdown session xyz"),
]

SESSION = [
    cli("show sess", compare="sess"),
    cli("show errors", compare="errors"),
    cli("show errors fe request", compare="errors"),
    cli("show errors nosuch"),
    cli("show cli level"),
    cli("operator"),
    cli("show cli level; operator; show cli level; user; show cli level; operator"),
    cli("show cli sockets"),
    cli("show version"),
    cli("show env HOME"),
    cli("show env NOPE_NOT_SET"),
    cli("set timeout cli 5"),
    cli("set timeout foo 1"),
    cli("set timeout cli x"),
    cli("set timeout cli"),
    cli("set timeout cli 0"),
    cli("set timeout cli 500ms"),
    cli("set severity-output number;set weight be/w1 abc;show cli level;get weight be/w1"),
    cli("set severity-output string;get weight be;set severity-output bogus"),
    cli("expert-mode"),
    cli("experimental-mode on; experimental-mode; experimental-mode off; experimental-mode"),
    cli("mcli-debug-mode on"),
    cli("clear counters"),
    cli("clear counters all"),
    cli("set maxconn global 500"),
    cli("show info", compare="info"),
    cli("set maxconn global 99999999"),
    cli("set maxconn global"),
    cli("set maxconn frontend fe 10"),
    cli("show stat 2 1 -1", compare="stat"),
    cli("set maxconn frontend nosuch 1"),
    cli("set maxconn frontend fe"),
    cli("set maxconn frontend fe -1"),
    cli("set maxconn frontend be 5"),
    cli("set maxconn frontend"),
]

DYNAMIC = [
    cli("add server be/new 127.0.0.1:9 weight 2"),
    cli("show servers state be", compare="state"),
    cli("add server be/new 127.0.0.1:9"),
    cli("add server srr/x 127.0.0.1:9"),
    cli("add server be"),
    cli("add server nosuch/x 127.0.0.1:9"),
    cli("enable server be/new"),
    cli("show stat be 4 -1", compare="stat"),
    cli("del server be/new"),
    cli("disable server be/new"),
    cli("del server be/new"),
    cli("show servers state be", compare="state"),
    cli("del server be/nosuch"),
    cli("del server nosuch/x"),
    cli("del server be"),
]

UNKNOWN = [
    cli("foo"),
    cli("show foo"),
    cli(""),
    cli("set"),
    cli("show servers"),
    cli("  show   backend  "),
    cli("show\tbackend"),
    cli("SHOW backend"),
    cli("disable srver be/w1"),
    cli("show ssl cert"),  # no certificate loaded: HAProxy prints nothing
]

LEVELS = [
    cli("disable server be/w1", "oper"),
    cli("show sess", "oper", compare="sess"),
    cli("clear counters all", "oper"),
    cli("clear counters", "oper"),
    cli("show stat", "oper", compare="stat"),
    cli("show env HOME", "oper"),
    cli("set weight be/w1 2", "oper"),
    cli("get weight be/w1", "oper"),
    cli("show servers state be", "oper", compare="state"),
    cli("show table tcpl", "oper"),
    cli("add server be/x 127.0.0.1:9", "oper"),
    cli("shutdown session 0x1234", "oper"),
    cli("show errors", "oper", compare="errors"),
    cli("user; show sess; operator; show cli level", "oper"),
    cli("show stat", "user", compare="stat"),
    cli("show stat typed", "user", compare="typed"),
    cli("show info", "user", compare="info"),
    cli("show sess", "user"),
    cli("show errors", "user"),
    cli("show table tcpl", "user"),
    cli("clear table tcpl", "user"),
    cli("set table tcpl key 1.2.3.4", "user"),
    cli("disable server be/w1", "user"),
    cli("get weight be/w1", "user"),
    cli("show servers state be", "user", compare="state"),
    cli("show env HOME", "user"),
    cli("operator", "user"),
    cli("clear counters", "user"),
    cli("show cli level", "user"),
    cli("experimental-mode on", "user"),
    cli("help", "user"),
    cli("show cli level", "tcp"),
    cli("show servers state be", "tcp", compare="state"),
]

RAW = [
    raw("show info"),
    raw("show cli level\r\n"),
    raw("show cli level;show cli level\n"),
    raw("show cli level\\;x\n"),
    raw("get weight be/w\\1\n"),
    raw("get weight\\ be/w1\n"),
    raw("prompt\nshow cli level\nhelp foo\nquit\n"),
    raw("prompt\nshow backend\n"),
    raw("prompt\nprompt\nshow backend\nshow backend\n"),
    raw("show backend <<\nabc\n\nshow cli level\n"),
    raw("prompt\nshow backend <<\nabc\n\nquit\n"),
    raw("show info" + " " * 20000 + "\n"),
    raw("user -\nshow cli level\n"),
    raw("\0show info\n"),
    raw("quit\nshow info\n"),
    raw("show cli level\nshow cli level\n"),
    raw("show cli level\n\nshow backend\n"),
]

FRONTEND = [
    cli("disable frontend fe"),
    cli("disable frontend fe"),
    cli("show stat 2 1 -1", compare="stat"),
    cli("enable frontend fe"),
    cli("enable frontend fe"),
    cli("disable frontend nosuch"),
    cli("disable frontend"),
    cli("disable frontend be"),
    cli("shutdown frontend fe"),
    cli("show stat 2 1 -1", compare="stat"),
    cli("shutdown frontend fe"),
    cli("enable frontend fe"),
    cli("disable frontend fe"),
    cli("set server tcpl/t2 state drain"),
]

PAGES = [
    get("/", compare="html"),
    get("/;csv", compare="http_stat"),
    get("/;up", compare="html"),
    get("/;norefresh", compare="html"),
    get("/;up;norefresh;no-maint", compare="html"),
    get("/?;csv;scope=be", compare="http_stat"),
    get("/?scope=tcp", compare="html"),
    get("/;json", compare="http_stat"),
    get("/;typed", compare="http_stat"),
    get("/;json-schema"),
    get("/;st=DONE", compare="html"),
    get("/;st=XXXX", compare="html"),
    get("/;st=DENY;up", compare="html"),
    get("/", method="HEAD"),
    post("/", "s=w1&action=drain&b=%234"),
    get("/;csv", compare="http_stat"),
    post("/", "s=w1&s=nosuch&action=maint&b=be"),
    post("/", "action=ready&b=%234"),
    post("/", "s=w1&action=bogus&b=%234"),
    post("/?scope=be", "s=w1&action=ready&b=%234"),
    post("/;up;norefresh", "s=w3&s=w1&action=hdown&b=%234"),
    post("/", "b=%234&action=hrunn&s=w3&s=w1"),
    post("/", "s=t1&action=ehlth&b=tcpl"),
    post("/", "s=w1&action=ehlth&b=be"),
    post("/", "s=w1&action=arunn&b=be"),
    post("/", "s=w1&action=nosuchbackend&b=%2399"),
    get("/;csv", compare="http_stat"),
    get("/", method="PUT"),
    page("GET / HTTP/1.0\r\n\r\n", compare="http_stat10"),
    get("/x", listen="stats2"),
    get("/st", listen="stats2"),
    get("/st", listen="stats2", extra=AUTH_BAD),
    get("/st", listen="stats2", extra=AUTH_OK, compare="html"),
    get("/st;csv", listen="stats2", extra=AUTH_OK, compare="http_stat"),
    post("/st", "s=w1&action=maint&b=be", listen="stats2", extra=AUTH_OK),
    page("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
    page(
        "GET /;csv;norefresh HTTP/1.1\r\nHost: x\r\n\r\nGET /;typed HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n",
        compare="heads",
    ),
]

STEPS: list[dict[str, Any]] = [
    *READ,
    *WEIGHTS,
    *STATES,
    *SESSION,
    *DYNAMIC,
    *UNKNOWN,
    *LEVELS,
    *RAW,
    *PAGES,
    *FRONTEND,
]
