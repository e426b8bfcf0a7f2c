"""`track` refusals once every section is read (config/haproxy/tracks.py), in HAProxy 2.6's
words (src/server.c srv_apply_track; the same lines under the real `haproxy -c` are the CLI
goldens' `check-after-reading` case, tests/data/haproxy/cli)."""

from __future__ import annotations

from pylvs.config.errors import Cite, Severity
from pylvs.config.haproxy.reader import load_text

HEAD = """\
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
"""


def _errors(body: str) -> list[tuple[int, str, Cite]]:
    result = load_text(HEAD + body, "t.cfg")
    return [
        (p.loc.line, p.message, p.cite) for p in result.problems if p.severity is Severity.ERROR
    ]


def test_a_checked_server_can_be_tracked_across_backends() -> None:
    assert (
        _errors(
            "backend a\n    server s1 127.0.0.1:1 check\n"
            "backend b\n    server t1 127.0.0.1:2 track a/s1\n    server t2 127.0.0.1:3 track t1\n"
        )
        == []
    )


def test_missing_proxy_and_server_and_no_check() -> None:
    got = _errors(
        "backend b\n"
        "    server s1 127.0.0.1:1 track nope/x\n"
        "    server s2 127.0.0.1:2 track x\n"
        "    server s3 127.0.0.1:3 track s4\n"
        "    server s4 127.0.0.1:4\n"
    )
    assert got == [
        (7, "'server b/s1' : unable to find required proxy 'nope' for tracking.", Cite.PLACE),
        (8, "'server b/s2' : unable to find required server 'x' for tracking.", Cite.PLACE),
        (
            9,
            "'server b/s3' : unable to use b/s4 for tracking as it does not have any check nor"
            " agent enabled.",
            Cite.PLACE,
        ),
    ]


def test_a_loop_is_found_when_its_last_link_is_made() -> None:
    """s1 -> s2 is linked first (s2 tracks someone: enough); s2 -> s1 then closes the loop."""
    got = _errors(
        "backend b\n    server s1 127.0.0.1:1 track s2\n    server s2 127.0.0.1:2 track s1\n"
        "    server s3 127.0.0.1:3 track s3\n"
    )
    assert [m for _, m, _ in got] == [
        "'server b/s2' : unable to track b/s1 as it belongs to a tracking chain looping back to"
        " b/s2.",
        "'server b/s3' : unable to track b/s3 as it belongs to a tracking chain looping back to"
        " b/s3.",
    ]


def test_a_refused_track_links_nothing() -> None:
    """s2's track is refused (s3 has no check), so s1 -> s2 is no loop and is accepted."""
    got = _errors(
        "backend b\n    server s1 127.0.0.1:1 track s2\n    server s2 127.0.0.1:2 track s3\n"
        "    server s3 127.0.0.1:3\n"
    )
    assert [line for line, _, _ in got] == [8]


def test_disable_on_404_must_agree_across_proxies() -> None:
    got = _errors(
        "backend a\n    option httpchk\n    http-check disable-on-404\n"
        "    server s1 127.0.0.1:1 check\n"
        "backend b\n    option httpchk\n    server t1 127.0.0.1:2 track a/s1\n"
    )
    assert [m for _, m, _ in got] == [
        "'server b/t1' : unable to use a/s1 fortracking: disable-on-404 option inconsistency."
    ]
