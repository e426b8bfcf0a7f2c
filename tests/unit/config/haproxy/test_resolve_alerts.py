"""A proxy's unresolved rule arguments said as smp_resolve_args says them
(config/haproxy/resolve_alerts.py)."""

from __future__ import annotations

from pylvs.config.errors import Cite, Location, Problem, Severity
from pylvs.config.haproxy.resolve_alerts import resolution_alerts


def _p(line: int, text: str, cite: Cite) -> Problem:
    return Problem(Location("t.cfg", line, 1), Severity.ERROR, text, cite=cite)


def test_one_stays_its_own_alert() -> None:
    one = [_p(3, "unable to find backend 'x' ...", Cite.LATE_TIGHT)]
    assert resolution_alerts(one) == one


def test_two_make_one_alert_after_the_others() -> None:
    track = _p(9, "Proxy 'fe': unable to find table 'nosuch' referenced by track-sc0.", Cite.NONE)
    found = [_p(3, "a.", Cite.LATE_TIGHT), track, _p(5, "b.", Cite.LATE_TIGHT)]
    out = resolution_alerts(found)
    assert out[0] is track
    assert out[1].cite is Cite.NONE and out[1].loc.line == 3
    assert out[1].message == (
        "multiple argument resolution errors:\n        parsing [t.cfg:3]: a."
        "\n        parsing [t.cfg:5]: b."
    )
    # the second keeps its line for `pylvs check`; `haproxy -c` prints nothing of its own
    assert out[2].cite is Cite.GROUPED and out[2].loc.line == 5
