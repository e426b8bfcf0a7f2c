"""The FIX and MQTT converters (src/fix.c, src/mqtt.c): the messages of HAProxy 2.6's
reg-tests/converter/fix.vtc and mqtt.vtc, and the cases around them a broken parser gets
wrong (a message cut short waits for more unless no more can come, a bad checksum, a
remaining length that does not match, a property given twice)."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.compile_samples import compile_expr, context
from pylvs.config.haproxy.samples import parse_sample
from pylvs.proto.sample import Stream
from pylvs.proto.sample import conv_fix as fix
from pylvs.proto.sample import conv_mqtt as mqtt
from pylvs.proto.sample.expr import CompileError, Wait
from pylvs.proto.sample.types import Smp, as_str
from tests.unit.proto.sample.sample_helpers import make_stream

# reg-tests/converter/fix.vtc: a FIX.4.4 logon from the client (fe2's checks)
FIX44 = (
    bytes.fromhex(
        "383d4649582e342e3401393d3130320133353d410134393d434c49454e54310135363d4558454355544f520133"
        "343d310135323d32303230313032392d31333a30323a34342e3533353336300139383d30013130383d33300131"
        "34313d5901353535333d757365723101353535343d7061737377643101393030303d3000313130323d3200100a"
    )
    .replace(b"\x00", b"\x01")
    .replace(b"\x10\x0a", b"")
)


def _fix(
    *fields: tuple[int, bytes], checksum: int | None = None, bodylen: int | None = None
) -> bytes:
    """A FIX message with BodyLength and CheckSum computed (unless given)."""
    head = b"8=FIX.4.4\x01"
    body = b"".join(b"%d=%s\x01" % (tag, value) for tag, value in fields)
    head += b"9=%d\x01" % (len(body) if bodylen is None else bodylen)
    total = sum(head + body) % 256 if checksum is None else checksum
    return head + body + b"10=%03d\x01" % total


LOGON = _fix((35, b"A"), (49, b"CLIENT1"), (56, b"EXECUTOR"), (34, b"1"), (108, b"30"))


def _stream(payload: bytes, *, final: bool) -> Stream:
    s = make_stream()
    s.request = None  # a TCP stream: req.payload reads the raw bytes
    s.req_payload = payload
    s.final = final
    return s


def _eval(text: str, payload: bytes, *, final: bool = True) -> Smp | Wait | None:
    expr = compile_expr(parse_sample(text), context(proxy="fe"))
    return expr.raw(_stream(payload, final=final))


def test_fix_logon_is_valid_and_its_tags_read_by_name_or_id() -> None:
    assert fix.validate(LOGON) == fix.VALID
    assert as_str(_eval("req.payload(0,0),fix_is_valid", LOGON)) == b"1"  # type: ignore[arg-type]
    assert fix.tag_value(LOGON, fix.tag_id(b"SenderCompID")) == b"CLIENT1"
    assert fix.tag_value(LOGON, fix.tag_id(b"targetcompid")) == b"EXECUTOR"
    assert fix.tag_value(LOGON, 9) == b"%d" % (LOGON.index(b"10=") - LOGON.index(b"35="))
    value = _eval("req.payload(0,0),fix_tag_value(MsgType)", LOGON)
    assert isinstance(value, Smp) and value.text == b"A"


@pytest.mark.parametrize(
    ("message", "verdict"),
    [
        (_fix((35, b"A"), (49, b"X" * 20), checksum=0), fix.INVALID),  # wrong checksum
        (_fix((35, b"A"), (49, b"X" * 20), bodylen=5), fix.INVALID),  # wrong body length
        (_fix((49, b"A"), (35, b"X" * 20)), fix.INVALID),  # MsgType not third
        (_fix((35, b"A"), (957, b"X" * 20)), fix.INVALID),  # past FIX.4.4's tags
        (_fix((35, b"A"), (12345, b"X" * 20)), fix.VALID),  # a user-defined tag
        (LOGON.replace(b"FIX.4.4", b"FIX.4.9"), fix.INVALID),
        (LOGON[:-3], fix.NEED_MORE),  # the checksum is not all there yet
        (LOGON[:20], fix.NEED_MORE),  # shorter than any message
        (b"=" + LOGON, fix.INVALID),  # empty tag
    ],
)
def test_fix_validation(message: bytes, verdict: int) -> None:
    assert fix.validate(message) == verdict


def test_fix_cut_short_waits_unless_no_more_can_come() -> None:
    assert isinstance(_eval("req.payload(0,0),fix_is_valid", LOGON[:-3], final=False), Wait)
    assert _eval("req.payload(0,0),fix_is_valid", LOGON[:-3], final=True) is None
    # a tag not there before CheckSum is not found; one past what arrived may still come
    assert _eval("req.payload(0,0),fix_tag_value(1)", LOGON, final=False) is None
    partial = _eval("req.payload(0,0),fix_tag_value(56)", LOGON[:30], final=False)
    assert isinstance(partial, Wait)


def test_fix_unknown_tag_name_is_refused() -> None:
    with pytest.raises(CompileError, match="Unknown FIX tag name 'Price'"):
        compile_expr(parse_sample("req.payload(0,0),fix_tag_value(Price)"), context(proxy="fe"))


# reg-tests/converter/mqtt.vtc
CONNECT_5 = bytes.fromhex(
    "107e00044d51545405ee003c182700000014170126000161000162260001630001642100140008746573745f"
    "7375622a03000a746578742f706c61696e08000c77696c6c727370746f7069632600016500016626000167000168"
    "000977696c6c746f706963000b77696c6c7061796c6f61640004746573740006706173737764"
)
CONNACK_5 = bytes.fromhex(
    "20250000221100000078217fff24012501270000ffff22000a2600016100016226000163000164"
)
CONNECT_311 = bytes.fromhex("101400044d5154540402003c0008746573745f737562")


def test_mqtt_connack_fields_as_the_vtc_reads_them() -> None:
    assert mqtt.parse(CONNACK_5)[0] == mqtt.VALID
    values = {
        name: mqtt.field_value(CONNACK_5, mqtt.CONNACK, name)
        for name in ("flags", "protocol_version", "reason_code", "17", "33", "36", "37", "39")
    }
    assert values == {
        "flags": b"0", "protocol_version": b"5", "reason_code": b"0", "17": b"120",
        "33": b"32767", "36": b"1", "37": b"1", "39": b"65535",
    }  # fmt: skip
    assert mqtt.field_value(CONNACK_5, mqtt.CONNACK, "18") is None  # absent string
    assert mqtt.field_value(CONNACK_5, mqtt.CONNECT, "flags") is None  # another type


def test_mqtt_connect_5_with_will_properties() -> None:
    def value(name: str) -> bytes | None:
        return mqtt.field_value(CONNECT_5, mqtt.CONNECT, name)

    assert mqtt.parse(CONNECT_5)[0] == mqtt.VALID
    assert [value(n) for n in ("protocol_name", "protocol_version", "flags", "username")] == [
        b"MQTT", b"5", b"238", b"test",
    ]  # fmt: skip
    assert [value(n) for n in ("39", "23", "3", "8", "will_payload")] == [
        b"20", b"1", b"text/plain", b"willrsptopic", b"willpayload",
    ]  # fmt: skip
    assert value("17") == b"0"  # absent numeric 5.0 property: HAProxy's zeroed field


def test_mqtt_connect_311() -> None:
    assert mqtt.parse(CONNECT_311)[0] == mqtt.VALID
    assert mqtt.field_value(CONNECT_311, mqtt.CONNECT, "client_identifier") == b"test_sub"
    assert mqtt.field_value(CONNECT_311, mqtt.CONNECT, "keepalive") == b"60"
    assert mqtt.field_value(CONNECT_311, mqtt.CONNECT, "17") is None  # 5.0 only
    value = _eval("req.payload(0,0),mqtt_field_value(1,protocol_name)", CONNECT_311)
    assert isinstance(value, Smp) and value.text == b"MQTT"


@pytest.mark.parametrize(
    ("packet", "verdict"),
    [
        (bytes.fromhex("21020000"), mqtt.INVALID),  # CONNACK flags must be 0
        (bytes.fromhex("20020200"), mqtt.INVALID),  # reserved ack flag bits
        (bytes.fromhex("10ffffffff1400044d5154540402003c0008746573745f737562"), mqtt.INVALID),
        (CONNECT_311[:-1], mqtt.NEED_MORE),
        (CONNECT_311[:1], mqtt.NEED_MORE),
        (bytes.fromhex("101500044d5154540402003c0008746573745f73756200"), mqtt.INVALID),
        (CONNECT_311.replace(b"MQTT", b"MQTX"), mqtt.INVALID),
        (bytes.fromhex("c000"), mqtt.INVALID),  # PINGREQ: not read
        # a CONNACK property given twice, then an unknown one (src/mqtt.c: need more data)
        (bytes.fromhex("200600000322000a"), mqtt.VALID),
        (bytes.fromhex("200900000622000a22000a"), mqtt.INVALID),
        (bytes.fromhex("20050000027f00"), mqtt.NEED_MORE),
    ],
)
def test_mqtt_validation(packet: bytes, verdict: int) -> None:
    assert mqtt.parse(packet)[0] == verdict


def test_mqtt_waits_for_the_rest_of_a_packet() -> None:
    assert isinstance(_eval("req.payload(0,0),mqtt_is_valid", CONNECT_311[:-3], final=False), Wait)
    assert _eval("req.payload(0,0),mqtt_is_valid", CONNECT_311[:-3]) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("connect,nosuch", "Unknown MQTT field name 'nosuch' for packet type 'connect'"),
        ("publish,flags", "Unknown MQTT field name 'flags' for packet type 'publish'"),
        ("bogus,flags", "Unknown MQTT type 'bogus'"),
    ],
)
def test_mqtt_field_value_arguments(args: str, message: str) -> None:
    with pytest.raises(CompileError, match=message):
        compile_expr(parse_sample(f"req.payload(0,0),mqtt_field_value({args})"), context())
