"""VRRP timer arithmetic in integer microseconds, exactly as keepalived computes it.

keepalived/include/vrrp.h `VRRP_TIMER_SKEW_CALC`, `VRRP_TIMER_SKEW`, `VRRP_MS_DOWN_TIMER`
(reference §4.4): v2 Skew_Time = (256 - prio) / 256 s whatever the interval (RFC 3768 §6.1);
v3 Skew_Time = (256 - prio) * Master_Adver_Interval / 256 (RFC 5798 §6.1), computed from the
interval in centiseconds as `(256 - prio) * cs * 625 / 16`.  Both truncate.  An address owner
(base priority 255) uses 255 even when its effective priority was lowered.
"""

from __future__ import annotations

TIMER_HZ = 1_000_000
TIMER_CENTI_HZ = 10_000
VRRP_PRIO_OWNER = 255


def skew_calc(version: int, master_adver_int_us: int, pri_val: int) -> int:
    if version == 3:
        return (pri_val * (master_adver_int_us // TIMER_CENTI_HZ) * 625) // 16
    return pri_val * TIMER_HZ // 256


def skew(
    version: int, master_adver_int_us: int, base_priority: int, effective_priority: int
) -> int:
    prio = VRRP_PRIO_OWNER if base_priority == VRRP_PRIO_OWNER else effective_priority
    return skew_calc(version, master_adver_int_us, 256 - prio)


def skew_min(version: int, master_adver_int_us: int) -> int:
    return skew_calc(version, master_adver_int_us, 1)


def master_down_interval(
    version: int,
    down_timer_adverts: int,
    master_adver_int_us: int,
    base_priority: int,
    effective_priority: int,
) -> int:
    """`down_timer_adverts` x Master_Adver_Interval + Skew_Time."""
    return down_timer_adverts * master_adver_int_us + skew(
        version, master_adver_int_us, base_priority, effective_priority
    )
