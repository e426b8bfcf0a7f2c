"""The generic netlink controller: finding a family's number by its name (pure).

Generic netlink families get their message type at registration; user space asks the
controller (`GENL_ID_CTRL`, 16) with CTRL_CMD_GETFAMILY and the family's name and reads
CTRL_ATTR_FAMILY_ID from the answer (include/uapi/linux/genetlink.h; libnl's
`genl_ctrl_resolve`, which libipvs calls before every request).  The request is built byte
for byte as libnl builds it (version 1, NLM_F_REQUEST | NLM_F_ACK).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.netlink.attrs import Attr, AttrTable, Kind, decode, encode
from pylvs.proto.netlink.message import NLM_F_ACK, NLM_F_REQUEST, Message, genl_request

GENL_ID_CTRL = 16
CTRL_CMD_NEWFAMILY = 1
CTRL_CMD_GETFAMILY = 3
CTRL_VERSION = 1

CTRL_ATTRS = AttrTable(
    "CTRL_ATTR",
    {
        1: Attr("family_id", Kind.U16),
        2: Attr("family_name", Kind.STRING),
        3: Attr("version", Kind.U32),
        4: Attr("hdrsize", Kind.U32),
        5: Attr("maxattr", Kind.U32),
    },
)


@dataclass(frozen=True, slots=True)
class Family:
    """What the controller says about a family."""

    name: str
    id: int
    version: int
    maxattr: int


def get_family(name: str, *, seq: int, pid: int = 0) -> bytes:
    """CTRL_CMD_GETFAMILY for `name`."""
    body = encode(CTRL_ATTRS, [("family_name", name)])
    return genl_request(
        GENL_ID_CTRL,
        CTRL_CMD_GETFAMILY,
        CTRL_VERSION,
        body,
        flags=NLM_F_REQUEST | NLM_F_ACK,
        seq=seq,
        pid=pid,
    )


def family_of(message: Message) -> Family:
    """The CTRL_CMD_NEWFAMILY answer as a value (NetlinkDecodeError if incomplete)."""
    attrs = decode(CTRL_ATTRS, message.body)
    return Family(
        name=attrs.get_str("family_name"),
        id=attrs.get_int("family_id"),
        version=attrs.get_int("version", 0),
        maxattr=attrs.get_int("maxattr", 0),
    )
