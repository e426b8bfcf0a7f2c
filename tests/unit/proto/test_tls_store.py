"""The runtime API's CA files (proto/tls_store.py): `new|set|commit|abort|del|show ssl
ca-file` and `show ssl cert`, answered in haproxy 2.6.12's words (captured from its stats
socket on the same sequence)."""

from __future__ import annotations

from pathlib import Path

from pylvs.proto.tls_store import CaStore

PEM = (Path(__file__).parents[2] / "data" / "tls" / "san-rsa.pem").read_text()
DETAIL = (
    "Serial: 53287EF9AA739A3DAF1C8F777CB28ED9C9C1C0E9\n"
    "notBefore: Dec  6 14:37:42 2026 GMT\n"
    "notAfter: Dec  3 14:37:42 2036 GMT\n"
    "Subject Alternative Name: DNS:www.test.local, DNS:*.wild.local\n"
    "Algorithm: RSA2048\n"
    "SHA1 FingerPrint: 4EF3A7744F266F83BBB3BF9308A36F7A5F1058C7\n"
    "Subject: /C=FR/ST=Ile-de-France/O=pylvs tests/CN=www.test.local\n"
    "Issuer: /C=FR/ST=Ile-de-France/O=pylvs tests/CN=www.test.local\n"
)


def test_a_ca_file_made_set_and_committed() -> None:
    s = CaStore()
    assert s.new("common.pem") == ("New CA file created 'common.pem'!\n", False)
    assert s.new("common.pem") == ("CA file 'common.pem' already exists!\n", True)
    assert s.commit("common.pem") == ("No ongoing transaction! !\nCan't commit common.pem!\n", True)
    assert s.set("common.pem", "garbage\n") == (
        "Invalid payload\nCan't update common.pem!\n", True,
    )  # fmt: skip
    assert s.set("other.pem", PEM) == (
        "Can't replace a CA file which is not referenced by the configuration!\n"
        "Can't update other.pem!\n",
        True,
    )
    assert s.set("common.pem", PEM) == ("transaction created for CA common.pem!\n", False)
    assert s.set("common.pem", PEM) == ("transaction updated for CA common.pem!\n", False)
    assert s.show("") == (
        "# transaction\n*common.pem - 1 certificate(s)\n# filename\n"
        "common.pem - 0 certificate(s)\n",
        False,
    )
    assert s.show("*common.pem") == (
        f"Filename: *common.pem\nStatus: Unused\n \nCertificate #1:\n{DETAIL}", False,
    )  # fmt: skip
    generation = s.generation
    assert s.commit("common.pem") == ("Committing common.pem\nSuccess!\n", False)
    assert s.generation == generation + 1  # server contexts are rebuilt
    assert s.show("common.pem:1")[0].endswith(DETAIL)
    assert s.show("common.pem:2") == ("Filename: common.pem\nStatus: Unused\n", False)
    assert s.show("common.pem:x") == ("wrong CA index after colons in 'common.pem:x'!", True)
    assert s.show("nosuch") == ("Can't display the CA file : Not found!\n", True)


def test_abort_and_delete() -> None:
    s = CaStore()
    s.new("a.pem")
    assert s.abort("a.pem") == ("No ongoing transaction!\n", True)
    s.set("a.pem", PEM)
    assert s.abort("b.pem")[1]
    assert s.abort("a.pem") == ("Transaction aborted for certificate 'a.pem'!\n", False)
    assert s.delete("b.pem") == ("CA file 'b.pem' doesn't exist!\n", True)
    s.loaded("/etc/ca.pem", PEM, bind=True)
    assert s.delete("/etc/ca.pem") == ("CA file '/etc/ca.pem' in use, can't be deleted!\n", True)
    assert s.delete("a.pem") == ("CA file 'a.pem' deleted!\n", False)


def test_show_ssl_cert() -> None:
    s = CaStore()
    assert s.show_cert("") == ("", False)
    s.cert_loaded("/etc/site.pem", PEM)
    s.cert_used("/etc/site.pem", "a bind")  # a file no context loaded is "Unused"
    assert s.show_cert("") == ("# filename\n/etc/site.pem\n", False)
    text, error = s.show_cert("/etc/site.pem")
    assert not error
    assert text == f"Filename: /etc/site.pem\nStatus: Used\n{DETAIL}OCSP Response Key: \n"


def test_ssl_cert_transactions() -> None:
    """`set|commit|abort|new|del ssl cert` in haproxy 2.6.12's words (ssl_ckch.c; the same
    answers are compared with haproxy's in tests/integration/hamode/test_hamode_tls_cli.py)."""
    from pylvs.proto.tls_store import CertCommands

    s = CaStore(pair_ok=lambda pem: not pem.endswith("#mismatch"))
    s.cert_loaded("/etc/site.pem", PEM)
    s.cert_used("/etc/site.pem", "bind 1")
    s.cert_used("/etc/site.pem", "bind 2")
    c = CertCommands(s)
    key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    assert c.set("/etc/other.pem", PEM + key) == (
        "Can't replace a certificate which is not referenced by the configuration!\n"
        "Can't update /etc/other.pem!\n",
        True,
    )
    assert c.set("/etc/site.pem", PEM) == (
        "Transaction created for certificate /etc/site.pem!\n", False,
    )  # fmt: skip
    assert c.commit("/etc/site.pem") == (
        "The transaction must contain at least a certificate and a private key!\n"
        "Can't commit /etc/site.pem!\n",
        True,
    )
    assert c.set("/etc/site.pem", PEM + key + "#mismatch") == (
        "Transaction updated for certificate /etc/site.pem!\n", False,
    )  # fmt: skip
    assert c.commit("/etc/site.pem")[0].startswith("inconsistencies between private key")
    generation = s.generation
    assert c.set("/etc/site.pem", PEM + key)[1] is False
    assert c.commit("/etc/site.pem") == ("Committing /etc/site.pem..\nSuccess!\n", False)
    assert s.generation == generation + 1  # the contexts are built again
    assert s.cert_pem("/etc/site.pem") == PEM + key
    assert c.abort("/etc/site.pem") == ("No ongoing transaction!\n", True)
    assert c.new("/etc/new.pem") == ("New empty certificate store '/etc/new.pem'!\n", False)
    assert c.delete("/etc/site.pem") == (
        "Can't remove the certificate: certificate '/etc/site.pem' in use, can't be deleted!\n\n",
        True,
    )
    assert c.delete("/etc/new.pem") == ("Certificate '/etc/new.pem' deleted!\n", False)
