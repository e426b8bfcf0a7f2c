"""The stats page's request handling and its HTTP/1.1 reader, on cases beyond the recording."""

from __future__ import annotations

import base64

import pytest

from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime, FakeServer
from pylvs.control.haproxy.http1 import BadRequestError, RequestReader, serialize
from pylvs.control.haproxy.web import PageRequest, StatsSettings, apply_post, handle, matches
from pylvs.model.proxies import ADMF_FDRAIN, ADMF_FMAINT


def runtime() -> FakeRuntime:
    servers = [FakeServer("a", port=1), FakeServer("b", port=2)]
    return FakeRuntime(
        [
            FakeProxy("web", "frontend", "http"),
            FakeProxy("pool", "backend", "http", servers=servers),
        ],
        clock=lambda: 5000.0,
    )


def get(target: str, **kw: object) -> PageRequest:
    return PageRequest("GET", target, **kw)  # type: ignore[arg-type]


SETTINGS = StatsSettings("web", uri="/stats", refresh=10)


def test_only_the_stats_prefix_and_methods_are_the_page() -> None:
    assert matches(SETTINGS, get("/stats;csv"))
    assert matches(SETTINGS, get("http://host:80/stats?x"))  # absolute form: its path
    assert not matches(SETTINGS, get("/other"))
    assert not matches(SETTINGS, PageRequest("DELETE", "/stats"))
    assert handle(SETTINGS, get("/other"), runtime()).status == 503


def test_basic_auth() -> None:
    settings = StatsSettings("web", uri="/", auth=(("u", "p:w"),))
    rt = runtime()
    assert handle(settings, get("/"), rt).status == 401
    good = base64.b64encode(b"u:p:w").decode()
    ok = handle(settings, get("/", headers=(("Authorization", f"Basic {good}"),)), rt)
    assert ok.status == 200
    bad = handle(settings, get("/", headers=(("Authorization", "Basic !!!"),)), rt)
    assert bad.status == 401
    assert ("www-authenticate", 'Basic realm="HAProxy Statistics"') in bad.headers


def test_refresh_header_unless_norefresh() -> None:
    rt = runtime()
    assert ("refresh", "10") in handle(SETTINGS, get("/stats"), rt).headers
    assert all(k != "refresh" for k, _ in handle(SETTINGS, get("/stats;norefresh"), rt).headers)


def test_scope_text_is_dropped_when_it_holds_a_bad_character() -> None:
    rt = runtime()
    body = handle(SETTINGS, get("/stats;csv?scope=po"), rt).body.decode()
    assert "pool,BACKEND" in body and "web,FRONTEND" not in body
    body = handle(SETTINGS, get("/stats;csv?scope=p<o"), rt).body.decode()
    assert "web,FRONTEND" in body  # ignored: every proxy


def test_stats_scope_restricts_the_proxies_and_dot_is_the_page_s_own() -> None:
    settings = StatsSettings("web", uri="/", scope=("pool",))
    body = handle(settings, get("/;csv"), runtime()).body.decode()
    assert "pool,BACKEND" in body and "web,FRONTEND" not in body
    settings = StatsSettings("web", uri="/", scope=(".",))
    body = handle(settings, get("/;csv"), runtime()).body.decode()
    assert "web,FRONTEND" in body and "pool,BACKEND" not in body


def test_post_without_admin_is_denied_and_changes_nothing() -> None:
    rt = runtime()
    req = PageRequest("POST", "/stats", body=b"s=a&action=maint&b=pool")
    r = handle(SETTINGS, req, rt)
    assert r.status == 303 and ("location", "/stats;st=DENY") in r.headers
    assert rt.snapshot().proxies[1].servers[0].admin == 0


@pytest.mark.parametrize(
    ("body", "code", "admin_a"),
    [
        (b"s=a&action=maint&b=pool", "DONE", ADMF_FMAINT),
        (b"b=pool&action=drain&s=a", "DONE", ADMF_FDRAIN),
        (b"s=a&s=zz&action=maint&b=pool", "PART", ADMF_FMAINT),
        (b"s=zz&action=maint&b=pool", "ERRP", 0),
        (b"s=a&action=maint&b=nope", "ERRP", 0),
        (b"s=a&action=explode&b=pool", "ERRP", 0),
        (b"action=maint&b=pool", "NONE", 0),
        (b"s=a&action=ehlth&b=pool", "NONE", 0),  # no check: nothing to enable
        (b"s=a&action=stop&b=%23" + b"3", "DONE", ADMF_FDRAIN),
        (b"s=a&action=start&b=pool", "NONE", 0),  # not draining: nothing to start
    ],
)
def test_admin_actions(body: bytes, code: str, admin_a: int) -> None:
    rt = runtime()
    assert apply_post(rt, body)[0] == code
    assert rt.snapshot().proxies[1].servers[0].admin == admin_a


def test_request_reader_pipelining_and_bodies() -> None:
    r = RequestReader("1.2.3.4")
    out = r.feed(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nab"
    )
    assert [x.target for x in out] == ["/"]
    assert r.pending
    out = r.feed(b"c")
    assert out[0].body == b"abc" and out[0].client == "1.2.3.4"
    out = r.feed(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n"
    )
    assert out[0].body == b"abc"


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\nX: " + b"a" * 20000,
    ],
)
def test_request_reader_refuses(data: bytes) -> None:
    with pytest.raises(BadRequestError):
        RequestReader().feed(data)


def test_serialize_chunks_and_closes_when_asked() -> None:
    rt = runtime()
    req = get("/stats;csv", headers=(("Connection", "close"),))
    wire = serialize(handle(SETTINGS, req, rt), req)
    head, _, body = wire.partition(b"\r\n\r\n")
    assert head.endswith(b"transfer-encoding: chunked\r\nconnection: close")
    assert body.endswith(b"\r\n0\r\n\r\n")
    head_only = serialize(
        handle(SETTINGS, PageRequest("HEAD", "/stats"), rt), PageRequest("HEAD", "/stats")
    )
    assert head_only.endswith(b"\r\n\r\n") and b"transfer-encoding" not in head_only
