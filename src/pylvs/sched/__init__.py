"""Every scheduler module is imported here so that it registers itself by name."""

from pylvs.sched import (
    dh,
    fo,
    lblc,
    lblcr,
    lc,
    mh,
    nq,
    ovf,
    rr,
    sed,
    sh,
    twos,
    wlc,
    wrr,
)

__all__ = [
    "dh",
    "fo",
    "lblc",
    "lblcr",
    "lc",
    "mh",
    "nq",
    "ovf",
    "rr",
    "sed",
    "sh",
    "twos",
    "wlc",
    "wrr",
]
