"""Fuzz every keyword of every keepalived.conf section with hostile values (issue 18 #14).

Numbers of any length, exponents, signs, non-ASCII digits, NULs and odd bytes go into each
keyword where it is written; the reader must answer with located problems, never an exception
or an "internal error" (`interval 1e308` in a vrrp_script used to be one).
"""

from __future__ import annotations

from typing import Never

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.config.keepalived.lvs.checkers import (
    BFD_TABLE,
    COMMON_TABLE,
    DNS_TABLE,
    FILE_TABLE,
    MISC_TABLE,
    SMTP_TABLE,
    UDP_TABLE,
)
from pylvs.config.keepalived.lvs.http import HTTP_TABLE, URL
from pylvs.config.keepalived.lvs.rs import RS_TABLE
from pylvs.config.keepalived.lvs.vs import SSL_TABLE, VS_TABLE
from pylvs.config.keepalived.parser import TOPLEVEL, load_text
from pylvs.config.keepalived.vrrp.global_defs import GLOBAL_TABLE
from pylvs.config.keepalived.vrrp.instance import INSTANCE_TABLE
from pylvs.config.keepalived.vrrp.trackers import BFD_TABLE as BFD_INSTANCE_TABLE
from pylvs.config.keepalived.vrrp.trackers import PROCESS_TABLE, SCRIPT_TABLE, TRACK_FILE_TABLE
from pylvs.config.keywords.table import Table

_RS = "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n%s {\n@\n}\n}\n}\n"
# Tables of every kind of draft: Table is contravariant in it, so Table[Never] holds them all.
SECTIONS: list[tuple[Table[Never], str]] = [
    (TOPLEVEL, "@\n"),
    (GLOBAL_TABLE, "global_defs {\n@\n}\n"),
    (INSTANCE_TABLE, "vrrp_instance VI {\ninterface lo0\n@\n}\n"),
    (SCRIPT_TABLE, 'vrrp_script s {\nscript "/bin/true"\n@\n}\n'),
    (TRACK_FILE_TABLE, "track_file s {\nfile /tmp/x\n@\n}\n"),
    (PROCESS_TABLE, "vrrp_track_process s {\nprocess x\n@\n}\n"),
    (BFD_INSTANCE_TABLE, "bfd_instance s {\nneighbor_ip 10.0.0.9\n@\n}\n"),
    (VS_TABLE, "virtual_server 10.0.0.1 80 {\n@\nreal_server 10.0.0.2 80 {\n}\n}\n"),
    (RS_TABLE, "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n@\n}\n}\n"),
    (SSL_TABLE, "SSL {\n@\n}\n"),
    (COMMON_TABLE, _RS % "TCP_CHECK"),
    (UDP_TABLE, _RS % "UDP_CHECK"),
    (DNS_TABLE, _RS % "DNS_CHECK"),
    (MISC_TABLE, _RS % "MISC_CHECK"),
    (SMTP_TABLE, _RS % "SMTP_CHECK"),
    (FILE_TABLE, _RS % "FILE_CHECK"),
    (BFD_TABLE, _RS % "BFD_CHECK"),
    (HTTP_TABLE, _RS % "HTTP_GET"),
    (URL, _RS.replace("@", "url {\n@\n}") % "HTTP_GET"),
]
KEYWORDS = [(wrap, name) for table, wrap in SECTIONS for name in table.keywords]

NASTY = st.one_of(
    st.sampled_from(
        [
            "1e308",
            "-1e308",
            "9" * 5000,
            "-" + "9" * 5000,
            "0." + "9" * 5000,
            "inf",
            "nan",
            "-0",
            "+",
            "0x7fffffff",
            "²",
            "١٢",
            "1.2.3.4/²",
            "10.0.0.1-١",
            "::1%eth0",
            "300.1.1.1",
            "reverse",
            "weight",
            "all",
            "\x01",
            "-",
            "{",
            "}",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet="0123456789.-+xXeE:/%abc", min_size=1, max_size=12),
)


@given(st.sampled_from(KEYWORDS), st.lists(NASTY, max_size=3))
@settings(max_examples=1500, deadline=None)
def test_no_value_makes_the_reader_fail(where: tuple[str, str], args: list[str]) -> None:
    wrap, name = where
    line = " ".join([name, *(f'"{a}"' if "{" in a or "}" in a else a for a in args)])
    r = load_text(wrap.replace("@", line), "v.conf", config_id="node")
    internal = [str(p) for p in r.problems if "internal error" in p.message]
    assert not internal, internal
