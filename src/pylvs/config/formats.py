"""Which configuration format a text is: `detect(text)` -> "keepalived" | "haproxy".

`pylvs check` and the config-source registry (`config/registry.py`) both ask it, so a file is
read the same way wherever it is given.  The two formats share no top-level vocabulary: a
keepalived.conf is made of `{ }` blocks opened by keywords such as `global_defs`,
`vrrp_instance` or `virtual_server` (keepalived.conf(5)); a haproxy.cfg of sections opened by
a bare line `global`, `defaults`, `frontend NAME`, `backend NAME`, `listen NAME`, ...
(HAProxy configuration manual §3-4).  Each line's first word votes; comments (`#`, and `!` in
keepalived) and blank lines do not.  A text with no vote either way is keepalived's (pylvs's
first format).
"""

from __future__ import annotations

from typing import Literal

from pylvs.config.haproxy.sections import SECTIONS

Format = Literal["keepalived", "haproxy"]
FORMATS: tuple[Format, ...] = ("keepalived", "haproxy")

KEEPALIVED_WORDS = frozenset(
    {
        "global_defs",
        "vrrp_instance",
        "vrrp_sync_group",
        "vrrp_script",
        "vrrp_track_file",
        "vrrp_track_process",
        "track_file",
        "track_group",
        "garp_group",
        "bfd_instance",
        "virtual_server",
        "virtual_server_group",
        "real_server",
        "static_ipaddress",
        "static_routes",
        "static_rules",
        "linkbeat_interfaces",
        "interface_up_down_delays",
        "net_namespace",
        "SSL",
    }
)
HAPROXY_SECTIONS = SECTIONS  # the words that open a haproxy.cfg section
# `$NAME=` definitions, `@id` lines, generators, includes; HAProxy lines never end in `{`.
_KEEPALIVED_STARTS = ("$", "@", "~SEQ", "~LST", "include")
# How many lines are enough to decide (a generated keepalived.conf may be megabytes long).
ENOUGH = 200


def detect(text: str) -> Format:
    keepalived = haproxy = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        word = line.split(None, 1)[0]
        if word in KEEPALIVED_WORDS or word.startswith(_KEEPALIVED_STARTS) or line.endswith("{"):
            keepalived += 1
        elif word in HAPROXY_SECTIONS:
            haproxy += 1
        if keepalived + haproxy >= ENOUGH:
            break
    return "haproxy" if haproxy > keepalived else "keepalived"
