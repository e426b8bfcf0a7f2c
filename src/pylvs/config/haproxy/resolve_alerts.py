"""How `haproxy -c` says the arguments of a proxy's rules that do not resolve (src/cfgparse.c
check_config_validity, src/sample.c `smp_resolve_args`, 2.6): after the rules' own checks, all
of one proxy's at once; one is an alert of its own, two or more one alert, "multiple argument
resolution errors:", then each on a line of its own indented by 8 (tools.c `indent_msg`).
"""

from __future__ import annotations

import dataclasses

from pylvs.config.errors import Cite, Problem


def resolution_alerts(found: list[Problem]) -> list[Problem]:
    """One proxy's problems as check_config_validity says them: smp_resolve_args (sample.c)
    runs after the rules' own checks and gathers what does not resolve: two or more make one
    alert, "multiple argument resolution errors:" then each on its own line."""
    args = [p for p in found if p.cite is Cite.LATE_TIGHT]
    if len(args) < 2:
        return found
    lines = "".join(f"\n        {p.cite.prefix(p.loc.file, p.loc.line)}{p.message}" for p in args)
    head = dataclasses.replace(
        args[0], message=f"multiple argument resolution errors:{lines}", cite=Cite.NONE
    )
    rest = [dataclasses.replace(p, cite=Cite.GROUPED) for p in args[1:]]
    return [p for p in found if p.cite is not Cite.LATE_TIGHT] + [head, *rest]
