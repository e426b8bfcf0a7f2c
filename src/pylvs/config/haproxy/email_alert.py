"""`email-alert from|to|mailers|level|myhostname` as check_config_validity judges a proxy's
(src/cfgparse.c, 2.6): any of them without all of `from`, `mailers` and `to` is ignored with a
warning; `mailers` must name a `mailers` section.  pylvs sends no e-mail (the keyword warns that
it is not acted on, config/haproxy/unsupported.py); these are HAProxy's own verdicts.
"""

from __future__ import annotations

from pylvs.config.errors import Cite
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.keywords import Context

_NEEDED = ("from", "mailers", "to")


def _settings(d: ProxyDraft) -> dict[str, str]:
    """The proxy's `email-alert` words (the defaults' first, the last of each kept)."""
    out: dict[str, str] = {}
    for name, args in d.more.others:
        if name == "email-alert" and len(args) >= 2:
            out[args[0]] = args[1]
    return out


def incomplete(d: ProxyDraft, ctx: Context) -> None:
    """The warning of a proxy whose settings lack one of from/mailers/to."""
    got = _settings(d)
    if got and not all(k in got for k in _NEEDED):
        ctx.warning(
            d.loc,
            f"'email-alert' will be ignored for {d.type_str} '{d.name}' (the presence any of"
            " 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert"
            " myhostname', or 'email-alert to' requires each of 'email-alert from',"
            " 'email-alert mailers' and 'email-alert to' to be present).",
            cite=Cite.NONE,
        )


def unknown_mailers(d: ProxyDraft, sections: set[str], ctx: Context) -> None:
    """The alert of a complete setting naming no `mailers` section."""
    got = _settings(d)
    if all(k in got for k in _NEEDED) and got["mailers"] not in sections:
        ctx.error(
            d.loc, f"Proxy '{d.name}': unable to find mailers '{got['mailers']}'.", cite=Cite.NONE
        )
