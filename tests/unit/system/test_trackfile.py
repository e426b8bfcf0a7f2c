"""The one track_file reader (trackers/track_file.c `process_track_file`): strtol base 0,
127 bytes, out-of-range values ignored; `init_file` creates and rewrites as keepalived does.
The same values read by the real keepalived are compared in tests/netns/vrrp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pylvs.system import trackfile


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"42\n", 42),
        (b"  -7 junk", -7),
        (b"+3", 3),
        (b"", 0),
        (b"abc", 0),
        (b"0x10\n", 16),  # the VRRP side read this as 0 before the two readers became one
        (b"0X1f", 31),
        (b"010", 8),  # a leading 0 is octal
        (b"08", 0),  # ... and stops at the first non-octal digit
        (b"0x", 0),
        (b"0xg", 0),
        (b"\t\n 12abc", 12),
        (b"2147483648", 2**31),  # INT32_MAX + 1 is still taken
        (b"-2147483648", -(2**31)),
        (b"2147483649", None),  # "Invalid number ... - ignoring"
        (b"-2147483649", None),
        (b"9" * 40, None),  # strtol's ERANGE
        (b"1" * 200, None),  # more than 127 bytes: only the first 127 are read, still ERANGE
        (b"7\x0099", 7),  # the buffer ends at a NUL
        (b"\xff\xfe5", 0),
    ],
)
def test_value_of_is_strtol_base_0(data: bytes, value: int | None) -> None:
    assert trackfile.value_of(data) == value


def test_only_127_bytes_are_read(tmp_path: Path) -> None:
    f = tmp_path / "v"
    f.write_bytes(b" " * 126 + b"5" + b"9")  # the 128th byte is never read
    assert trackfile.read(str(f)) == 5


def test_missing_file_reads_zero(tmp_path: Path) -> None:
    assert trackfile.read(str(tmp_path / "missing")) == 0


def test_initialise_creates_then_keeps_unless_overwrite(tmp_path: Path) -> None:
    f = str(tmp_path / "v")
    assert trackfile.initialise(f, 5, overwrite=False) is None
    assert trackfile.read(f) == 5
    assert trackfile.initialise(f, 9, overwrite=False) is None
    assert trackfile.read(f) == 5
    assert trackfile.initialise(f, 9, overwrite=True, reload=True) is None
    assert trackfile.read(f) == 5  # keepalived: "Don't overwrite a file on reload"
    assert trackfile.initialise(f, 9, overwrite=True) is None
    assert trackfile.read(f) == 9


def test_initialise_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    why = trackfile.initialise(str(tmp_path), 1, overwrite=True)
    assert why is not None and "not a regular file" in why
    assert trackfile.initialise(str(tmp_path), 1, overwrite=False) is None  # exists: kept


def test_initialise_reports_an_unwritable_place(tmp_path: Path) -> None:
    why = trackfile.initialise(str(tmp_path / "no" / "such" / "dir"), 1, overwrite=False)
    assert why is not None and "Unable to initialise" in why
    assert not os.path.exists(tmp_path / "no")
