"""The fields of an X.509 certificate that HAProxy shows or matches on, read from its DER
(RFC 5280 §4.1; ITU-T X.690 for the encoding).

What reads it: the TLS binds' SNI names (a certificate's CN and DNS subject alternative
names, src/ssl_sock.c ssl_sock_load_cert_sni), the `show ssl cert` / `show ssl ca-file`
details (src/ssl_ckch.c cli_io_handler_show_cert_detail: serial, validity, SAN, key
algorithm, SHA1 fingerprint, subject and issuer in OpenSSL's one-line form) and the
`ssl_c_s_dn` / `ssl_c_i_dn` fetches, and the name check of a server's certificate (its SNI
or `verifyhost`: ssl_sock_srv_verifycbk, ssl_sock_srv_hostcheck).  Only what is read is
decoded; anything malformed is a `CertError`, never an IndexError.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# OpenSSL's short names (crypto/objects/objects.txt) for the usual name attributes
_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
}
_SAN = "2.5.29.17"
_RSA, _EC, _DSA = "1.2.840.113549.1.1.1", "1.2.840.10045.2.1", "1.2.840.10040.4.1"
_CURVES = {"1.2.840.10045.3.1.7": 256, "1.3.132.0.34": 384, "1.3.132.0.35": 521}
_CURVES["1.3.132.0.33"] = 224
# OBJ_nid2sn of the usual signature algorithms (what `proxy-v2-options cert-sig` sends)
_SIGS = {
    "1.2.840.113549.1.1.4": "RSA-MD5",
    "1.2.840.113549.1.1.5": "RSA-SHA1",
    "1.2.840.113549.1.1.14": "RSA-SHA224",
    "1.2.840.113549.1.1.11": "RSA-SHA256",
    "1.2.840.113549.1.1.12": "RSA-SHA384",
    "1.2.840.113549.1.1.13": "RSA-SHA512",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class CertError(ValueError):
    """Not a certificate this reader understands."""


@dataclass(frozen=True, slots=True)
class Cert:
    serial: str  # upper-case hex, as OpenSSL prints it
    not_before: str  # "Dec  6 14:19:08 2026 GMT"
    not_after: str
    subject: str  # "/C=FR/CN=name"
    issuer: str
    dns: tuple[str, ...]  # subject alternative names of type DNS
    algorithm: str  # "RSA2048", "EC256"
    sha1: str  # upper-case hex of the DER's SHA-1
    signature: str = "UNDEF"  # the signature algorithm's short name: "RSA-SHA256"

    @property
    def common_names(self) -> tuple[str, ...]:
        return tuple(p[3:] for p in self.subject.split("/") if p.startswith("CN="))


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the element at `at`."""
    if at + 2 > len(data):
        raise CertError("truncated")
    tag, n = data[at], data[at + 1]
    at += 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise CertError("bad length")
        n = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + n > len(data):
        raise CertError("truncated")
    return tag, at, at + n


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, vs, ve = _tlv(data, start)
        out.append((tag, vs, ve))
        start = ve
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise CertError("empty OID")
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for b in raw[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _name(data: bytes, start: int, end: int) -> str:
    """X509_NAME_oneline: /SN=value for each attribute, in order."""
    out = []
    for _t, rs, re_ in _children(data, start, end):  # SET OF
        for _t2, as_, ae in _children(data, rs, re_):  # SEQUENCE {oid, value}
            (_o, os_, oe), (_v, vs, ve) = _children(data, as_, ae)[:2]
            oid = _oid(data[os_:oe])
            value = data[vs:ve].decode("utf-8", "replace")
            out.append(f"/{_NAMES.get(oid, oid)}={value}")
    return "".join(out)


def _time(data: bytes, tag: int, start: int, end: int) -> str:
    """ASN1_TIME_print: "Mon DD HH:MM:SS YYYY GMT"."""
    text = data[start:end].decode("ascii", "replace").rstrip("Z")
    if tag == 0x17:  # UTCTime: YY
        year = int(text[:2])
        text = str(1900 + year if year >= 50 else 2000 + year) + text[2:]
    try:
        y, mo, d = int(text[:4]), int(text[4:6]), int(text[6:8])
        h, mi, s = text[8:10], text[10:12], text[12:14] or "00"
    except ValueError as exc:
        raise CertError("bad time") from exc
    return f"{_MONTHS[mo - 1]} {d:2d} {h}:{mi}:{s} {y} GMT"


def _algorithm(data: bytes, start: int, end: int) -> str:
    (_a, als, ale), (_k, ks, _ke) = _children(data, start, end)[:2]
    parts = _children(data, als, ale)
    oid = _oid(data[parts[0][1] : parts[0][2]])
    if oid == _RSA:  # BIT STRING { SEQUENCE { modulus, exponent } }
        _s, ss, se = _tlv(data, ks + 1)
        _m, ms, me = _children(data, ss, se)[0]
        modulus = data[ms:me].lstrip(b"\0")
        return f"RSA{len(modulus) * 8 - (8 - modulus[0].bit_length()) if modulus else 0}"
    if oid == _EC and len(parts) > 1:
        return f"EC{_CURVES.get(_oid(data[parts[1][1] : parts[1][2]]), 0)}"
    if oid == _DSA:
        return "DSA"
    return "Unknown"


def _san(data: bytes, start: int, end: int) -> tuple[str, ...]:
    """The DNS names of the subjectAltName extension ([3] EXPLICIT Extensions)."""
    names: list[str] = []
    _s, ss, se = _tlv(data, start)
    for _t, es, ee in _children(data, ss, se):
        kids = _children(data, es, ee)
        if _oid(data[kids[0][1] : kids[0][2]]) != _SAN:
            continue
        _o, os_, _oe = kids[-1]  # OCTET STRING { SEQUENCE OF GeneralName }
        _q, qs, qe = _tlv(data, os_)
        names.extend(
            data[vs:ve].decode("ascii", "replace")
            for tag, vs, ve in _children(data, qs, qe)
            if tag == 0x82  # dNSName
        )
    return tuple(names)


def parse(der: bytes) -> Cert:
    """The certificate's fields (CertError if it is not one)."""
    try:
        _c, cs, ce = _tlv(der, 0)
        _t, ts, te = _children(der, cs, ce)[0]
        fields = _children(der, ts, te)
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        serial, sig, issuer, validity, subject, spki = fields[:6]
        _a, a_start, a_end = _children(der, sig[1], sig[2])[0]  # AlgorithmIdentifier's OID
        sig_oid = _oid(der[a_start:a_end])
        (t1, b1s, b1e), (t2, b2s, b2e) = _children(der, validity[1], validity[2])[:2]
        ext = next((f for f in fields[6:] if f[0] == 0xA3), None)
        return Cert(
            serial=der[serial[1] : serial[2]].hex().upper(),
            not_before=_time(der, t1, b1s, b1e),
            not_after=_time(der, t2, b2s, b2e),
            subject=_name(der, subject[1], subject[2]),
            issuer=_name(der, issuer[1], issuer[2]),
            dns=_san(der, ext[1], ext[2]) if ext is not None else (),
            algorithm=_algorithm(der, spki[1], spki[2]),
            sha1=hashlib.sha1(der).hexdigest().upper(),
            signature=_SIGS.get(sig_oid, "UNDEF"),
        )
    except (ValueError, IndexError) as exc:
        raise CertError(str(exc)) from None


def pem_blocks(text: str) -> list[bytes]:
    """The DER of each CERTIFICATE block of a PEM text, in order (RFC 7468)."""
    import base64

    out: list[bytes] = []
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    at = text.find(begin)
    while at >= 0:
        stop = text.find(end, at)
        if stop < 0:
            break
        body = "".join(text[at + len(begin) : stop].split())
        try:
            out.append(base64.b64decode(body, validate=True))
        except ValueError as exc:
            raise CertError("bad base64") from exc
        at = text.find(begin, stop)
    return out


def host_matches(pattern: str, hostname: str) -> bool:
    """A certificate name against the name a server was asked for, as HAProxy's
    ssl_sock_srv_hostcheck compares them (RFC 6125 §6.4.3): case-insensitive, one `*`
    allowed in the leftmost label only, standing for at least nothing of the host's."""
    if pattern.lower() == hostname.lower():
        return True
    label, dot, rest = pattern.partition(".")
    if not dot or label.count("*") != 1:
        return False
    host_label, host_dot, host_rest = hostname.partition(".")
    if not host_dot or rest.lower() != host_rest.lower():
        return False
    prefix, _, suffix = label.partition("*")
    if len(host_label) < len(prefix) + len(suffix):
        return False
    low = host_label.lower()
    return low.startswith(prefix.lower()) and low.endswith(suffix.lower())


def cert_matches(cert: Cert, hostname: str) -> bool:
    """ssl_sock_srv_verifycbk at depth 0: a DNS subject alternative name, else a CN."""
    return any(host_matches(n, hostname) for n in (*cert.dns, *cert.common_names))
