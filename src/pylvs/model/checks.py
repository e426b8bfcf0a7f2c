"""Health check specs: where a check connects, when it runs, and what it probes.

A `CheckSpec` is one checker of a real server, whatever config format described it: a
`CheckTarget` (address, port, timeout and socket options), a `CheckTiming` and a `Probe`, a
tagged union of one frozen value per kind.  The kinds and their options are keepalived's
checkers (check/check_tcp.c, check_http.c, check_smtp.c, check_dns.c, check_misc.c,
check_udp.c, check_ping.c, check_file.c; reference §3.9-3.12); HAProxy's `check`,
`option httpchk` and `tcp-check` map onto the same probes.

`CheckTiming` can say both dialects: keepalived's `delay_loop` / `retry` /
`delay_before_retry` / `warmup` / `alpha`, and HAProxy's `inter` / `fastinter` / `downinter` /
`rise` / `fall` / initial state (configuration manual §5.2).  Each field says which keyword it
carries.  Values only: the machines that run them are health/machine.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

from pylvs.model.notify import ScriptSpec
from pylvs.model.service import Address

from .frozen import fast_init

HTTP_DEFAULT_STATUS = ((200, 299),)  # check_http.h HTTP_DEFAULT_STATUS_CODE_MIN/MAX
SMTP_DEFAULT_HELO = "smtpchecker.keepalived.org"  # check_smtp.h SMTP_DEFAULT_HELO
DNS_DEFAULT_TYPE = "SOA"
DNS_DEFAULT_NAME = "."  # check_dns.h: "" which the query builder sends as the root
UDP_DEFAULT_MAX_REPLY = 255  # check_udp.c udp_check_handler
DEFAULT_INTERVAL = 60.0  # keepalived KEEPALIVED_DEFAULT_DELAY
DEFAULT_CONNECT_TIMEOUT = 5.0  # keepalived alloc_vs: connection_to = 5 * TIMER_HZ


class HttpProtocol(enum.Enum):
    """The request line and `Connection` header an HTTP check sends (keepalived
    check_http.c `http_protocol_handler`)."""

    HTTP_1_0 = "1.0"
    HTTP_1_0C = "1.0C"  # HTTP/1.0 with "Connection: close"
    HTTP_1_1 = "1.1"


@fast_init
@dataclass(frozen=True, slots=True)
class CheckTarget:
    """Where a check connects and how (keepalived connect_ip / connect_port / bindto /
    bind_port / bind_if / fwmark / connect_timeout; HAProxy `addr`, `port`, `timeout check`)."""

    address: Address
    port: int
    timeout: float = DEFAULT_CONNECT_TIMEOUT
    bind_address: Address | None = None
    bind_port: int = 0
    bind_interface: str | None = None
    fwmark: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class CheckTiming:
    """When a check runs and how many results change the server's state.

    interval        between checks while the state holds (keepalived delay_loop, HAProxy inter)
    retries         failures retried before an up server is taken down (keepalived retry;
                    HAProxy fall - 1)
    retry_interval  between those retries (keepalived delay_before_retry, HAProxy fastinter)
    down_interval   between checks of a down server (HAProxy downinter); None: `interval`, as
                    keepalived does
    rise            consecutive successes that bring a down server up (HAProxy rise;
                    keepalived: 1)
    warmup          the first check waits a random share of this (keepalived warmup)
    initially_up    the state before the first check (keepalived: not `alpha`)
    log_all_failures  every failure is logged, not only state changes
    """

    interval: float = DEFAULT_INTERVAL
    retries: int = 1
    retry_interval: float = 1.0
    down_interval: float | None = None
    rise: int = 1
    warmup: float = 0.0
    initially_up: bool = True
    log_all_failures: bool = False

    @property
    def fall(self) -> int:
        """Consecutive failures that take an up server down (HAProxy's `fall`)."""
        return self.retries + 1


@fast_init
@dataclass(frozen=True, slots=True)
class TcpProbe:
    """Success when a TCP connection completes."""

    KIND: ClassVar[str] = "TCP_CHECK"

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class UrlSpec:
    """One URL an HTTP check fetches; status ranges are inclusive (first, last)."""

    path: str
    status_codes: tuple[tuple[int, int], ...] = HTTP_DEFAULT_STATUS
    digest: str | None = None  # lower-case MD5 hex of the body
    virtualhost: str | None = None
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: tuple[str, ...] = ()
    regex_min_offset: int = 0
    regex_max_offset: int = 0  # 0 = no limit

    def accepts(self, status: int) -> bool:
        return any(lo <= status <= hi for lo, hi in self.status_codes)


@fast_init
@dataclass(frozen=True, slots=True)
class HttpProbe:
    """HTTP (or, with `tls`, HTTPS) GETs of each URL in turn."""

    KIND: ClassVar[str] = "HTTP_GET"
    urls: tuple[UrlSpec, ...]
    tls: bool = False
    virtualhost: str | None = None  # Host header unless the URL has its own
    protocol: HttpProtocol = HttpProtocol.HTTP_1_0
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False  # a server closing without close_notify fails the check

    @property
    def kind(self) -> str:
        return "SSL_GET" if self.tls else "HTTP_GET"


@fast_init
@dataclass(frozen=True, slots=True)
class SmtpProbe:
    KIND: ClassVar[str] = "SMTP_CHECK"
    helo_name: str = SMTP_DEFAULT_HELO

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class DnsProbe:
    KIND: ClassVar[str] = "DNS_CHECK"
    type: str = DNS_DEFAULT_TYPE
    name: str = DNS_DEFAULT_NAME

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class MiscProbe:
    """A script: exit 0 is success; with `dynamic`, 2..255 is success with a weight."""

    KIND: ClassVar[str] = "MISC_CHECK"
    script: ScriptSpec
    timeout: float
    dynamic: bool = False

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class UdpProbe:
    """A datagram; `reply_mask` has the bits set that a wildcard nibble covers."""

    KIND: ClassVar[str] = "UDP_CHECK"
    payload: bytes | None = None  # None = random payload
    require_reply: bool = False
    reply: bytes | None = None
    reply_mask: bytes | None = None
    min_reply_length: int = 0
    max_reply_length: int = UDP_DEFAULT_MAX_REPLY

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class PingProbe:
    """An ICMP / ICMPv6 echo."""

    KIND: ClassVar[str] = "PING_CHECK"

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class FileProbe:
    """A tracked file's number turned into a weight or a fault (keepalived FILE_CHECK over a
    `track_file`): `path` None when the tracked file is not defined (it then reads 0)."""

    KIND: ClassVar[str] = "FILE_CHECK"
    name: str
    path: str | None
    weight: int = 1
    reverse: bool = False

    @property
    def kind(self) -> str:
        return self.KIND


@fast_init
@dataclass(frozen=True, slots=True)
class BfdProbe:
    """A BFD session's state (keepalived BFD_CHECK).  pylvs runs no BFD: it counts as up."""

    KIND: ClassVar[str] = "BFD_CHECK"
    name: str

    @property
    def kind(self) -> str:
        return self.KIND


Probe = (
    TcpProbe
    | HttpProbe
    | SmtpProbe
    | DnsProbe
    | MiscProbe
    | UdpProbe
    | PingProbe
    | FileProbe
    | BfdProbe
)


@fast_init
@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One checker of a real server.  `target` is None for probes that connect nowhere
    (MISC, FILE, BFD)."""

    probe: Probe
    target: CheckTarget | None = None
    timing: CheckTiming = field(default_factory=CheckTiming)

    @property
    def kind(self) -> str:
        return self.probe.kind


@fast_init
@dataclass(frozen=True, slots=True)
class TlsClientSpec:
    """The client side of TLS checks (keepalived's `SSL { }` block): the server is verified
    only against `ca`; `certificate` / `key` are presented when given."""

    ca: str | None = None
    certificate: str | None = None
    key: str | None = None
    password: str | None = None
