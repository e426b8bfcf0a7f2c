"""What rules ask their driver to do (imperative, frozen, slotted).

Most actions act on the stream itself (headers, variables, stick counters, captures); these
are the ones only the driver can carry out, on its sockets or in its tables.  They are
collected in `Txn.commands` in the order the rules ran; a verdict (verdicts.py) says how the
rule sets ended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SetMark:
    """setsockopt(SO_MARK) on the client connection (`set-mark`, Linux)."""

    mark: int


@dataclass(frozen=True, slots=True)
class SetTos:
    """setsockopt(IP_TOS / IPV6_TCLASS) on the client connection (`set-tos`)."""

    tos: int


@dataclass(frozen=True, slots=True)
class SetNice:
    """The stream's scheduling priority (`set-nice`, -1024..1024)."""

    nice: int


@dataclass(frozen=True, slots=True)
class SetLogLevel:
    """The level of the stream's log line; "silent" logs nothing (`set-log-level`)."""

    level: str


@dataclass(frozen=True, slots=True)
class SetTimeout:
    """`set-timeout server|tunnel|client`: the stream's timeout, in milliseconds."""

    which: str
    ms: int


@dataclass(frozen=True, slots=True)
class ExpectProxy:
    """`tcp-request connection expect-proxy layer4`: read a PROXY protocol header first."""


@dataclass(frozen=True, slots=True)
class ExpectNetscalerCip:
    """`tcp-request connection expect-netscaler-cip layer4`."""


@dataclass(frozen=True, slots=True)
class AddressChanged:
    """`set-src`, `set-dst`, `set-src-port`, `set-dst-port` changed the session's addresses
    (already done on the Session; the driver's logs and transparent binds follow)."""

    which: str  # "src" | "dst"


@dataclass(frozen=True, slots=True)
class SendEarlyHint:
    """Send a 103 Early Hints response with these fields now (`early-hint`); the rules
    gather consecutive early-hint rules into one message."""

    fields: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class DisableL7Retry:
    """`disable-l7-retry`: no `retry-on` layer-7 retry for this stream."""


@dataclass(frozen=True, slots=True)
class SetPriority:
    """`set-priority-class` / `set-priority-offset`: the stream's place in server queues."""

    which: str  # "class" | "offset"
    value: int


@dataclass(frozen=True, slots=True)
class LogFailedRewrite:
    """A header or start line rewrite did not fit (counted as `wrew` in the stats)."""

    proxy: str


@dataclass(frozen=True, slots=True)
class CloseResponse:
    """`tcp-response content close`: close the server connection once the response is
    forwarded."""


Command = (
    SetMark
    | SetTos
    | SetNice
    | SetLogLevel
    | SetTimeout
    | ExpectProxy
    | ExpectNetscalerCip
    | AddressChanged
    | SendEarlyHint
    | DisableL7Retry
    | SetPriority
    | LogFailedRewrite
    | CloseResponse
)
