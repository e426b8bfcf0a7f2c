"""X.509 fields from DER (proto/x509.py), checked against `openssl x509 -noout -serial
-dates -fingerprint -sha1 -subject -nameopt compat -ext subjectAltName` on the same files
(tests/data/tls/: an RSA certificate with DNS names, an EC P-256 one without)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.proto import x509

DATA = Path(__file__).parents[2] / "data" / "tls"


def _cert(name: str) -> x509.Cert:
    (der,) = x509.pem_blocks((DATA / name).read_text())
    return x509.parse(der)


def test_an_rsa_certificate_with_subject_alternative_names() -> None:
    c = _cert("san-rsa.pem")
    assert c.serial == "53287EF9AA739A3DAF1C8F777CB28ED9C9C1C0E9"
    assert (c.not_before, c.not_after) == ("Dec  6 14:37:42 2026 GMT", "Dec  3 14:37:42 2036 GMT")
    assert c.sha1 == "4EF3A7744F266F83BBB3BF9308A36F7A5F1058C7"
    assert c.subject == "/C=FR/ST=Ile-de-France/O=pylvs tests/CN=www.test.local"
    assert c.issuer == c.subject
    assert c.dns == ("www.test.local", "*.wild.local")
    assert c.algorithm == "RSA2048"
    assert c.common_names == ("www.test.local",)


def test_an_ec_certificate_without_extensions() -> None:
    c = _cert("ec.pem")
    assert c.serial == "5C9D4F7F91EADA8888C81027F1387A9A5CEB3F5C"
    assert c.subject == "/C=FR/O=Test/CN=ec.test.local"
    assert c.dns == ()
    assert c.algorithm == "EC256"
    assert c.sha1 == "FAAE32AECC0A03B9D13FFB9B14108881BA48801B"


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x05abc", b"\x30\x84\xff\xff\xff\xff"])
def test_garbage_is_a_cert_error(der: bytes) -> None:
    with pytest.raises(x509.CertError):
        x509.parse(der)


def test_truncations_of_a_real_certificate_are_cert_errors() -> None:
    (der,) = x509.pem_blocks((DATA / "ec.pem").read_text())
    for n in range(0, len(der) - 1, 7):
        with pytest.raises(x509.CertError):
            x509.parse(der[:n])


def test_host_names_match_as_haproxys_hostcheck() -> None:
    """ssl_sock_srv_hostcheck (RFC 6125 §6.4.3): one wildcard, leftmost label only."""
    from pylvs.proto.x509 import host_matches

    yes = [("www.example.com", "WWW.Example.com"), ("*.example.com", "a.example.com"),
           ("w*.example.com", "www.example.com"), ("*w.example.com", "www.example.com"),
           ("a*z.example.com", "az.example.com")]  # fmt: skip
    no = [("*.example.com", "example.com"), ("*.example.com", "a.b.example.com"),
          ("a.*.example.com", "a.b.example.com"), ("**.example.com", "a.example.com"),
          ("w*.example.com", "xw.example.com"), ("ab*b.example.com", "ab.example.com"),
          ("*", "localhost"), ("www.example.com", "www.example.org")]  # fmt: skip
    assert [host_matches(p, h) for p, h in yes] == [True] * len(yes)
    assert [host_matches(p, h) for p, h in no] == [False] * len(no)
