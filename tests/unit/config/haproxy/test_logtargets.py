"""`log`, `log global`, `no log`, `log-tag`, `log-send-hostname` read into model/proxy_log
values (config/haproxy/logtargets.py, convert_log.py).  What HAProxy refuses is in the
`haproxy -c` corpus (tests/data/haproxy/check/log_bad.cfg, log_ok.cfg)."""

from __future__ import annotations

from pylvs.config.errors import Kind
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.proxy_log import LogTarget
from pylvs.model.proxy_spec import ProxiesSpec

TEXT = """\
global
    log 127.0.0.1 local0
    log udp6@[::1]:5140 len 200 format rfc5424 sample 1-2,5:6 local1 notice err
    log stdout format raw daemon
    log /dev/log user
    log abns@syslog local2
    log-tag edge
    log-send-hostname
defaults
    mode tcp
    log global
    log-tag dflt
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:8080
    log global
    log 127.0.0.2:514 local6
    default_backend be
backend be
    no log
    log-tag be
    log tcp@127.0.0.1:514 local0
    log 127.0.0.3 user
    server s1 127.0.0.1:80
"""


def spec(text: str = TEXT) -> ProxiesSpec:
    result = load_text(text, "h.cfg", host=HostFacts(hostname="lb1"))
    out = to_spec(result.config, result.problems).proxies
    assert result.ok, [str(p) for p in result.problems]
    return out


def test_global_targets_with_their_address_kinds_and_options() -> None:
    log = spec().log
    assert log.tag == "edge"
    udp, udp6, out, dev_log, abns = log.targets
    assert (udp.kind, udp.host, udp.port, udp.facility, udp.level) == (
        "udp",
        "127.0.0.1",
        514,
        16,
        7,
    )
    assert (udp6.host, udp6.port, udp6.maxlen, udp6.format) == ("::1", 5140, 200, "rfc5424")
    assert (udp6.level, udp6.min_level, udp6.sample, udp6.sample_size) == (
        5,
        3,
        ((1, 2), (5, 5)),
        6,
    )
    assert (out.kind, out.fd, out.format, str(out)) == ("fd", 1, "raw", "stdout")
    assert (dev_log.kind, dev_log.host) == ("unix", "/dev/log")
    assert (abns.kind, abns.host) == ("unix", "\0syslog")
    assert udp.where == "h.cfg:2"


def test_log_send_hostname_without_a_name_is_the_hosts() -> None:
    assert spec().log_hostname == "lb1"
    named = spec(TEXT.replace("log-send-hostname\n", "log-send-hostname other\n"))
    assert named.log_hostname == "other"
    assert spec(TEXT.replace("    log-send-hostname\n", "")).log_hostname is None


def test_log_global_is_copied_once_and_a_proxy_adds_its_own() -> None:
    s = spec()
    (fe,) = s.frontends
    # defaults' `log global`, then the frontend's own (the same targets: not again), then one
    assert fe.log.targets == (*s.log.targets, fe.log.targets[-1])
    assert (fe.log.targets[-1].host, fe.log.targets[-1].facility) == ("127.0.0.2", 22)
    assert fe.log.tag == "dflt"  # inherited from defaults


def test_no_log_forgets_what_was_inherited_and_ring_targets_are_warned() -> None:
    result = load_text(TEXT, "h.cfg", host=HostFacts(hostname="lb1"))
    s = to_spec(result.config, result.problems).proxies
    (be,) = s.backends
    assert be.log.tag == "be"
    assert [(t.host, t.facility) for t in be.log.targets] == [("127.0.0.3", 1)]
    (warning,) = [p for p in result.problems if p.kind is Kind.UNSUPPORTED]
    assert warning.loc.line == 24 and "ring buffers" in warning.message


def test_a_name_that_does_not_resolve_is_refused() -> None:
    text = TEXT.replace("log 127.0.0.3 user", "log syslog.invalid user")
    facts = HostFacts(hostname="lb1", resolves=lambda name: name != "syslog.invalid")
    result = load_text(text, "h.cfg", host=facts)
    (err,) = result.problems.errors
    assert err.loc.line == 25 and "invalid address: 'syslog.invalid'" in err.message


def test_targets_print_as_written() -> None:
    assert str(LogTarget("udp", 16, host="::1", port=514)) == "[::1]:514"
    assert str(LogTarget("fd", 16, fd=2)) == "stderr"
    assert str(LogTarget("fd", 16, fd=7)) == "fd@7"


def test_a_descriptor_number_past_an_int_is_refused_at_its_line() -> None:
    """haproxy 2.6.12 refuses `log fd@99999999999999999999 local0` ("not a valid integer");
    taken, every line sent to it raised OverflowError in the runtime."""
    text = TEXT.replace("log 127.0.0.3 user", "log fd@99999999999999999999 user")
    result = load_text(text, "h.cfg", host=HostFacts(hostname="lb1"))
    (err,) = result.problems.errors
    assert err.loc.line == 25
    assert err.message == (
        "log : file descriptor '99999999999999999999' is not a valid integer in"
        " 'fd@99999999999999999999'\n"
    )
    ok = load_text(TEXT.replace("log 127.0.0.3 user", "log fd@2147483647 user"), "h.cfg")
    assert ok.ok


def test_uxdg_and_ip_prefixes_and_uxst_as_a_stream_target() -> None:
    """haproxy 2.6.12 takes `uxdg@PATH` (a unix datagram socket, as `unix@`), `ip@HOST`
    (UDP, either family) and `uxst@PATH`, a stream socket it writes to through an implicit
    ring (captured: one connection, the lines newline-ended): the ring pylvs does not have,
    said as for `tcp@`."""
    text = TEXT.replace(
        "log 127.0.0.3 user", "log uxdg@/run/log.sock user\n    log ip@127.0.0.4 user"
    )
    text = text.replace("log tcp@127.0.0.1:514 local0", "log uxst@/run/log-stream.sock local0")
    result = load_text(text, "h.cfg", host=HostFacts(hostname="lb1"))
    s = to_spec(result.config, result.problems).proxies
    assert result.ok, [str(p) for p in result.problems]
    (be,) = s.backends
    assert [(t.kind, t.host) for t in be.log.targets] == [
        ("unix", "/run/log.sock"),
        ("udp", "127.0.0.4"),
    ]
    (warning,) = [p for p in result.problems if p.kind is Kind.UNSUPPORTED]
    assert warning.loc.line == 24 and "ring buffers" in warning.message
