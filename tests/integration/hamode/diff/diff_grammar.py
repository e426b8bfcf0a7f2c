"""Hypothesis strategies for the differential tests: `mode http` configurations as a tutorial
user writes them, and requests that exercise them.

A configuration is one frontend (ACLs with fetches, converters, matchers and flags;
`http-request` rules: header edits, path/query/method rewrites, `set-var` with expressions,
deny/return/redirect; `use_backend` on conditions or on a `%[...]` name, the frontend's
`redirect`), and one to three backends (`balance` roundrobin/static-rr/first/uri/url_param/
hdr/source, `cookie` insert/rewrite/prefix with its options, `http-request` and
`http-response` rules: header edits, `set-status`, `set-var`, response conditions), whose
servers are the rig's echo servers.  Values are drawn from the same small vocabularies as
the requests' paths, hosts, queries and fields, so conditions match some requests and not
others.  Every configuration is valid by construction and is checked with `haproxy -c`
before it runs (a rejected one is a grammar bug, reported as such).

Requests are HTTP/1.1 (sometimes 1.0) with a method, a path and query, Host, a few of the
fields the rules read (x-a, x-be, User-Agent, Cookie), a body for POST/PUT, and
`x-reply-*` fields that choose the echo server's answer (status, Set-Cookie,
Cache-Control).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_rig import preamble

PATHS = ["/", "/a", "/a/b", "/api/v1/42", "/img/logo.PNG", "/static/app.js", "/A/b/", "/x.y/z"]
QUERIES = ["", "?id=1", "?id=2&x=y", "?x=&id=abc", "?ID=1", "?a=b;id=3"]
HOSTS = ["example.com", "www.example.com", "WWW.Example.com:8080", "api.other.org", ""]
XA = ["1", "abc", "Abc,def", "2", "10"]
AGENTS = ["curl/8.0", "Mozilla/5.0 (X11)", "bot"]
COOKIES = ["SRV=c1", "SRV=c2", "sid=abc", "SRV=c9; sid=x", "sid=1; SRV=c3", "SRV=c2~sess"]
SET_COOKIES = ["SRV=srv", "sess=abc; path=/", "sid=1; HttpOnly"]
STATUSES = ["404", "302", "500", "201", "204"]

WORDS = ["/a", "/api", "/img", "/A", "a", "b", ".png", ".PNG", "v1", "42", "example.com",
         "www", "other.org", "1", "abc", "Abc", "curl", "x", "id", "c1"]  # fmt: skip


def pick(xs: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(xs)


# Fetches returning strings, with the converters a tutorial applies to them
STRING_FETCHES = ["path", "url", "query", "hdr(host)", "req.hdr(x-a)", "hdr(user-agent)",
                  "url_param(id)", "req.cook(sid)", "cook(SRV)", "method", "req.fhdr(x-a)",
                  "path,lower", "hdr(host),lower", "hdr(host),field(1,:)", "path,word(1,/)",
                  "req.hdr(x-a),upper", "url_param(id),lower", "var(txn.v)", "base",
                  "capture.req.uri", "path,regsub(/,_,g)", "req.hdr(x-a,1)", "req.hdr(x-a,-1)",
                  "query,url_dec"]  # fmt: skip
STRING_MATCHERS = ["str", "beg", "end", "sub", "dir", "dom", "reg", "found", "len"]
DERIVED = {
    "path": ["path_beg", "path_end", "path_sub", "path_dir", "path_dom", "path_reg", "path_len"],
    "url": ["url_beg", "url_end", "url_sub", "url_reg"],
    "hdr(host)": ["hdr_beg(host)", "hdr_end(host)", "hdr_dom(host)", "hdr_sub(host)",
                  "hdr_reg(host)", "hdr_len(host)"],
    "hdr(user-agent)": ["hdr_sub(user-agent)", "hdr_beg(user-agent)"],
    "req.hdr(x-a)": ["hdr_cnt(x-a)", "hdr_val(x-a)"],
}  # fmt: skip
INT_FETCHES = ["hdr_cnt(x-a)", "req.hdr_cnt(x-a)", "hdr_val(x-a)", "url_param(id),length",
               "path,length", "req.body_size", "url_param(id)", "query,length"]  # fmt: skip
REGEXES = ["^/a", "^/api/v[0-9]+/", "\\.(png|js)$", "^www\\.", "c[12]", "^[a-z]+$", "b"]


@st.composite
def criterion(draw: st.DrawFn) -> str:
    """One ACL's fetch, flags and patterns (what follows `acl NAME`)."""
    kind = draw(st.sampled_from(["string", "string", "derived", "int", "ip", "method", "bool"]))
    icase = draw(st.sampled_from(["", "", "-i "]))
    if kind == "string":
        fetch = draw(pick(STRING_FETCHES))
        m = draw(pick(STRING_MATCHERS))
        if m == "found":
            return f"{fetch} -m found"
        if m == "len":
            return f"{fetch} -m len {draw(st.sampled_from(['1', '3', '2:5', 'gt 4']))}"
        values = draw(st.lists(pick(REGEXES if m == "reg" else WORDS), min_size=1, max_size=2))
        return f"{fetch} {icase}-m {m} {' '.join(values)}"
    if kind == "derived":
        base = draw(st.sampled_from(sorted(DERIVED)))
        fetch = draw(pick(DERIVED[base]))
        if "_len" in fetch or fetch.startswith(("hdr_cnt", "hdr_val")):
            return f"{fetch} {draw(st.sampled_from(['1', '2', 'gt 3', 'le 5', '1:2']))}"
        values = REGEXES if fetch.endswith("_reg") or "_reg(" in fetch else WORDS
        return f"{fetch} {icase}{' '.join(draw(st.lists(pick(values), min_size=1, max_size=2)))}"
    if kind == "int":
        op = draw(st.sampled_from(["", "eq ", "gt ", "ge ", "lt ", "le "]))
        return f"{draw(pick(INT_FETCHES))} {op}{draw(st.sampled_from(['0', '1', '2', '3', '5']))}"
    if kind == "ip":
        nets = ["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8", "192.168.1.1", "::1"]
        return f"src {' '.join(draw(st.lists(pick(nets), min_size=1, max_size=2)))}"
    if kind == "method":
        methods = ["GET", "POST", "HEAD", "PUT", "DELETE", "get"]
        return f"method {icase}{' '.join(draw(st.lists(pick(methods), min_size=1, max_size=2)))}"
    return draw(st.sampled_from(["req.hdr(x-a) -m found", "req.cook(sid) -m found",
                                 "url_param(id) -m found", "req.body_size gt 0",
                                 "hdr(x-be) -m found", "always_true", "always_false",
                                 "req.ver 1.0", "req.hdr(host) -m len 0"]))  # fmt: skip


@st.composite
def condition(draw: st.DrawFn, acls: list[str]) -> str:
    """`if ...` / `unless ...` over the named ACLs and anonymous ones, or nothing."""
    if draw(st.integers(0, 3)) == 0:
        return ""

    def term() -> str:
        neg = draw(st.sampled_from(["", "", "!"]))
        if len(acls) > 0 and draw(st.booleans()):
            return neg + draw(pick(acls))
        return neg + "{ " + draw(criterion()) + " }"

    terms = [term() for _ in range(draw(st.integers(1, 2)))]
    expr = " ".join(terms)
    if draw(st.integers(0, 3)) == 0:
        expr += " || " + term()
    return f" {draw(st.sampled_from(['if', 'if', 'unless']))} {expr}"


FORMATS = ["v1", "%[path]", "%[req.hdr(host),lower]", "%[url_param(id)]", "%[var(txn.v)]",
           "%[path,regsub(/,_,g)]", "%[req.hdr(x-a),upper]", "pre-%[method]-post", "%[src]",
           "%[req.hdr(host),field(1,:)]", "%[path,word(1,/)]", "%[query,length]",
           "%[url,base64]", "%[req.cook(sid)]", "%[path,lower,bytes(1,3)]", "%[req.ver]",
           "%[hdr_cnt(x-a)]", "%[capture.req.method]", "%[req.hdr(x-a),json(ascii)]",
           "%[base,crc32]", "%[path,djb2]", "%[str(a),concat(-,txn.v,-)]", "%{+Q}[path]",
           "%[req.hdr(user-agent),word(1,/),lower]", "%[int(3),add(4)]",
           "%[url_param(id),ltrim(a),rtrim(c)]", "%[path,field(2,/),upper]", "%[hdr(x-a,2)]",
           "%[path,sha1,hex]", "%[req.hdr(host),regsub(^www\\.,)]", "%[var(txn.v),length]",
           "x%[req.fhdr(x-a)]y"]  # fmt: skip
RES_FORMATS = ["%[status]", "%[res.hdr(x-served-by)]", "%[var(txn.v)]",
               "%[res.hdr_cnt(set-cookie)]",
               "%[res.hdr(set-cookie),field(1,=)]", "served-%[res.hdr(x-served-by),upper]",
               "%[res.ver]", "%[var(txn.r)]", "%[capture.req.uri]"]  # fmt: skip
RES_ONLY = [*RES_FORMATS, "v1", "%[var(txn.v)]"]  # a response rule cannot read the request
VAR_EXPRS = ["path", "req.hdr(host)", "str(lit)", "url_param(id)", "int(3)", "path,lower,word(1,/)",
             "req.hdr(x-a),lower", "method", "query", "req.hdr_cnt(x-a)", "url_param(id),upper",
             "req.cook(SRV)"]  # fmt: skip
HEADERS = ["X-Out", "x-a", "X-A", "Host", "User-Agent", "X-New", "Cookie", "x-be"]
RES_HEADERS = ["X-Res", "X-Served-By", "Set-Cookie", "Cache-Control", "Content-Type", "x-r"]


def fmt(draw: st.DrawFn, formats: list[str]) -> str:
    value = draw(pick(formats))
    return f'"{value}"' if draw(st.booleans()) else value


@st.composite
def request_action(draw: st.DrawFn) -> str:
    """One `http-request` action (before its condition)."""
    kind = draw(st.sampled_from(["set-header", "add-header", "del-header", "replace-header",
                                 "replace-value", "set-path", "set-query", "replace-path",
                                 "set-method", "set-var", "set-var", "deny", "return", "redirect",
                                 "set-uri", "replace-uri", "allow"]))  # fmt: skip
    name = draw(pick(HEADERS))
    if kind in ("set-header", "add-header"):
        return f"http-request {kind} {name} {fmt(draw, FORMATS)}"
    if kind == "del-header":
        return f"http-request del-header {name}"
    if kind in ("replace-header", "replace-value"):
        rx, to = draw(st.sampled_from([("(.*)", "pre-\\1"), ("^([a-z]+)", "\\1-x"),
                                       ("c([0-9])", "C\\1"), ("(.*):8080", "\\1"),
                                       ("abc", "%[path]")]))  # fmt: skip
        return f"http-request {kind} {name} {rx} {to}"
    if kind == "set-path":
        return "http-request set-path " + draw(pick(["/new", "/pre%[path]", "%[path,lower]",
                                                     "/%[url_param(id)]"]))  # fmt: skip
    if kind == "set-query":
        return "http-request set-query " + draw(pick(["id=9", "%[query]&z=1", "q=%[path]"]))
    if kind == "replace-path":
        rx, to = draw(st.sampled_from([("/a(.*)", "/b\\1"), ("(.*)", "/p\\1"), ("^/api/", "/")]))
        return f"http-request replace-path {rx} {to}"
    if kind == "set-uri":
        return "http-request set-uri " + draw(pick(["/u?x=1", "%[url,lower]", "http://h%[path]"]))
    if kind == "replace-uri":
        return "http-request replace-uri ^/([^/]*)(.*) /r/\\1\\2"
    if kind == "set-method":
        return "http-request set-method " + draw(pick(["POST", "%[req.hdr(x-a)]", "PUT"]))
    if kind == "set-var":
        scope = draw(st.sampled_from(["txn.v", "txn.v", "req.w", "sess.s"]))
        return f"http-request set-var({scope}) {draw(pick(VAR_EXPRS))}"
    if kind == "deny":
        return "http-request deny" + draw(pick(["", " deny_status 429", " deny_status 400",
                                                " deny_status 200"]))  # fmt: skip
    if kind == "return":
        return "http-request return" + draw(
            pick(
                [
                    " status 200 content-type text/plain string pong",
                    ' status 404 content-type "text/html" string "<p>no</p>"',
                    " status 503",
                    " status 200 content-type text/plain lf-string %[path]",
                    " status 302 hdr Location /x",
                    " status 204",
                ]
            )
        )
    if kind == "redirect":
        return "http-request redirect " + draw(
            pick(
                [
                    "location /moved",
                    "location /moved code 301",
                    "prefix /p",
                    "prefix /p drop-query",
                    "scheme https",
                    "location %[path,upper] code 307",
                    "prefix https://h.example",
                    "location /l append-slash",
                    "scheme https code 308",
                    "location /c set-cookie FOO=bar",
                    "location /c clear-cookie FOO=",
                ]
            )
        )
    return "http-request allow"


@st.composite
def response_action(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["set-header", "add-header", "del-header", "replace-header",
                                 "replace-value", "set-status", "set-var", "deny"]))  # fmt: skip
    name = draw(pick(RES_HEADERS))
    if kind in ("set-header", "add-header"):
        return f"http-response {kind} {name} {fmt(draw, RES_ONLY)}"
    if kind == "del-header":
        return f"http-response del-header {name}"
    if kind in ("replace-header", "replace-value"):
        rx, to = draw(st.sampled_from([("(.*)", "pre-\\1"), ("^SRV=(.*)", "S=\\1"),
                                       ("s([0-9])", "S\\1")]))  # fmt: skip
        return f"http-response {kind} {name} {rx} {to}"
    if kind == "set-status":
        return "http-response set-status " + draw(pick(["201", "404 reason Gone", "503", "299"]))
    if kind == "set-var":
        return "http-response set-var(txn.r) " + draw(
            pick(["res.hdr(x-served-by)", "status", "res.hdr(set-cookie),lower"])
        )
    return "http-response deny" + draw(pick(["", " deny_status 502"]))


RES_CRITERIA = ["status 200", "status 404 500", "status ge 300", "res.hdr(x-served-by) s1",
                "res.hdr(set-cookie) -m found", "res.hdr(x-served-by) -m beg s",
                "var(txn.v) -m found", "res.hdr_cnt(set-cookie) gt 0"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    lines: tuple[str, ...]


BALANCES = ["roundrobin", "static-rr", "first", "uri", "uri len 3", "uri depth 2", "uri whole",
            "uri len 4 depth 1", "url_param id", "hdr(host)", "hdr(host) use_domain_only",
            "hdr(x-a)", "source", "leastconn", "url_param id check_post"]  # fmt: skip
COOKIES_MODES = ["insert", "insert indirect nocache", "insert indirect", "insert nocache httponly",
                 "insert secure", "insert postonly", "rewrite", "prefix", "prefix indirect",
                 "insert preserve", "insert indirect nocache domain .example.com"]  # fmt: skip


@st.composite
def backend(draw: st.DrawFn, name: str, servers: list[int]) -> Backend:
    lines = [f"balance {draw(pick(BALANCES))}"]
    if draw(st.integers(0, 4)) == 0:
        lines.append(draw(pick(CONN_MODES)))
    cookie = draw(st.none() | pick(COOKIES_MODES))
    if cookie is not None:
        lines.append(f"cookie SRV {cookie}")
    count = draw(st.integers(1, len(servers)))
    acls = []
    if draw(st.booleans()):
        lines.append(f"acl rs {draw(pick(RES_CRITERIA))}")
        acls.append("rs")
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(request_action()) + draw(condition([])))
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(response_action()) + draw(condition(acls)))
    for i in range(count):
        opts = f" cookie c{i + 1}" if cookie is not None and draw(st.integers(0, 5)) else ""
        lines.append(f"server s{i + 1} 127.0.0.1:{servers[i]}{opts}")
    return Backend(name, tuple(lines))


@dataclass(frozen=True, slots=True)
class Generated:
    """One configuration's frontend and backend lines (before ports and logging are filled)."""

    frontend: tuple[str, ...]
    backends: tuple[Backend, ...]

    def render(self, port: int, log_port: int) -> str:
        out = [
            *preamble(log_port),
            "frontend fe",
            f"    bind 127.0.0.1:{port}",
            *("    " + line for line in self.frontend),
        ]
        for b in self.backends:
            out += [f"backend {b.name}", *("    " + line for line in b.lines)]
        return "\n".join(out) + "\n"


CONN_MODES = ["option http-server-close", "option httpclose", "option http-keep-alive"]
AFTER_RESPONSE = ["http-after-response set-header X-After %[status]",
                  "http-after-response del-header X-Served-By",
                  "http-after-response add-header X-After 1 if { status 403 }"]  # fmt: skip
# Custom lines: the samples a log line can carry, and the HTTP fields of the log
LOG_FORMATS = ['"%ci %ft %b/%s %ST %B %HM %HU %HP %HQ %HV %{+Q}r %ts %tsc"',
               '"%[var(txn.v)] %[capture.req.method] %[capture.req.uri] %hr %ST"',
               '"%{+Q}[req.hdr(x-a)] %[path] %[res.hdr(x-served-by)] %CC %CS %rt"']  # fmt: skip


@st.composite
def configs(draw: st.DrawFn, servers: list[int]) -> Generated:
    backends = [draw(backend(f"b{i}", servers)) for i in range(draw(st.integers(1, 3)))]
    names = [b.name for b in backends]
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("capture request header Host len 20")
    if draw(st.integers(0, 2)) == 0:
        lines.append("option forwardfor")
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(pick(CONN_MODES)))
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"log-format {draw(pick(LOG_FORMATS))}")
    acls = [f"a{i}" for i in range(draw(st.integers(0, 3)))]
    lines += [f"acl {a} {draw(criterion())}" for a in acls]
    for _ in range(draw(st.integers(0, 4))):
        lines.append(draw(request_action()) + draw(condition(acls)))
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(response_action()) + draw(condition([])))
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(pick(AFTER_RESPONSE)))
    if draw(st.integers(0, 3)) == 0:
        lines.append("http-request capture " + draw(pick(["req.hdr(x-a) len 5", "path len 8"])))
    if draw(st.integers(0, 4)) == 0:
        lines.append("redirect prefix /r code 302" + draw(condition(acls)))
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.integers(0, 3)) == 0:
            lines.append(
                "use_backend " + draw(pick(["%[req.hdr(x-be),lower]", "b%[url_param(id)]"]))
            )
        else:
            cond = draw(condition(acls)) or " if " + draw(pick(acls or ["TRUE"]))
            lines.append(f"use_backend {draw(pick(names))}{cond}")
    lines.append(f"default_backend {draw(pick(names))}")
    return Generated(tuple(lines), tuple(backends))


@st.composite
def http_request(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(["GET", "GET", "GET", "POST", "HEAD", "PUT", "DELETE"]))
    target = draw(pick(PATHS)) + draw(pick(QUERIES))
    version = draw(st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0"]))
    fields: list[str] = []
    host = draw(pick(HOSTS))
    if host:
        fields.append(f"Host: {host}")
    for _ in range(draw(st.integers(0, 2))):
        fields.append(f"x-a: {draw(pick(XA))}")
    if draw(st.booleans()):
        fields.append(f"User-Agent: {draw(pick(AGENTS))}")
    if draw(st.booleans()):
        fields.append(f"Cookie: {draw(pick(COOKIES))}")
    if draw(st.integers(0, 3)) == 0:
        fields.append(f"x-be: {draw(pick(['b0', 'B1', 'b2', 'nope']))}")
    if draw(st.integers(0, 3)) == 0:
        fields.append(f"x-reply-status: {draw(pick(STATUSES))}")
    if draw(st.integers(0, 2)) == 0:
        fields.append(f"x-reply-set-cookie: {draw(pick(SET_COOKIES))}")
    if draw(st.integers(0, 4)) == 0:
        fields.append("x-reply-cache-control: private")
    body = ""
    if method in ("POST", "PUT"):
        body = draw(pick(["", "id=7&x=1", "hello"]))
        fields.append(f"Content-Length: {len(body)}")
    if version == "HTTP/1.0" or draw(st.integers(0, 6)) == 0:
        fields.append("Connection: close")
    head = f"{method} {target} {version}\r\n" + "".join(f + "\r\n" for f in fields)
    return (head + "\r\n" + body).encode()


def request_lists() -> st.SearchStrategy[list[bytes]]:
    return st.lists(http_request(), min_size=1, max_size=6)
