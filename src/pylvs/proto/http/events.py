"""What a framer found in the bytes of one direction of an HTTP/1 connection (past tense).

A framer turns bytes into these, in order, whatever the read boundaries were: the only thing
the boundaries change is how a body is cut into `BodyReceived` pieces (their concatenation is
the same).  Frozen and slotted (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .head import Refusal
from .message import Fields, RequestHead, ResponseHead


@dataclass(frozen=True, slots=True)
class HeadReceived:
    """A complete head HAProxy would forward (an interim 1xx response is one too)."""

    head: RequestHead | ResponseHead


@dataclass(frozen=True, slots=True)
class BodyReceived:
    """Payload bytes (de-chunked; HAProxy re-chunks on output)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class TrailersReceived:
    """The trailer fields after the last chunk (names lower-cased, as HTX keeps them)."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class MessageEnded:
    """The message is complete; the framer holds what follows until told to go on."""


@dataclass(frozen=True, slots=True)
class MessageTruncated:
    """The peer closed before the message's end."""


@dataclass(frozen=True, slots=True)
class TunnelReceived:
    """Bytes after a switch to tunnel mode (101, CONNECT 2xx), to pass on untouched."""

    data: bytes


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """HAProxy would refuse this message: `refusal` says with what and where its parser was;
    `buffer` is what it held then (the bytes a `show errors` snapshot records).  The framer
    takes nothing more."""

    refusal: Refusal
    buffer: bytes


FramerEvent = (
    HeadReceived
    | BodyReceived
    | TrailersReceived
    | MessageEnded
    | MessageTruncated
    | TunnelReceived
    | MessageRejected
)

MESSAGE_ENDED = MessageEnded()
MESSAGE_TRUNCATED = MessageTruncated()
