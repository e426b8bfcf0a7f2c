"""The rules corpus: small `mode http` configurations and the requests sent through each.

Each case is a frontend (and its backends) written after a common head; `${BE}` is the
scripted backend's address.  capture.py runs them under the real haproxy; the engine tests
replay them (tests/unit/proto/rules/test_goldens.py).  The backend answers every request
with `RESPONSE` unless the case gives its own response.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD = """global
  log stdout local0
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 1s
"""

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Srv: a, b\r\nSet-Cookie: sid=1; Secure\r\n"
    b"Cache-Control: private\r\n\r\nok"
)


@dataclass(frozen=True)
class Case:
    name: str
    config: str
    requests: tuple[bytes, ...]
    response: bytes = RESPONSE


def get(path: str, *headers: str, method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: example.com", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


BE = "backend be\n  server s1 ${BE}\n"


def fe(*lines: str, backends: str = BE, default: str = "be") -> str:
    body = "".join(f"  {line}\n" for line in lines)
    return f"frontend fe\n  bind ${{FE}}\n{body}  default_backend {default}\n{backends}"


CASES = [
    Case(
        "set-add-del-header",
        fe(
            "http-request set-header X-Path %[path]",
            "http-request add-header X-Multi one",
            "http-request add-header X-Multi two",
            "http-request del-header User-Agent",
            "http-request set-header X-Host %[req.hdr(host),lower]",
            "http-request set-header X-Empty %[req.hdr(nothere)]",
            "http-request set-header X-Src %[src] if { src 127.0.0.0/8 }",
            "http-request set-header X-Ci %ci-%f/%b-%H",
        ),
        (get("/a/b?x=1", "User-Agent: curl", "X-Multi: zero"), get("/", "X-Other: yes")),
    ),
    Case(
        "set-header-replaces-all",
        fe("http-request set-header Accept %[req.hdr(accept)]-new"),
        (get("/", "Accept: a", "Accept: b, c"),),
    ),
    Case(
        "del-header-match",
        fe(
            "http-request del-header x-a -m beg",
            "http-request del-header ID -m end",
            "http-request del-header mid -m sub",
            "http-request del-header ^x-r[0-9]$ -m reg",
        ),
        (get("/", "X-Alpha: 1", "X-A: 2", "Req-Id: 3", "Amidst: 4", "X-R1: 5", "X-R12: 6"),),
    ),
    Case(
        "replace-header-value",
        fe(
            r"http-request replace-header Cookie (.*)sess=([^;]*)(.*) \1S=\2\3",
            r"http-request replace-value X-List ^b(.*)$ B\1",
            r"http-response replace-header Set-Cookie (.*);\ Secure \1",
            r"http-response replace-value X-Srv ^a$ A",
        ),
        (get("/", "Cookie: a=1; sess=xyz; b=2", "X-List: a, bee, c", "X-List: b"),),
    ),
    Case(
        "set-path-query-uri",
        fe(
            "http-request set-path /new%[path] if { path_beg /p }",
            "http-request set-query q=%[url_param(a)]&z if { path_beg /newp/q }",
            "http-request set-pathq /pq?x=1 if { path /x }",
            "http-request set-uri /u%[query] if { path /uri }",
            "http-request set-method PUT if { path /m }",
        ),
        (
            get("/p/q?a=7&b=2"),
            get("/p/plain"),
            get("/x?y=2"),
            get("/uri?k=v"),
            get("/m"),
        ),
    ),
    Case(
        "set-query-empty",
        fe("http-request set-query %[req.hdr(q)]"),
        (get("/a?old=1"), get("/b"), get("/c", "q: n=1")),
    ),
    Case(
        "replace-path-uri",
        fe(
            r"http-request replace-path /old/(.*) /new/\1",
            r"http-request replace-pathq ^/q\?(.*)$ /query?\1&added",
            r"http-request replace-uri ^/u/(.*) /U/\1",
        ),
        (get("/old/x?k=1"), get("/q?a=b"), get("/u/y"), get("/none")),
    ),
    Case(
        "deny-default-and-status",
        fe(
            "http-request deny if { path /d }",
            "http-request deny deny_status 429 if { path /d429 }",
            "http-request deny status 404 content-type text/plain string nope if { path /s }",
        ),
        (get("/d"), get("/d429"), get("/s"), get("/ok")),
    ),
    Case(
        "return-variants",
        fe(
            "http-request return if { path /empty }",
            "http-request return status 201 content-type text/plain string created"
            " hdr X-One 1 hdr X-Path %[path] if { path /str }",
            'http-request return status 200 content-type "text/plain" lf-string'
            ' "p=%[path] m=%[method]" if { path_beg /lf }',
            "http-request return status 404 default-errorfiles if { path /def }",
            "http-request return status 204 hdr X-E %[req.hdr(none)] if { path /nc }",
        ),
        (
            get("/empty"),
            get("/str"),
            get("/lf/x"),
            get("/def"),
            get("/nc"),
            get("/lf", method="HEAD"),
        ),
    ),
    Case(
        "redirects",
        fe(
            "http-request redirect location /loc if { path /a }",
            "http-request redirect location /l2 code 301 set-cookie seen=1 if { path /b }",
            "http-request redirect prefix /pre drop-query if { path_beg /c }",
            "http-request redirect prefix / append-slash if { path_beg /d }",
            "http-request redirect scheme https code 308 if { path_beg /e }",
            "http-request redirect location %[req.hdr(x-to)] ignore-empty if { path /f }",
            "http-request redirect location /g code 307 clear-cookie old if { path /g }",
            "http-request redirect location /h code 303 if { path /h }",
        ),
        (
            get("/a"),
            get("/b"),
            get("/c/x?q=1"),
            get("/d/x"),
            get("/e?q"),
            get("/f"),
            get("/f", "X-To: /dest"),
            get("/g"),
            get("/h"),
        ),
    ),
    Case(
        "old-redirect-statement",
        fe(
            "redirect location /moved if { path /m }",
            "redirect prefix http://other.example if { path_beg /p }",
            "redirect scheme https if { path /s }",
            "http-request set-header X-Rules-First yes",
        ),
        (get("/m"), get("/p/q?x"), get("/s"), get("/z")),
    ),
    Case(
        "final-order",
        fe(
            "http-request set-header X-Before 1",
            "http-request allow if { path /allow }",
            "http-request set-header X-After-Allow 1",
            "http-request deny if { path /allow }",
            "http-request return status 200 content-type text/plain string second if { path /two }",
            "http-request return status 200 content-type text/plain string first if { path /two }",
        ),
        (get("/allow"), get("/two"), get("/other")),
    ),
    Case(
        "conditions",
        fe(
            "acl a path_beg /a",
            "acl b hdr(x-b) -m found",
            "acl c method POST",
            "http-request set-header X-AB 1 if a b",
            "http-request set-header X-AorB 1 if a || b",
            "http-request set-header X-NotA 1 unless a",
            "http-request set-header X-NotAandNotC 1 if !a !c",
            "http-request set-header X-Anon 1 if { hdr_sub(x-b) yes } or { path_end .png }",
        ),
        (get("/a", "X-B: yes"), get("/a/x.png"), get("/b"), get("/x", method="POST")),
    ),
    Case(
        "use-backend",
        fe(
            "acl api path_beg /api",
            "use_backend be_api if api",
            "use_backend be_%[req.hdr(x-be)] if { req.hdr(x-be) -m found }",
            backends=BE
            + "backend be_api\n  http-request set-header X-Backend api\n  server s1 ${BE}\n"
            + "backend be_dyn\n  http-request set-header X-Backend dyn\n  server s1 ${BE}\n",
        ),
        (get("/api/x"), get("/x", "X-Be: dyn"), get("/x", "X-Be: missing"), get("/plain")),
    ),
    Case(
        "backend-rules-after-frontend",
        fe(
            "http-request set-header X-Order fe",
            backends="backend be\n  http-request set-header X-Order %[req.hdr(x-order)],be\n"
            "  http-request deny if { path /bedeny }\n"
            "  http-response set-header X-Resp be\n  server s1 ${BE}\n",
        )
        + "",
        (get("/"), get("/bedeny")),
    ),
    Case(
        "response-rules",
        fe(
            "http-response set-header X-Fe %[res.hdr(x-resp)]-fe",
            "http-response del-header Cache-Control",
            "http-response set-status 203 if { path /st }",
            "http-response set-status 299 reason Custom if { path /rs }",
            "http-response deny if { path /rd }",
            "http-response add-header X-Status %[status]",
            backends="backend be\n  http-response set-header X-Resp be\n  server s1 ${BE}\n",
        ),
        (get("/"), get("/st"), get("/rs"), get("/rd")),
    ),
    Case(
        "after-response",
        fe(
            "http-request deny if { path /d }",
            "http-request return status 200 content-type text/plain string r if { path /r }",
            "http-request redirect location /x if { path /rd }",
            "http-after-response set-header X-After 1",
            "http-after-response set-status 202 if { status 200 }",
            "http-after-response del-header content-type if { path /r }",
        ),
        (get("/"), get("/d"), get("/r"), get("/rd")),
    ),
    Case(
        "auth",
        fe(
            "http-request auth if { path /a }",
            'http-request auth realm "My Realm" if { path /b }',
        ),
        (get("/a"), get("/b")),
    ),
    Case(
        "variables",
        fe(
            "http-request set-var(txn.p) path",
            "http-request set-var(txn.n) int(41),add(1)",
            "http-request set-var(txn.p) str(keep) if { var(txn.p) -m found } { path /nothing }",
            "http-request set-var-fmt(txn.f) %[var(txn.p)]:%[var(txn.n)]",
            "http-request set-header X-Var %[var(txn.f)]",
            "http-request set-var(txn.c,ifnotexists) str(second)",
            "http-request set-header X-C %[var(txn.c)]",
            "http-request unset-var(txn.p)",
            "http-request set-header X-Unset %[var(txn.p)]",
            "http-response set-header X-Res-Var %[var(txn.f)]",
        ),
        (get("/v?q"),),
    ),
    Case(
        "errorfile-and-http-error",
        fe(
            "http-request deny if { path /d }",
            "http-request deny deny_status 503 if { path /d503 }",
            "http-error status 503 content-type text/plain string unavailable hdr X-E 1",
        ),
        (get("/d"), get("/d503")),
    ),
    Case(
        "capture-and-log-vars",
        fe(
            "http-request capture req.hdr(user-agent) len 5",
            "http-request set-header X-Cap %[capture.req.hdr(0)]",
            "http-request set-header X-Method %HM-%HU-%HV",
        ),
        (get("/cap?x=1", "User-Agent: Mozilla/5.0"),),
    ),
    Case(
        "encoding-in-values",
        fe(
            "http-request set-header X-Dec %[url_param(v),url_dec]",
            "http-request set-header X-Lit 100%%",
        ),
        (get("/?v=a%09b%0Ac%7F"),),
    ),
    Case(
        "tarpit-reject-silent",
        fe(
            "timeout tarpit 200ms",
            "http-request tarpit if { path /t }",
            "http-request tarpit deny_status 429 if { path /t429 }",
            "http-request reject if { path /r }",
        ),
        (get("/t"), get("/t429"), get("/r"), get("/ok")),
    ),
    Case(
        "early-hints",
        fe(
            "http-request early-hint Link </a.css> if { path /eh }",
            "http-request early-hint Link </b.js> if { path /eh }",
            "http-request set-header X-Mid 1",
            "http-request early-hint Link %[req.hdr(x-l)] if { path /eh }",
        ),
        (get("/eh", "X-L: </c.png>"), get("/no")),
    ),
    Case(
        "response-redirect-and-return",
        fe(
            "http-request set-var(txn.path) path",
            "http-response redirect location /moved%[var(txn.path)] if { status 200 }"
            " { var(txn.path) -m beg /r }",
            "http-response return status 503 content-type text/plain string down"
            " if { var(txn.path) -m str /down }",
            "http-response set-header X-Seen %[var(txn.path)]",
        ),
        (get("/r/x"), get("/down"), get("/plain")),
    ),
    Case(
        "tcp-content-in-http",
        fe(
            "tcp-request content reject if { path /tcpreject }",
            "tcp-request content set-var(txn.t) str(fromtcp)",
            "http-request set-header X-T %[var(txn.t)]",
        ),
        (get("/tcpreject"), get("/fine")),
    ),
    Case(
        "errorloc",
        fe(
            "errorloc302 403 http://errors.example/403",
            "http-request deny if { path /d }",
        ),
        (get("/d"),),
    ),
    Case(
        "dynamic-backend-names-and-defaults",
        fe(
            "use_backend %[req.hdr(x-pool),lower] if { req.hdr(x-pool) -m found }",
            backends=BE
            + "backend blue\n  http-response set-header X-Pool blue\n  server s1 ${BE}\n",
        ),
        (get("/", "X-Pool: BLUE"), get("/", "X-Pool: red"), get("/")),
    ),
    Case(
        "normalize-uri-and-maps",
        fe(
            "http-request set-header X-Raw %[url]",
            "http-request set-path %[path,regsub(//+,/,g)]",
            "http-request set-header X-Q %[query,url_dec]",
        ),
        (get("//a//b?x=%41%20"),),
    ),
    Case(
        "auth-userlist",
        fe(
            "http-request auth realm Private unless { http_auth(users) }",
            "http-request set-header X-User %[http_auth_user]",
            backends=BE
            + "userlist users\n  user alice insecure-password apw\n"
            + "  user bob password '$6$pylvssalt$spF.4BEUX18reHUMj16Hz0oKIkbp2eJw/50fFnEJeAVF3"
            + "znrC4U850YS1aape3sawREI6bguwP0a3NanjQMoy1'\n",
        ),
        (
            get("/"),
            get("/", "Authorization: Basic YWxpY2U6YXB3"),
            get("/", "Authorization: Basic Ym9iOnMzY3JldA=="),
            get("/", "Authorization: Basic Ym9iOndyb25n"),
        ),
    ),
]
