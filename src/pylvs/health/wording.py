"""keepalived's words for checker transitions: the log line and the SMTP alert body each
checker kind uses when it goes up or down (check/check_tcp.c `tcp_epilog`, check_http.c
`epilog`, check_smtp.c `smtp_final`, check_dns.c `dns_final`, check_misc.c
`misc_check_child_thread`, check_udp.c `udp_epilog`, check_ping.c)."""

from __future__ import annotations

from pylvs.model.checks import CheckSpec, HttpProbe, MiscProbe

_ALERT = {
    "TCP_CHECK": ("=> TCP CHECK succeed on service <=", "=> TCP CHECK failed on service <="),
    "UDP_CHECK": ("=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <="),
    "PING_CHECK": ("=> ICMP CHECK succeed on service <=", "=> ICMP CHECK failed on service <="),
    "DNS_CHECK": ("=> DNS_CHECK: succeed on service <=", "=> DNS_CHECK: failed on service <="),
    "HTTP_GET": (
        "=> CHECK succeed on service <=",
        "=> CHECK failed on service : HTTP/SSL request failed <=",
    ),
    "SSL_GET": (
        "=> CHECK succeed on service <=",
        "=> CHECK failed on service : HTTP/SSL request failed <=",
    ),
}


def alert_body(kind: str, up: bool, reason: str) -> str | None:
    """The alert text of a checker going up/down (None: the kind sends none)."""
    if kind == "SMTP_CHECK":
        return (
            "=> CHECK succeed on service <=" if up else f"=> CHECK failed on service : {reason} <="
        )
    if kind == "MISC_CHECK":
        what = "succeeded" if up else ("timed out" if reason == "timed out" else "failed")
        return f"=> MISC CHECK {what} on service <="
    pair = _ALERT.get(kind)
    if pair is None:
        return None
    return pair[0] if up else pair[1]


def _retries(n: int) -> str:
    return f" after {n} {'retry' if n == 1 else 'retries'}"


def transition_line(check: CheckSpec, kind: str, rs: str, vs: str, *, up: bool, reason: str) -> str:
    """The log line of a checker going up (`up`) or down after its retries."""
    retry = check.timing.retries
    probe = check.probe
    if isinstance(probe, MiscProbe):
        argv0 = probe.script.argv[0]
        if up:
            return f"Misc check for [{rs} VS {vs}] by [{argv0}] succeeded."
        suffix = _retries(retry) if retry else " with retry disabled"
        return f"Misc check for [{rs} VS {vs}] by [{argv0}] failed{suffix} ({reason})."
    if isinstance(probe, HttpProbe):
        if up:
            return f"Remote Web server {rs} succeed on service."
        name = "SSL" if probe.tls else "HTTP"
        tail = f" failed after {retry} retries." if retry else " failed."
        return f"{name}_CHECK on service {rs}{tail} ({reason})"
    if kind == "SMTP_CHECK":
        return (
            f"Remote SMTP server {rs} succeed on service."
            if up
            else f"SMTP_CHECK {reason} - real server {rs}"
        )
    if kind == "DNS_CHECK":
        return f"DNS_CHECK ({rs}) succeed" if up else f"DNS_CHECK ({rs}) {reason}"
    proto = {"TCP_CHECK": "TCP", "UDP_CHECK": "UDP", "PING_CHECK": "ICMP"}.get(kind, kind)
    if up:
        return f"{proto} connection to {rs} success."
    tail = f" failed after {retry} retries." if retry else " failed."
    return f"{kind} on service {rs}{tail} ({reason})"
