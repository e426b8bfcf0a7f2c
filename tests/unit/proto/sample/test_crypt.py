"""crypt(3) for userlist passwords against hashes made by `openssl passwd -1/-5/-6` and glibc
(recorded once; the values below are theirs)."""

from __future__ import annotations

import pytest

from pylvs.proto.sample.crypt import crypt, verify

VECTORS = [
    (
        b"s3cret",
        b"$6$pylvssalt$spF.4BEUX18reHUMj16Hz0oKIkbp2eJw/50fFnEJeAVF3znrC4U850YS1aape3sawREI6bguwP0a3NanjQMoy1",
    ),
    (b"md5pw", b"$1$xy$egnrkPM3.8fGH337TTeaJ0"),
    (b"s5", b"$5$rounds$73.0fxbPnEPqm.R4xDB5YRR5Ez.B5qX6Wo/DhO2yEHB"),
    # glibc crypt(3) with rounds= and a password longer than a digest block
    (
        b"pw-longer-than-sixteen-chars-xx",
        b"$6$rounds=2000$saltsaltsaltsalt$ZAhtZyKzYkPHpGGgok6ptJLYU7RfESLsu4Q2NxubHhrJ9GHNgn3aRK"
        b"CCpH2qdQc4wlMErv/Ir0Py3YFQe/kQa0",
    ),
    (b"", b"$5$xy$Uj5BhmLoZxDpBbJsOkoyL4TgtFF3jpmPV4PsBkqQaO1"),
]


@pytest.mark.parametrize(("password", "hashed"), VECTORS)
def test_known_hashes(password: bytes, hashed: bytes) -> None:
    assert crypt(password, hashed) == hashed
    assert verify(password, hashed)
    assert not verify(password + b"x", hashed)


def test_unknown_schemes_never_verify() -> None:
    assert crypt(b"pw", b"abDESsalt") is None
    assert not verify(b"pw", b"$y$j9T$abc")
