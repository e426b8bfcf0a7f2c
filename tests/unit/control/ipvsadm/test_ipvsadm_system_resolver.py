"""The host resolver behind `pylvs ipvsadm` refuses what gethostbyname() refuses.

ipvsadm's host_to_addr is gethostbyname(): an IPv4-mapped IPv6 literal such as
`::ffff:1.2.3.4` is no IPv4 host there (NULL), where getaddrinfo(AF_INET) would map it to
1.2.3.4.  Messages and statuses: ipvsadm 1.31 given the same arguments.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from pylvs.control.ipvsadm import Failure, parse
from pylvs.control.ipvsadm.system_resolver import system_resolver

RES = system_resolver()


@pytest.mark.parametrize(
    "name", ["::ffff:1.2.3.4", "::ffff:7f00:1", "::1", "::", "1.2.3.4.5", "<broadcast>", ""]
)
def test_what_gethostbyname_refuses(name: str) -> None:
    assert RES.host_to_ipv4(name) is None


@pytest.mark.parametrize(
    ("name", "addr"), [("1.2.3.4", "1.2.3.4"), ("127.1", "127.0.0.1"), ("localhost", "127.0.0.1")]
)
def test_what_gethostbyname_accepts(name: str, addr: str) -> None:
    assert RES.host_to_ipv4(name) == IPv4Address(addr)


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("-A -t ::ffff:1.2.3.4:80", "illegal virtual server address[:port] specified\n"),
        ("-D -t ::ffff:1.2.3.4:80", "illegal virtual server address[:port] specified\n"),
        ("-L -t ::ffff:1.2.3.4:80", "illegal virtual server address[:port] specified\n"),
        (
            "-a -t 1.2.3.4:80 -r ::ffff:5.6.7.8:80",
            "illegal real server address[:port] specified\n",
        ),
        (
            "-A -t 1.2.3.4:80 -p -M ::ffff:255.255.255.0",
            "illegal virtual server persistent mask specified\n",
        ),
    ],
)
def test_ipv4_mapped_literals_are_refused(line: str, text: str) -> None:
    out = parse(["ipvsadm", *line.split()], resolver=RES)
    assert isinstance(out, Failure), out
    assert (out.text, out.exit_code) == (text, 2)


def test_host_names_still_resolve() -> None:
    out = parse(["ipvsadm", "-A", "-t", "localhost:80"], resolver=RES)
    assert not isinstance(out, Failure), out
