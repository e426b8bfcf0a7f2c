"""What a client may send as an action, and the ids of services and servers (web/actions.py)."""

from __future__ import annotations

import ipaddress

import pytest

from pylvs.model.service import AF_INET6, Protocol, ServiceKey
from pylvs.web.actions import (
    BadActionError,
    ServerAction,
    parse_action,
    parse_server,
    parse_service,
    server_id,
    service_id,
)

A = ipaddress.ip_address


@pytest.mark.parametrize(
    "key",
    [
        ServiceKey(Protocol.TCP, A("10.0.0.1"), 80),
        ServiceKey(Protocol.UDP, A("2001:db8::1"), 53),
        ServiceKey(Protocol.SCTP, A("10.0.0.1"), 0),
        ServiceKey.mark(7),
        ServiceKey.mark(4294967295, AF_INET6),
    ],
)
def test_service_ids_round_trip(key: ServiceKey) -> None:
    assert parse_service(service_id(key)) == key


def test_ids() -> None:
    assert service_id(ServiceKey(Protocol.UDP, A("2001:db8::1"), 53)) == "UDP:[2001:db8::1]:53"
    assert service_id(ServiceKey.mark(7, AF_INET6)) == "FWM:7:v6"
    assert server_id((A("::1"), 80)) == "[::1]:80" and parse_server("[::1]:80") == (A("::1"), 80)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("TCP", "'TCP' is not a service id (TCP:ADDRESS:PORT, FWM:MARK)"),
        ("HTTP:1.2.3.4:80", "'HTTP:1.2.3.4:80': unknown protocol 'HTTP'"),
        ("FWM:x", "'FWM:x' is not FWM:MARK or FWM:MARK:v6"),
        ("FWM:0", "'FWM:0': a fwmark is 1..4294967295"),
        ("TCP:1.2.3.4:99999", "'1.2.3.4:99999' is not ADDRESS:PORT"),
        ("TCP:host:80", "'host' is not an IP address"),
        ("TCP:1.2.3.4:8²", "'1.2.3.4:8²' is not ADDRESS:PORT"),
        ("FWM:²", "'FWM:²' is not FWM:MARK or FWM:MARK:v6"),
    ],
)
def test_bad_service_ids(text: str, message: str) -> None:
    with pytest.raises(BadActionError) as e:
        parse_service(text)
    assert str(e.value) == message


def test_actions() -> None:
    key = ServiceKey(Protocol.TCP, A("10.0.0.1"), 80)
    got = parse_action(
        {"action": "weight", "service": "TCP:10.0.0.1:80", "server": "10.1.0.1:80", "weight": 7}
    )
    assert got == ServerAction("weight", key, (A("10.1.0.1"), 80), 7)
    assert got.describe() == "weight 10.1.0.1:80 of TCP:10.0.0.1:80 to 7"
    drain = parse_action({"action": "drain", "service": "TCP:10.0.0.1:80", "server": "10.1.0.1:80"})
    assert drain.weight is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body must be a JSON object"),
        (
            {"action": "drain", "service": "TCP:1.1.1.1:1", "server": "1.1.1.1:1", "x": 1},
            "unknown field(s): x",
        ),
        (
            {"action": "boom", "service": "TCP:1.1.1.1:1", "server": "1.1.1.1:1"},
            "action must be one of weight, drain, disable, enable",
        ),
        (
            {"action": "drain", "service": 1, "server": "1.1.1.1:1"},
            "service and server must be ids (strings)",
        ),
        (
            {"action": "weight", "service": "TCP:1.1.1.1:1", "server": "1.1.1.1:1"},
            "weight needs a whole number",
        ),
        (
            {"action": "weight", "service": "TCP:1.1.1.1:1", "server": "1.1.1.1:1", "weight": True},
            "weight needs a whole number",
        ),
        (
            {
                "action": "weight",
                "service": "TCP:1.1.1.1:1",
                "server": "1.1.1.1:1",
                "weight": 65536,
            },
            "weight must be 0..65535",
        ),
        (
            {"action": "drain", "service": "TCP:1.1.1.1:1", "server": "1.1.1.1:1", "weight": 1},
            "drain takes no weight",
        ),
    ],
)
def test_bad_actions(body: object, message: str) -> None:
    with pytest.raises(BadActionError) as e:
        parse_action(body)
    assert str(e.value) == message
