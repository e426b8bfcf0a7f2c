"""The grammar of HAProxy's own answers for the differential tests: configurations whose
frontend and backend answer by themselves (`errorfile`, `errorfiles` with an `http-errors`
section, `http-error status`, `deny_status`, `return` with `string`/`lf-string`/`file`,
a backend without a usable server: the 503), and requests, well formed or broken by one
mutation (a bad request line, a header field without a colon or with a space before it,
both Content-Length and Transfer-Encoding, a bad Content-Length, a NUL or a bare CR, an
unknown version, a field past tune.bufsize), which the proxy answers with its 400, 501,
413... or passes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_rig import preamble

STATUSES = [400, 403, 404, 408, 429, 500, 502, 503, 504]
# statuses `errorfile` and `http-error` take (http_err_codes)
PAGE_STATUSES = [400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503,
                 504]  # fmt: skip


def page(status: int, marker: str) -> str:
    """An errorfile: a whole HTTP/1 response, as HAProxy sends it untouched."""
    body = f"<html><body>{marker} {status}</body></html>\n"
    return (
        f"HTTP/1.1 {status} Custom\r\nContent-Type: text/html\r\nX-Page: {marker}\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-cache\r\n\r\n{body}"
    )


@dataclass(frozen=True, slots=True)
class AnswersConfig:
    """A frontend and its backends' lines; `files`: errorfiles to write, by name."""

    frontend: tuple[str, ...]
    backend: tuple[str, ...]
    sections: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    down: bool  # the backend's only server is down (an address nothing listens on)

    def write(self, tmp: Path) -> None:
        for name, text in self.files:
            (tmp / name).write_text(text)

    def render(self, tmp: Path, port: int, log: int, server: int) -> str:
        def paths(line: str) -> str:
            return line.replace("@DIR@", str(tmp))

        out = [
            *preamble(log),
            *map(paths, self.sections),
            "frontend fe",
            f"    bind 127.0.0.1:{port}",
            *("    " + paths(line) for line in self.frontend),
            "    default_backend be",
            "backend be",
            *("    " + paths(line) for line in self.backend),
            f"    server s1 127.0.0.1:{1 if self.down else server}",
        ]
        return "\n".join(out) + "\n"


@st.composite
def answer_configs(draw: st.DrawFn) -> AnswersConfig:
    files: list[tuple[str, str]] = []
    sections: list[str] = []
    fe: list[str] = []
    be: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        status = draw(st.sampled_from(PAGE_STATUSES))
        name = f"e{status}.http"
        files.append((name, page(status, "fe-file")))
        fe.append(f"errorfile {status} @DIR@/{name}")
    if draw(st.booleans()):
        sections.append("http-errors site")
        for status in draw(st.lists(st.sampled_from(PAGE_STATUSES), max_size=3, unique=True)):
            name = f"site{status}.http"
            files.append((name, page(status, "site")))
            sections.append(f"    errorfile {status} @DIR@/{name}")
        if len(sections) > 1:
            target = fe if draw(st.booleans()) else be
            target.append("errorfiles site" + draw(st.sampled_from(["", " 503", " 403 404"])))
        else:
            sections.clear()
    for _ in range(draw(st.integers(0, 2))):
        status = draw(st.sampled_from(PAGE_STATUSES))
        kind = draw(st.sampled_from(["string", "lf-string", "default"]))
        line = f"http-error status {status}"
        if kind == "string":
            line += ' content-type text/plain string "custom page"'
        elif kind == "lf-string":
            line += ' content-type text/plain lf-string "page of %[path] for %[method]"'
            line += draw(st.sampled_from(["", ' hdr X-Err "%[status]"']))
        (fe if draw(st.booleans()) else be).append(line)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(["/deny", "/ret", "/lf", "/tarpit", "/empty"]))
        if path == "/deny":
            status = draw(st.sampled_from(STATUSES))
            line = f"http-request deny deny_status {status} if {{ path_beg /deny }}"
        elif path == "/ret":
            status = draw(st.sampled_from([200, 404, 503, 302]))
            line = (
                f"http-request return status {status} content-type text/plain "
                f'string "returned" if {{ path_beg /ret }}'
            )
        elif path == "/lf":
            line = (
                "http-request return status 200 content-type text/plain lf-string "
                '"%[method] %[path] %[req.hdr(host)]" hdr X-A "%[url_param(a)]" '
                "if { path_beg /lf }"
            )
        elif path == "/empty":
            line = "http-request return status 204 if { path_beg /empty }"
        else:
            line = "http-request deny deny_status 500 errorfiles site if { path_beg /tarpit }"
            if not sections:
                line = "http-request deny if { path_beg /tarpit }"
        (fe if draw(st.booleans()) else be).append(line)
    return AnswersConfig(tuple(fe), tuple(be), tuple(sections), tuple(files), draw(st.booleans()))


BASE = b"GET /x?a=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
MUTATIONS = [
    ("none", lambda r: r),
    ("deny", lambda r: r.replace(b"/x?", b"/deny?")),
    ("return", lambda r: r.replace(b"/x?", b"/ret?")),
    ("lf", lambda r: r.replace(b"/x?", b"/lf?")),
    ("empty", lambda r: r.replace(b"/x?", b"/empty?")),
    ("tarpit", lambda r: r.replace(b"/x?", b"/tarpit?")),
    ("space before colon", lambda r: r.replace(b"User-Agent:", b"User-Agent :")),
    ("no colon", lambda r: r.replace(b"User-Agent: t", b"User-Agent t")),
    ("bad version", lambda r: r.replace(b"HTTP/1.1\r\n", b"HTTP/1.x\r\n", 1)),
    ("http/2.0", lambda r: r.replace(b"HTTP/1.1\r\n", b"HTTP/2.0\r\n", 1)),
    ("no target", lambda r: r.replace(b"GET /x?a=1 ", b"GET ", 1)),
    ("bad method", lambda r: r.replace(b"GET ", b"G(T ", 1)),
    ("nul", lambda r: r.replace(b"User-Agent: t", b"User-Agent: t\x00u")),
    ("bare cr", lambda r: r.replace(b"User-Agent: t", b"User-Agent: t\rX")),
    (
        "cl and te",
        lambda r: r.replace(
            b"\r\n\r\n", b"\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
    ),
    ("bad cl", lambda r: r.replace(b"\r\n\r\n", b"\r\nContent-Length: 1x\r\n\r\n")),
    (
        "two cl",
        lambda r: r.replace(b"\r\n\r\n", b"\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
    ),
    ("te gzip", lambda r: r.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: gzip\r\n\r\n")),
    ("huge field", lambda r: r.replace(b"User-Agent: t", b"User-Agent: " + b"t" * 17000)),
    ("obs-fold", lambda r: r.replace(b"User-Agent: t", b"User-Agent: t\r\n u")),
    ("http/1.0 no host", lambda r: b"GET /x HTTP/1.0\r\n\r\n"),
    ("lf only", lambda r: r.replace(b"\r\n", b"\n")),
]


def mutated_requests() -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.sampled_from(MUTATIONS).map(lambda m: m[1](BASE)), min_size=1, max_size=5)
