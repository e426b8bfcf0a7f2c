"""Certificates for the tests that speak TLS, made by `openssl` in a test's directory: a CA
(ca.pem, ca.key) and certificates it signs (the TLS tests of hamode), or one signed by its
own key (the health checkers' TLS servers).  One place, so the TLS tests' set-up is not
written again in each file."""

from __future__ import annotations

import subprocess
from pathlib import Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def signed(d: Path, name: str, subject: str, san: str | None) -> None:
    """NAME.pem: a certificate signed by the test CA (ca.pem, ca.key), then its key."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", subject, cwd=d)  # fmt: skip
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", ext.name,
            cwd=d)  # fmt: skip
    (d / f"{name}.pem").write_text(
        (d / f"{name}.crt").read_text() + (d / f"{name}.key").read_text()
    )


def make_ca(d: Path) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/O=Test/CN=Test CA", cwd=d)  # fmt: skip


def make_certs(d: Path) -> Path:
    """The CA, www.pem (www.test.local), wild.pem (*.wild.local), client.pem (CN client)."""
    make_ca(d)
    signed(d, "www", "/CN=www.test.local", "DNS:www.test.local")
    signed(d, "wild", "/CN=wild", "DNS:*.wild.local")
    signed(d, "client", "/C=FR/O=Test/CN=client", None)
    return d


def self_signed(d: Path, name: str = "cert", subject: str = "/CN=localhost") -> tuple[Path, Path]:
    """NAME.crt signed by its own key NAME.key (returned), and NAME.pem: both."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.crt", "-days", "2", "-subj", subject, cwd=d)  # fmt: skip
    crt, key = d / f"{name}.crt", d / f"{name}.key"
    (d / f"{name}.pem").write_text(crt.read_text() + key.read_text())
    return crt, key
