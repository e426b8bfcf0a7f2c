"""model/tls.py version_range: the protocol range HAProxy 2.6's ssl_sock_prepare_ctx /
ssl_sock_prepare_srv_ssl_ctx work out of ssl-min-ver, ssl-max-ver and no-tlsv1x."""

from __future__ import annotations

from pylvs.model.tls import BIND_DEFAULT_MIN, VERSIONS, version_range

ALL = VERSIONS[1:]  # an OpenSSL without SSLv3


def test_a_bind_starts_at_tls12_and_a_server_at_the_lowest_available() -> None:
    assert version_range(None, None, frozenset(), ALL, BIND_DEFAULT_MIN) == ("TLSv1.2", "TLSv1.3")
    assert version_range(None, None, frozenset(), ALL) == ("TLSv1.0", "TLSv1.3")
    assert version_range(None, None, frozenset(), VERSIONS) == ("SSLv3", "TLSv1.3")


def test_a_max_below_the_default_min_becomes_the_min() -> None:
    assert version_range(None, "TLSv1.1", frozenset(), ALL, BIND_DEFAULT_MIN) == (
        "TLSv1.1", "TLSv1.1",
    )  # fmt: skip
    assert version_range("TLSv1.0", "TLSv1.1", frozenset(), ALL, BIND_DEFAULT_MIN) == (
        "TLSv1.0", "TLSv1.1",
    )  # fmt: skip


def test_turned_off_versions_count_only_without_min_or_max() -> None:
    off = frozenset({"TLSv1.3"})
    assert version_range(None, None, off, ALL, BIND_DEFAULT_MIN) == ("TLSv1.2", "TLSv1.2")
    assert version_range("TLSv1.2", None, off, ALL) == ("TLSv1.2", "TLSv1.3")  # ignored
    # a hole is only warned of: the range runs from the first version on to the last
    assert version_range(None, None, frozenset({"TLSv1.1"}), ALL) == ("TLSv1.0", "TLSv1.3")


def test_every_version_off_is_none() -> None:
    off = frozenset({"TLSv1.2", "TLSv1.3"})
    assert version_range(None, None, off, ALL, BIND_DEFAULT_MIN) is None
    assert version_range(None, None, frozenset(ALL), ALL) is None
