"""Cookie persistence replayed against the real haproxy 2.6.12.

tests/data/http/cookies.json was recorded by tests/data/http/capture_cookies.py: per case a
backend's `cookie` line and servers, per exchange the request, the server that got it and
the bytes it got, the server's response and what the client got.  Each case's config goes
through pylvs's reader and converter; each exchange through proto/http/cookies: the server
the cookie designates (or, when it names none, the one HAProxy's balancer picked), the
Cookie headers the server received, and the Set-Cookie/Cache-control headers the client got,
byte for byte.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_spec import BackendSpec, CookieSpec
from pylvs.proto.http import cookie_response, cookies
from pylvs.proto.http.cookies import ClientCookie, ServerCookie

DATA = json.loads((Path(__file__).parents[4] / "tests/data/http/cookies.json").read_text())
CASES = {c["name"]: c for c in DATA["cases"]}

Fields = tuple[tuple[bytes, bytes], ...]


def head(text: str) -> tuple[bytes, Fields]:
    """The start line and (lower-case name, value) fields of a recorded message."""
    lines = text.encode("latin-1").split(b"\r\n\r\n")[0].split(b"\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.lower(), value.strip(b" \t")))
    return lines[0], tuple(fields)


def backend(case: dict[str, Any]) -> BackendSpec:
    servers = "".join(
        f"  server {s['name']} 127.0.0.1:{s['port']} {s['options']}\n" for s in case["servers"]
    )
    lines = "".join(f"  {line}\n" for line in case["lines"])
    text = (
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n"
        "  timeout server 5s\nlisten px\n  bind 127.0.0.1:8000\n  balance roundrobin\n"
        f"{lines}{servers}"
    )
    result = load_text(text, "c.cfg")
    (be,) = to_spec(result.config, result.problems).proxies.backends
    assert result.ok, [str(p) for p in result.problems]
    return be


def cookie_fields(fields: Fields, names: tuple[bytes, ...]) -> Fields:
    return tuple(f for f in fields if f[0] in names)


def replay(case: dict[str, Any], ex: dict[str, Any], be: BackendSpec, now: int) -> None:
    spec = be.cookie
    assert spec is not None
    names = [s.name for s in be.servers]
    candidates = [(s.cookie.encode() if s.cookie else None, not s.disabled) for s in be.servers]
    line, fields = head(ex["request"])
    method = line.split(b" ")[0]
    got = cookies.request(fields, spec, candidates, now=now, persist=be.persist)
    if got.server is not None:
        assert names[got.server] == ex["server"]
    _, received = head(ex["received"])
    assert cookie_fields(got.fields, (b"cookie",)) == cookie_fields(received, (b"cookie",))
    chosen = be.servers[names.index(ex["server"])]
    status_line, reply = head(ex["reply"].replace("{srv}", chosen.name) + "\r\n")
    status = int(status_line.split(b" ")[1])
    out = cookie_response.response(
        reply,
        spec,
        status,
        got,
        server_cookie=chosen.cookie.encode() if chosen.cookie else None,
        direct=got.server is not None,
        post=method == b"POST",
        cacheable=cookie_response.request_cacheable(method),
        now=now,
    )
    _, answer = head(ex["answer"])
    interesting = (b"set-cookie", b"set-cookie2", b"cache-control")
    assert cookie_fields(out.fields, interesting) == cookie_fields(answer, interesting)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cookie_persistence_matches_haproxy(name: str) -> None:
    case = CASES[name]
    be = backend(case)
    for i, ex in enumerate(case["exchanges"]):
        # HAProxy's clock is somewhere in [t0, t1]: one of the two gives its bytes.
        errors = []
        for now in sorted({int(ex["t0"]), int(ex["t1"])}):
            try:
                replay(case, ex, be, now)
                break
            except AssertionError as e:
                errors.append(e)
        else:
            raise AssertionError(f"{name} exchange {i}: {ex['request']!r}") from errors[0]


def test_dynamic_cookies_are_haproxys_xxh64() -> None:
    case = CASES["dynamic"]
    be = backend(case)
    got = [s.cookie for s in be.servers]
    assert got[2] == "fixed"
    for s in case["servers"][:2]:
        want = cookies.dynamic_cookie("secretkey", ipaddress.ip_address("127.0.0.1"), s["port"])
        assert want in got
    answers = [head(ex["answer"])[1] for ex in case["exchanges"]]
    sent = {v for fields in answers for n, v in fields if n == b"set-cookie"}
    assert sent == {f"SRV={c}; path=/".encode() for c in got}


def test_the_config_becomes_a_cookie_spec() -> None:
    be = backend(CASES["insert-attrs"])
    assert be.cookie == CookieSpec(
        "SRV",
        insert=True,
        indirect=True,
        httponly=True,
        secure=True,
        domain=".a.com; domain=.b.org",
        attrs="SameSite=Lax; x=1",
    )
    assert [s.cookie for s in be.servers] == ["s1", "s2"]


SPEC = CookieSpec("SRV", insert=True, indirect=True)
TWO: Sequence[tuple[bytes | None, bool]] = [(b"s1", True), (b"s2", True)]


def test_states_follow_haproxys_flags() -> None:
    def state(
        value: bytes, servers: Sequence[tuple[bytes | None, bool]] = TWO, **kw: Any
    ) -> ClientCookie:
        return cookies.request(((b"cookie", value),), SPEC, servers, now=1000, **kw).state

    assert state(b"SRV=s2") is ClientCookie.VALID
    assert state(b"SRV=zz") is ClientCookie.INVALID
    assert state(b"SRV=s2", [(b"s1", True), (b"s2", False)]) is ClientCookie.DOWN
    assert state(b"SRV=s2", ignore=True) is ClientCookie.UNUSED
    # a second persistence cookie after a valid one leaves the state as it was
    assert state(b"SRV=s1; SRV=zz") is ClientCookie.VALID
    assert ClientCookie.EXPIRED.letter == "E" and ServerCookie.UPDATED.letter == "U"


def test_dates_expire_as_configured() -> None:
    spec = CookieSpec("SRV", insert=True, maxidle_s=60, maxlife_s=120)
    now = 1_000_001  # not a multiple of 4: the cookie's last date is in the past
    last = cookies.s30tob64(now >> 2).decode()
    old = cookies.s30tob64((now - 400) >> 2).decode()

    def run(value: str) -> cookies.RequestCookies:
        return cookies.request(((b"cookie", value.encode()),), spec, TWO, now=now)

    assert run(f"SRV=s1|{last}|{last}").server == 0
    assert run(f"SRV=s1|{old}").state is ClientCookie.EXPIRED
    assert run(f"SRV=s1|{last}|{old}").state is ClientCookie.OLD
    fresh = run(f"SRV=s1|{last}|{last}")
    out = cookie_response.response((), spec, 200, fresh, server_cookie=b"s1", direct=True, now=now)
    assert out.state is ServerCookie.UPDATED
    assert cookies.b64tos30(cookies.s30tob64(12345)) == 12345
    assert cookies.b64tos30(b"ab!cd") == -1


def test_checkcache_blocks_a_cacheable_response_setting_a_cookie() -> None:
    fields = ((b"set-cookie", b"a=1"), (b"cache-control", b"max-age=60"))
    out = cookie_response.response(
        fields, None, 200, None, server_cookie=None, cacheable=True, checkcache=True
    )
    assert out.blocked
    private = ((b"set-cookie", b"a=1"), (b"cache-control", b"private"))
    out = cookie_response.response(
        private, None, 200, None, server_cookie=None, cacheable=True, checkcache=True
    )
    assert not out.blocked
