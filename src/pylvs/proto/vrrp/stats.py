"""Per-instance VRRP statistics and the reasons adverts are refused or logged.

Counter names are keepalived's `vrrp_stats` fields (include/vrrp.h); Reason mirrors its
rate-limit flags `VRRP_RLFLAG_*`, each error being logged once until the flags are reset.
"""

from __future__ import annotations

import enum


class Counter(enum.Enum):
    """keepalived's per-instance statistics (`vrrp_stats`), plus pylvs' counts of drops."""

    ADVERT_RCVD = "advert_rcvd"
    PACKET_LEN_ERR = "packet_len_err"
    IP_TTL_ERR = "ip_ttl_err"
    VERS_ERR = "vers_err"
    INVALID_AUTHTYPE = "invalid_authtype"
    AUTHTYPE_MISMATCH = "authtype_mismatch"
    AUTH_FAILURE = "auth_failure"
    INVALID_TYPE_RCVD = "invalid_type_rcvd"
    CHK_ERR = "chk_err"
    ADDR_LIST_ERR = "addr_list_err"
    PRI_ZERO_RCVD = "pri_zero_rcvd"
    ADVERT_SENT = "advert_sent"
    PRI_ZERO_SENT = "pri_zero_sent"
    BECOME_MASTER = "become_master"
    RELEASE_MASTER = "release_master"
    # Not in keepalived's stats: packets it discards without counting.
    TRUNCATED = "truncated"
    FOREIGN = "foreign"
    DROPPED = "dropped"


class Reason(enum.Enum):
    """Why a packet was refused or logged; one rate-limit flag each (VRRP_RLFLAG_*)."""

    TRUNCATED = "truncated"
    FOREIGN_VRID = "foreign_vrid"
    FOREIGN_PROTOCOL = "foreign_protocol"
    AH_MISMATCH = "bad_ah_header"
    LENGTH = "incomplete_packet"
    TTL = "invalid_ttl"
    VERSION = "wrong_version"
    AUTH_TYPE_INVALID = "bad_auth"
    AUTH_TYPE_MISMATCH = "wrong_auth"
    PASSWORD = "wrong_auth_passwd"
    ADVER_INT = "adv_intvl_mismatch"
    TYPE = "not_advertisement"
    IP_TOT_LEN = "bad_length"
    CHECKSUM = "bad_checksum"
    UNICAST_MULTICAST = "uni_multicast_err"
    OWNER_IGNORE = "owner_ignore_adver"
    ADDR_COUNT = "wrong_addr_count"
    VIPS_MISMATCH = "vips_mismatch"
    UNKNOWN_UNICAST_SRC = "unknown_unicast_src"
    PEER_TTL = "ttl_not_in_range"
