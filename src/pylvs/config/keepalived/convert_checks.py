"""keepalived checkers -> neutral check specs (model/checks.py), one function per kind.

The reader (config/keepalived/lvs) has already resolved every checker option by keepalived's
rules (check/check_data.c `validate_check_config`: the checker's value, else the real
server's, else the virtual server's, else the checker's default); this only renames:
`delay_loop` is the interval, `retry` the retries, `delay_before_retry` the retry interval,
`alpha` a server that starts down, `connect_ip`/`connect_port`/`bindto`/... the target.
FILE_CHECK is resolved against its `track_file` (the checker's weight, else the tracked file's,
with the reverse flag of whichever gave the weight; track_file.c).
"""

from __future__ import annotations

from pylvs.config.keepalived.lvs import checks as kc
from pylvs.config.keepalived.vrrp.model import NotifyScript, TrackFile
from pylvs.model.checks import (
    BfdProbe,
    CheckSpec,
    CheckTarget,
    CheckTiming,
    DnsProbe,
    FileProbe,
    HttpProbe,
    HttpProtocol,
    MiscProbe,
    PingProbe,
    Probe,
    SmtpProbe,
    TcpProbe,
    UdpProbe,
    UrlSpec,
)
from pylvs.model.notify import ScriptSpec


def script(s: kc.Script | NotifyScript | None) -> ScriptSpec | None:
    return None if s is None else ScriptSpec(s.argv, s.user, s.group)


def timing(t: kc.CheckTiming) -> CheckTiming:
    return CheckTiming(
        interval=t.delay_loop,
        retries=t.retry,
        retry_interval=t.delay_before_retry,
        warmup=t.warmup,
        initially_up=not t.alpha,
        log_all_failures=t.log_all_failures,
    )


def target(c: kc.Connection) -> CheckTarget:
    return CheckTarget(c.ip, c.port, c.timeout, c.bindto, c.bind_port, c.bind_if, c.fwmark)


def url(u: kc.Url) -> UrlSpec:
    return UrlSpec(
        path=u.path,
        status_codes=u.status_codes,
        digest=u.digest,
        virtualhost=u.virtualhost,
        regex=u.regex,
        regex_no_match=u.regex_no_match,
        regex_options=u.regex_options,
        regex_min_offset=u.regex_min_offset,
        regex_max_offset=u.regex_max_offset,
    )


def _http(c: kc.HttpCheck) -> HttpProbe:
    return HttpProbe(
        urls=tuple(url(u) for u in c.urls),
        tls=c.ssl,
        virtualhost=c.virtualhost,
        protocol=HttpProtocol(c.http_protocol.value),
        fast_recovery=c.fast_recovery,
        enable_sni=c.enable_sni,
        sni_name=c.sni_name,
        tls_compliant=c.tls_compliant,
    )


def _udp(c: kc.UdpCheck) -> UdpProbe:
    return UdpProbe(
        payload=c.payload,
        require_reply=c.require_reply,
        reply=c.reply,
        reply_mask=c.reply_mask,
        min_reply_length=c.min_reply_length,
        max_reply_length=c.max_reply_length,
    )


def _file(c: kc.FileCheck, tracked: dict[str, TrackFile]) -> FileProbe:
    track = tracked.get(c.track_file)
    if track is None:
        return FileProbe(c.track_file, None)
    if c.weight is not None:
        return FileProbe(c.track_file, track.path, c.weight, c.reverse)
    return FileProbe(c.track_file, track.path, track.weight, track.weight_reverse)


def check(c: kc.Checker, tracked: dict[str, TrackFile]) -> CheckSpec:
    """The neutral spec of one resolved checker."""
    probe: Probe
    match c:
        case kc.FileCheck():
            return CheckSpec(_file(c, tracked))
        case kc.BfdCheck():
            return CheckSpec(BfdProbe(c.name), timing=CheckTiming(initially_up=not c.alpha))
        case kc.MiscCheck():
            misc = MiscProbe(ScriptSpec(c.script.argv, c.script.user, c.script.group), c.timeout)
            if c.dynamic:
                misc = MiscProbe(misc.script, misc.timeout, dynamic=True)
            return CheckSpec(misc, timing=timing(c.timing))
        case kc.TcpCheck():
            probe = TcpProbe()
        case kc.PingCheck():
            probe = PingProbe()
        case kc.HttpCheck():
            probe = _http(c)
        case kc.SmtpCheck():
            probe = SmtpProbe(c.helo_name)
        case kc.DnsCheck():
            probe = DnsProbe(c.type, c.name)
        case kc.UdpCheck():
            probe = _udp(c)
    return CheckSpec(probe, target(c.conn), timing(c.timing))
