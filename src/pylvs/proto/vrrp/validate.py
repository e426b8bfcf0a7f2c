"""Receive-side checks of a VRRP advertisement, in keepalived's order (reference §4.5).

A port of keepalived vrrp/vrrp.c `vrrp_check_packet` (and the header guard of
`vrrp_get_header`).  Each check gives one of three verdicts, as keepalived does:

* OK: the advert reaches the state machine;
* KO: rejected and counted in the instance statistics (`vrrp->stats`), with a log line;
* DROP: silently ignored (v2 interval mismatch, address owner ignoring adverts, unicast peer TTL).

Logs are returned, not written, together with the counters to bump; the state machine
rate-limits them per `Reason` like keepalived's `rlflags`.  Nothing here raises on bad input.
IPv4 messages arrive with their IP header (keepalived reads a raw socket); IPv6 messages arrive
bare with the hop limit and destination from ancillary data, and their checksum was already
verified by the kernel (IPV6_CHECKSUM), so it is not checked again.

The address list is checked as keepalived 2.2.7 (the version pylvs interoperates with, and
every release up to 2.3.2) checks it, unless the caller passes `check_vip_addr=False`
(`skip_check_adv_addr` with an advert from the current master, proto/vrrp/backup.py): an
advert whose address count differs from the instance's is refused early ("received an
unexpected ip number count"), one that lacks one of the instance's addresses after the
checksum ("not present in MASTER advert"); both are KO, counted in `addr_list_err`.  Forged
adverts with a priority of 0 and someone else's addresses must not make a backup take over
(issue 18 item 18).  keepalived 2.3.3 (commit af103930, 2025) turned both into rate-limited
warnings; pylvs follows the released behaviour its peers run.  Unlike 2.2.7, the unicast
source check runs whether or not the list is checked (2.3.3's commit 90555872): an advert
from the current master passed it when that master was first heard.

Not supported: IPsec AH authentication (keepalived-only, deprecated by RFC 3768); an AH
datagram is refused as "auth type not AH", as keepalived does for instances without AH.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
from dataclasses import dataclass

from pylvs.model.vrrp import INADDR_VRRP_GROUP as INADDR_VRRP_GROUP
from pylvs.model.vrrp import ChecksumCompat as ChecksumCompat
from pylvs.model.vrrp import InstanceParams
from pylvs.model.vrrp import Peer as Peer
from pylvs.proto.vrrp.packet import (
    HEADER_LEN,
    IPPROTO_VRRP,
    VRRP_AUTH_AH,
    VRRP_AUTH_LEN,
    VRRP_AUTH_NONE,
    VRRP_AUTH_PASS,
    VRRP_IP_TTL,
    VRRP_PKT_ADVERT,
    Advert,
    IPAddress,
    VrrpHeader,
    decode_advert,
    message_length,
    parse_header,
    parse_ipv4,
    verify_checksum,
)
from pylvs.proto.vrrp.stats import Counter, Reason

IPPROTO_AH = 51
# Ethernet pads short frames to 60 bytes; 14 bytes of header are gone, VLAN tags come in 4s.
ETH_MIN_PAYLOAD = 46
VLAN_TAG_SIZE = 4
AH_HEADER_LEN = 24  # ipsec_ah_t: next header, length, reserved, SPI, sequence, 96-bit ICV
PADDING_REMAINDER = (VLAN_TAG_SIZE - ETH_MIN_PAYLOAD % VLAN_TAG_SIZE) % VLAN_TAG_SIZE


class Verdict(enum.Enum):
    OK = "ok"
    KO = "ko"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class CheckParams:
    """What `vrrp_check_packet` consults of the instance configuration."""

    name: str
    vrid: int
    family: int
    version: int
    adver_int_us: int
    vips: tuple[IPAddress, ...] = ()
    auth_type: int = VRRP_AUTH_NONE
    auth_data: bytes = bytes(VRRP_AUTH_LEN)
    unicast: bool = False
    peers: tuple[Peer, ...] = ()
    check_unicast_src: bool = False
    v3_checksum_as_v2: bool = False
    owner_ignore_adverts: bool = False
    mcast_group4: ipaddress.IPv4Address = INADDR_VRRP_GROUP

    @classmethod
    def of(cls, p: InstanceParams) -> CheckParams:
        return cls(
            name=p.name,
            vrid=p.vrid,
            family=p.family,
            version=p.version,
            adver_int_us=p.adver_int_us,
            vips=tuple(v.address.ip for v in p.vips),
            auth_type=p.auth_type,
            auth_data=p.auth_data,
            unicast=p.unicast,
            peers=p.unicast_peers,
            check_unicast_src=p.check_unicast_src,
            v3_checksum_as_v2=p.v3_checksum_as_v2,
            owner_ignore_adverts=p.owner_ignore_adverts,
            mcast_group4=p.mcast_group4,
        )


@dataclass(frozen=True, slots=True)
class Received:
    """One datagram from the VRRP socket.

    IPv4: `data` is the whole IP datagram; TTL and destination are read from its header.
    IPv6: `data` is the VRRP message; `dst` (IPV6_PKTINFO) and `hop_limit` (IPV6_HOPLIMIT) are
    None when the kernel did not supply them, and the TTL check is then skipped as keepalived
    does (`rx_ttl_hl == -1`).
    """

    data: bytes
    src: IPAddress
    dst: IPAddress | None = None
    hop_limit: int | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    verdict: Verdict
    reason: Reason | None = None
    log: str | None = None
    counters: tuple[Counter, ...] = ()
    advert: Advert | None = None
    header: VrrpHeader | None = None
    notes: tuple[tuple[Reason, str], ...] = ()  # logged, not rejected (VIP list, v3 interval)
    old_checksum_detected: bool = False


def _ko(reason: Reason, log: str, *counters: Counter, header: VrrpHeader | None) -> CheckResult:
    return CheckResult(Verdict.KO, reason, log, counters, header=header)


def _drop(
    reason: Reason, log: str | None, *counters: Counter, header: VrrpHeader | None = None
) -> CheckResult:
    return CheckResult(Verdict.DROP, reason, log, counters or (Counter.DROPPED,), header=header)


def _padded(got: int, expected: int, limit_ok: bool) -> bool:
    return limit_ok and expected < got and (got - expected) % VLAN_TAG_SIZE == PADDING_REMAINDER


def check_packet(  # noqa: C901 - RFC 5798 7.1's receive checks, in the RFC's order
    rx: Received,
    p: CheckParams,
    *,
    effective_priority: int,
    check_vip_addr: bool = True,
    compat: ChecksumCompat = ChecksumCompat.NONE,
) -> CheckResult:
    """Run keepalived's receive checks; see the module docstring for the verdicts."""
    name, src = p.name, rx.src
    data, buflen = rx.data, len(rx.data)
    ttl, dst = rx.hop_limit, rx.dst
    ihl, tot_len, ip_src = 0, 0, None
    if p.family == 4:
        ip = parse_ipv4(data)
        if ip is None or buflen < ip.ihl + HEADER_LEN:
            return _drop(
                Reason.TRUNCATED, f"IPv4 VRRP packet too short - {buflen} bytes", Counter.TRUNCATED
            )
        if ip.protocol not in (IPPROTO_VRRP, IPPROTO_AH):
            return _drop(Reason.FOREIGN_PROTOCOL, None, Counter.FOREIGN)
        ihl, tot_len, ttl, dst, ip_src = ip.ihl, ip.total_length, ip.ttl, ip.dst, ip.src
        if ip.protocol == IPPROTO_AH:
            # vrrp_get_header finds the VRRP header behind the AH header for the VRID lookup;
            # the instance (never AH here) then refuses it (vrrp_check_packet step 1).
            behind = parse_header(data[ihl + AH_HEADER_LEN :])
            if behind is not None and behind.vrid != p.vrid:
                return _drop(Reason.FOREIGN_VRID, None, Counter.FOREIGN, header=behind)
            return _ko(
                Reason.AH_MISMATCH,
                f"({name}) Received AH header but auth type not AH from {src}",
                Counter.AUTHTYPE_MISMATCH,
                header=behind,
            )
    elif buflen < HEADER_LEN:
        return _drop(Reason.TRUNCATED, None, Counter.TRUNCATED)
    hd = parse_header(data[ihl:])
    if hd is None:
        return _drop(Reason.TRUNCATED, None, Counter.TRUNCATED)
    if hd.vrid != p.vrid:
        return _drop(Reason.FOREIGN_VRID, None, Counter.FOREIGN, header=hd)
    multicast = dst is not None and dst.is_multicast
    if p.family == 6 and multicast == p.unicast:
        # vrrp_dispatcher_read discards these before any check ("discarding multicast packet
        # on unicast instance"); without IPV6_PKTINFO a packet counts as unicast.
        return _drop(Reason.UNICAST_MULTICAST, None, Counter.FOREIGN, header=hd)

    expected = ihl + message_length(hd.version, p.family, hd.naddr)
    if buflen != expected and not _padded(buflen, expected, expected < ETH_MIN_PAYLOAD):
        how = "long" if buflen > expected else "short"
        return _ko(
            Reason.LENGTH,
            f"({name}) vrrp packet from {src} too {how}, length {buflen} and expect {expected}",
            Counter.PACKET_LEN_ERR,
            header=hd,
        )
    if not p.unicast and ttl is not None and ttl != VRRP_IP_TTL:
        return _ko(
            Reason.TTL,
            f"({name}) invalid TTL/HL from {src}. Received {ttl} and expect {VRRP_IP_TTL}",
            Counter.IP_TTL_ERR,
            header=hd,
        )
    if hd.version != p.version:
        return _ko(
            Reason.VERSION,
            f"({name}) wrong VRRP version from {src}. Received {hd.version} and expect {p.version}",
            Counter.VERS_ERR,
            header=hd,
        )
    if p.version == 2:
        refused = _check_v2_auth(hd, p, src, data[expected - VRRP_AUTH_LEN : expected])
        if refused is not None:
            return refused
    if hd.type != VRRP_PKT_ADVERT:
        return _ko(
            Reason.TYPE,
            f"({name}) Invalid packet type from {src}. {hd.type} and expect {VRRP_PKT_ADVERT}",
            Counter.INVALID_TYPE_RCVD,
            header=hd,
        )
    if check_vip_addr and hd.naddr != len(p.vips):
        return _ko(
            Reason.ADDR_COUNT,
            f"({name}) received an unexpected ip number count {hd.naddr} from {src}, "
            f"expected {len(p.vips)}!",
            Counter.ADDR_LIST_ERR,
            header=hd,
        )
    if (
        p.family == 4
        and tot_len != buflen
        and not _padded(buflen, tot_len, buflen <= ETH_MIN_PAYLOAD)
    ):
        return _ko(
            Reason.IP_TOT_LEN,
            f"({name}) ip_tot_len mismatch against received length from {src}. "
            f"{tot_len} and received {buflen}",
            Counter.PACKET_LEN_ERR,
            header=hd,
        )
    notes: list[tuple[Reason, str]] = []
    if p.version == 3 and p.adver_int_us != hd.v3_adver_int * 10_000:
        notes.append(
            (
                Reason.ADVER_INT,
                f"({name}) advertisement interval mismatch ours = {p.adver_int_us // 10_000} "
                f"centi-sec rcv'd={hd.v3_adver_int} centi-sec",
            )
        )
    vrrp_bytes = data[ihl:expected]
    detected = False
    if isinstance(ip_src, ipaddress.IPv4Address) and isinstance(dst, ipaddress.IPv4Address):
        ok = True
        if p.version == 2:
            ok = verify_checksum(vrrp_bytes, 2, 4)
        elif not p.v3_checksum_as_v2:
            # With v3_checksum_as_v2 keepalived computes the sum but never refuses on it.
            ph_dst = p.mcast_group4 if compat.uses_group else dst
            ok = verify_checksum(vrrp_bytes, 3, 4, src=ip_src, dst=ph_dst)
            if not ok and p.unicast and compat is ChecksumCompat.NONE and ph_dst != p.mcast_group4:
                # A pre-1.3.6 keepalived summed the multicast group even for unicast.
                ok = detected = verify_checksum(vrrp_bytes, 3, 4, src=ip_src, dst=p.mcast_group4)
        if not ok:
            return _ko(
                Reason.CHECKSUM,
                f"({name}) Invalid VRRPv{p.version} checksum from {src}",
                Counter.CHK_ERR,
                header=hd,
            )
        if multicast == p.unicast:
            mine, theirs = ("un", "mult") if p.unicast else ("mult", "un")
            return _ko(
                Reason.UNICAST_MULTICAST,
                f"({name}) Expected {mine}icast packet but received {theirs}icast packet "
                f"from {src}",
                Counter.ADDR_LIST_ERR,
                header=hd,
            )
    if p.owner_ignore_adverts and effective_priority == 255:
        return _drop(
            Reason.OWNER_IGNORE,
            f"({name}) Dropping packet(s) from {src} since we are address owner",
            header=hd,
        )
    counters = [Counter.ADVERT_RCVD]
    advert = decode_advert(vrrp_bytes, p.family)
    missing = _missing_vip(p, advert) if check_vip_addr else None
    if missing is not None:
        return _ko(
            Reason.VIPS_MISMATCH,
            f"({name}) ip address associated with VRID {p.vrid} not present in MASTER advert "
            f"from {src}: {missing}",
            *counters,
            Counter.ADDR_LIST_ERR,
            header=hd,
        )
    if p.unicast and p.check_unicast_src:
        peer = next((x for x in p.peers if x.address == src), None)
        if peer is None:
            return _ko(
                Reason.UNKNOWN_UNICAST_SRC,
                f"({name}) unicast source address {src} not a unicast peer",
                *counters,
                header=hd,
            )
        if ttl is not None and not peer.min_ttl <= ttl <= peer.max_ttl:
            return _drop(
                Reason.PEER_TTL,
                f"({name}) TTL/HL {ttl} from {src} not in range [{peer.min_ttl}, {peer.max_ttl}]",
                *counters,
                Counter.IP_TTL_ERR,
                header=hd,
            )
    if hd.priority == 0:
        counters.append(Counter.PRI_ZERO_RCVD)
    if advert is None:
        # Only a v2 header on IPv6 could get here, and the version check refuses that first.
        return _drop(Reason.VERSION, None, header=hd)
    return CheckResult(
        Verdict.OK,
        None,
        None,
        tuple(counters),
        advert,
        hd,
        tuple(notes),
        detected,
    )


def _check_v2_auth(hd: VrrpHeader, p: CheckParams, src: IPAddress, pw: bytes) -> CheckResult | None:
    name = p.name
    if hd.auth_type not in (VRRP_AUTH_NONE, VRRP_AUTH_PASS, VRRP_AUTH_AH):
        return _ko(
            Reason.AUTH_TYPE_INVALID,
            f"({name}) Invalid auth type from {src}: {hd.auth_type}",
            Counter.INVALID_AUTHTYPE,
            header=hd,
        )
    if hd.auth_type != p.auth_type:
        return _ko(
            Reason.AUTH_TYPE_MISMATCH,
            f"({name}) received a {hd.auth_type} auth from {src}, expecting {p.auth_type}!",
            Counter.AUTHTYPE_MISMATCH,
            header=hd,
        )
    if p.auth_type == VRRP_AUTH_PASS and not hmac.compare_digest(pw, p.auth_data):
        return _ko(
            Reason.PASSWORD,
            f"({name}) received an invalid passwd from {src}!",
            Counter.AUTH_FAILURE,
            header=hd,
        )
    if p.adver_int_us != hd.v2_adver_int * 1_000_000:
        # "to prevent concurrent VRID running => multiple master in 1 VRID"
        return _drop(
            Reason.ADVER_INT,
            f"({name}) advertisement interval mismatch with {src} "
            f"mine={p.adver_int_us // 1_000_000} sec rcv'd={hd.v2_adver_int} sec",
            header=hd,
        )
    return None


def _missing_vip(p: CheckParams, advert: Advert | None) -> IPAddress | None:
    """The first of the instance's addresses the advert does not carry (vrrp_in_chk_vips)."""
    if advert is None:
        return None
    present = set(advert.addresses)
    return next((vip for vip in p.vips if vip not in present), None)
