"""check_config_validity's verdicts pylvs gives after reading (config/haproxy/post.py,
email_alert.py, filters.py, tls_lists.py), in haproxy 2.6.12 -c's words."""

from __future__ import annotations

import dataclasses

from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts

D = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"


def _said(text: str, host: HostFacts | None = None) -> list[str]:
    r = load_text(D + text, "t.cfg", host=host or HostFacts())
    return [p.message for p in r.problems if p.kind.value == "config"]


def test_a_default_backend_to_itself_is_a_loop() -> None:
    said = _said("listen l\n bind :80\n default_backend l\n server s 127.0.0.1:1\n")
    assert said == ["Proxy 'l': loop detected for default_backend: 'l'."]


def test_a_frontend_without_bind_is_warned() -> None:
    said = _said("frontend f\n default_backend b\nbackend b\n server s 127.0.0.1:1\n")
    assert said == [
        "frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended."
    ]


def test_email_alert_needs_from_mailers_and_to() -> None:
    part = _said("backend b\n email-alert to a@b.c\n server s 127.0.0.1:1\n")
    assert len(part) == 1 and part[0].startswith("'email-alert' will be ignored for backend 'b'")
    whole = "backend b\n email-alert mailers m\n email-alert from a@b\n email-alert to c@d\n"
    assert _said(whole + " server s 127.0.0.1:1\n") == ["Proxy 'b': unable to find mailers 'm'."]


def test_filters_are_haproxys_registered_ones() -> None:
    said = _said("frontend f\n bind :80\n filter nosuch\n")
    assert said[0].startswith("'filter' : unknown keyword 'nosuch'. Registered keywords :\n")
    assert "\n    [  OT] opentracing\n" in said[0]
    assert _said("frontend f\n bind :80\n filter compression x\n") == [
        "'filter compression' : unknown keyword 'x'."
    ]


def test_tls_lists_refused_by_the_host_are_alerts() -> None:
    host = dataclasses.replace(HostFacts(), tls_list_ok=lambda kind, value: value != "NOPE")
    said = _said("backend b\n server s 127.0.0.1:1 ssl verify none ciphers NOPE\n", host)
    assert said == ["'server b/s' : unable to set SSL cipher list to 'NOPE'."]
    assert _said("backend b\n server s 127.0.0.1:1 ssl verify none ciphers OK\n", host) == []
    # not known: not checked
    assert _said("backend b\n server s 127.0.0.1:1 ssl verify none ciphers NOPE\n") == []


def test_userlist_members_must_exist() -> None:
    said = _said("userlist u\n group g users alice\n user bob insecure-password x\n")
    assert said == ["userlist 'u': no such user 'alice' specified in group 'g'"]
