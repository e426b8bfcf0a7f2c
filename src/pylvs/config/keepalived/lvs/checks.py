"""Typed health checkers of a keepalived `real_server`, with every value resolved.

One frozen dataclass per checker block (keepalived/check/check_*.c).  The options common to
all checkers (check/check_api.c `install_checker_common_keywords`) are resolved by the rule of
check/check_data.c `validate_check_config`: the checker's own value, else the real server's
(which already inherited the virtual server's), else the checker's default (`queue_checker`:
retry 1, delay_before_retry 1 s; HTTP_GET/SSL_GET delay_before_retry 3 s; DNS_CHECK retry 3
and delay_before_retry = delay_loop; MISC_CHECK retry 0), see reference §3.11.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from pylvs.config.errors import Location
from pylvs.model.frozen import fast_init
from pylvs.model.service import Address

HTTP_DEFAULT_STATUS = ((200, 299),)  # check_http.h HTTP_DEFAULT_STATUS_CODE_MIN/MAX
SMTP_DEFAULT_HELO = "smtpchecker.keepalived.org"  # check_smtp.h SMTP_DEFAULT_HELO
DNS_TYPES = ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY")  # check_dns.c
DNS_DEFAULT_TYPE = "SOA"
DNS_DEFAULT_NAME = "."  # check_dns.h: "" which the query builder sends as the root
UDP_DEFAULT_MAX_REPLY = 255  # check_udp.c udp_check_handler


class HttpProtocol(enum.Enum):
    """`http_protocol` of HTTP_GET / SSL_GET (check_http.c `http_protocol_handler`)."""

    HTTP_1_0 = "1.0"
    HTTP_1_0C = "1.0C"  # HTTP/1.0 with "Connection: close"
    HTTP_1_1 = "1.1"


@fast_init
@dataclass(frozen=True, slots=True)
class Script:
    """A script keepalived runs (notify_up/down, quorum_up/down, misc_path), split into argv
    by the quoting rules of reference §3.1, and the user/group it runs as (None = default)."""

    argv: tuple[str, ...]
    loc: Location
    user: str | None = None
    group: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class CheckTiming:
    """The retry/timing options every checker has, resolved (seconds for timers)."""

    retry: int
    delay_before_retry: float
    warmup: float
    delay_loop: float
    alpha: bool
    log_all_failures: bool


@fast_init
@dataclass(frozen=True, slots=True)
class Connection:
    """Where a checker connects: connect_ip/connect_port default to the real server."""

    ip: Address
    port: int
    timeout: float
    bindto: Address | None = None
    bind_port: int = 0
    bind_if: str | None = None
    fwmark: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class TcpCheck:
    """TCP_CHECK: the real server is up while a TCP connection to it succeeds."""

    KIND: ClassVar[str] = "TCP_CHECK"
    loc: Location
    timing: CheckTiming
    conn: Connection


@fast_init
@dataclass(frozen=True, slots=True)
class PingCheck:
    """PING_CHECK: the real server is up while it answers ICMP echo requests."""

    KIND: ClassVar[str] = "PING_CHECK"
    loc: Location
    timing: CheckTiming
    conn: Connection


@fast_init
@dataclass(frozen=True, slots=True)
class Url:
    """One `url { }` of HTTP_GET / SSL_GET; status ranges are inclusive (first, last)."""

    loc: Location
    path: str
    status_codes: tuple[tuple[int, int], ...] = HTTP_DEFAULT_STATUS
    digest: str | None = None  # lower-case MD5 hex
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
class HttpCheck:
    """HTTP_GET, or SSL_GET when `ssl` is true."""

    KIND: ClassVar[str] = "HTTP_GET"
    loc: Location
    timing: CheckTiming
    conn: Connection
    urls: tuple[Url, ...]
    ssl: bool = False
    virtualhost: str | None = None  # resolved: checker > real server > virtual server
    http_protocol: HttpProtocol = HttpProtocol.HTTP_1_0
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False

    @property
    def kind(self) -> str:
        return "SSL_GET" if self.ssl else "HTTP_GET"


@fast_init
@dataclass(frozen=True, slots=True)
class SmtpCheck:
    """SMTP_CHECK: the real server is up while it answers an SMTP HELO with 250."""

    KIND: ClassVar[str] = "SMTP_CHECK"
    loc: Location
    timing: CheckTiming
    conn: Connection
    helo_name: str = SMTP_DEFAULT_HELO


@fast_init
@dataclass(frozen=True, slots=True)
class DnsCheck:
    """DNS_CHECK: the real server is up while it answers a query of `type` for `name`."""

    KIND: ClassVar[str] = "DNS_CHECK"
    loc: Location
    timing: CheckTiming
    conn: Connection
    type: str = DNS_DEFAULT_TYPE
    name: str = DNS_DEFAULT_NAME


@fast_init
@dataclass(frozen=True, slots=True)
class MiscCheck:
    """MISC_CHECK: `timeout` is misc_timeout, or the checker's delay_loop when not given."""

    KIND: ClassVar[str] = "MISC_CHECK"
    loc: Location
    timing: CheckTiming
    script: Script
    timeout: float
    dynamic: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class UdpCheck:
    """UDP_CHECK: `reply_mask` has the bits set that an X (wildcard nibble) covered."""

    KIND: ClassVar[str] = "UDP_CHECK"
    loc: Location
    timing: CheckTiming
    conn: Connection
    payload: bytes | None = None  # None = random payload
    require_reply: bool = False
    reply: bytes | None = None
    reply_mask: bytes | None = None
    min_reply_length: int = 0
    max_reply_length: int = UDP_DEFAULT_MAX_REPLY

    def reply_matches(self, data: bytes) -> bool:
        """check_udp.c `check_udp_reply`: length within bounds, then the first
        min(len(data), len(reply)) octets equal outside the wildcard nibbles."""
        if not self.min_reply_length <= len(data) <= self.max_reply_length:
            return False
        if self.reply is None:
            return True
        mask = self.reply_mask or bytes(len(self.reply))
        return all(
            (d ^ r) & ~m & 0xFF == 0 for d, r, m in zip(data, self.reply, mask, strict=False)
        )


@fast_init
@dataclass(frozen=True, slots=True)
class FileCheck:
    """FILE_CHECK: `weight` None means "the weight of the track_file block"."""

    KIND: ClassVar[str] = "FILE_CHECK"
    loc: Location
    track_file: str
    weight: int | None = None
    reverse: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class BfdCheck:
    """BFD_CHECK: the real server follows the state of the bfd_instance `name`."""

    KIND: ClassVar[str] = "BFD_CHECK"
    loc: Location
    name: str
    alpha: bool = False


Checker = (
    TcpCheck
    | PingCheck
    | HttpCheck
    | SmtpCheck
    | DnsCheck
    | MiscCheck
    | UdpCheck
    | FileCheck
    | BfdCheck
)
