"""Users, Basic credentials and same-origin checks (web/auth.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from pylvs.web.auth import Access, Role, UsersFileError, parse_users, same_origin


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


USERS = f"""
# operators
admin ops s3cret
read grafana sha256:{hashlib.sha256(b"scrape me").hexdigest()}   # hashed
"""


def test_users_and_their_roles() -> None:
    access = Access(parse_users(USERS, "u"))
    assert access.who(basic("ops", "s3cret")).role is Role.ADMIN  # type: ignore[union-attr]
    assert access.who(basic("grafana", "scrape me")).role is Role.READ  # type: ignore[union-attr]
    assert access.who(basic("ops", "wrong")) is None
    assert (
        access.who(basic("grafana", "sha256:" + hashlib.sha256(b"scrape me").hexdigest())) is None
    )
    assert access.who("Bearer abc") is None
    assert access.who("Basic !!!") is None
    assert access.who(None) is None
    assert access.reads_need_auth and not access.may_read(None)


def test_without_read_users_anyone_reads() -> None:
    access = Access(parse_users("admin ops s3cret\n"))
    assert not access.reads_need_auth and access.may_read(None)
    assert Access().may_read(None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("admin ops\n", "u:1: expected ROLE NAME SECRET, got 2 word(s)"),
        ("\nroot ops pw\n", "u:2: unknown role 'root' (read or admin)"),
        ("read x sha256:abc\n", "u:1: sha256: needs 64 hexadecimal digits"),
    ],
)
def test_bad_users_file_lines(text: str, message: str) -> None:
    with pytest.raises(UsersFileError) as e:
        parse_users(text, "u")
    assert str(e.value) == message


def test_same_origin() -> None:
    assert same_origin(None, "127.0.0.1:8081")
    assert same_origin("http://127.0.0.1:8081", "127.0.0.1:8081")
    assert not same_origin("http://evil.example", "127.0.0.1:8081")
    assert not same_origin("null", "127.0.0.1:8081")
    assert not same_origin("http://127.0.0.1:8081", None)
