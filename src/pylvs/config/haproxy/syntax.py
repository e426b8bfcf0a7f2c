"""How the haproxy.cfg reader words what the keyword dispatch finds (src/cfgparse*.c, 2.6).

HAProxy alerts on a keyword it does not know ("unknown keyword 'x' in 'frontend' section") and
refuses the file: so does pylvs, never accepting a keyword silently.  Where HAProxy suggests a
close keyword ("did you mean 'weight' maybe ?"), pylvs does too.  `proxy_keyword` wraps a
proxy-section handler with HAProxy's capability rules (`warnifnotcap`, `failifnotcap`): a
backend keyword in a frontend is ignored with a warning, or refused, as HAProxy does; some
keywords are refused in `defaults`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from pylvs.config.errors import Cite, Kind
from pylvs.config.haproxy.best_match import hint, section_hint
from pylvs.config.keywords import Block, Context, Keyword, Syntax, Table
from pylvs.config.keywords.unsupported import warn as warn_unsupported
from pylvs.config.tree import Statement

D = TypeVar("D")


def suggestion(word: str, known: list[str] | tuple[str, ...]) -> str:
    return hint(word, known)


def _unknown(st: Statement, ctx: Context, what: str) -> None:
    hint = section_hint(st.name, what)  # cfgparse-listen.c / cfgparse-global.c
    ctx.error(st.loc, f"unknown keyword '{st.name}' in '{what}' section{hint}")


def _missing(st: Statement, ctx: Context, need: int) -> None:
    ctx.error(st.loc, f"'{st.name}' expects at least {need} argument(s).")


def _needs_block(st: Statement, ctx: Context) -> None:  # HAProxy has no blocks
    ctx.error(st.loc, f"'{st.name}' needs a section")


def _no_block(st: Statement, ctx: Context) -> None:
    ctx.error(st.loc, f"'{st.name}' does not open a section")


def _deprecated(st: Statement, ctx: Context, use: str, kind: Kind) -> None:
    ctx.warning(st.loc, f"'{st.name}' is deprecated, please use '{use}' instead.", kind)


HAPROXY = Syntax(
    unknown=_unknown,
    missing_args=_missing,
    needs_block=_needs_block,
    no_block=_no_block,
    deprecated=_deprecated,
    unsupported=warn_unsupported,
)


def table(what: str, keywords: Mapping[str, Keyword[D]], *, draft: type | None = None) -> Table[D]:
    for kw in keywords.values():
        assert kw.block is Block.NONE, "haproxy keywords own no block"
    return Table(what, keywords, HAPROXY, draft=draft)


class ProxyLike(Protocol):
    kind: str  # "defaults" | "frontend" | "backend" | "listen"
    name: str


FRONTEND, BACKEND, ANY = "frontend", "backend", "any"
_CAP_WORDS = {FRONTEND: "no frontend", BACKEND: "no backend"}


def has_cap(kind: str, need: str) -> bool:
    if need == ANY or kind in ("defaults", "listen"):
        return True
    return kind == need


def proxy_keyword(
    handler: Callable[[Statement, Context, D], None],
    args: int = 0,
    *,
    cap: str = ANY,
    fail: bool = False,
    in_defaults: bool = True,
    server: bool = False,
    hint: str = "",
) -> Keyword[D]:
    """A proxy-section keyword with HAProxy's capability checks (cfgparse.c `warnifnotcap`).
    `server`: HAProxy's parse_server makes them, its messages placed "[FILE:LINE] : ";
    `hint`: what warnifnotcap adds to its warning."""

    def checked(st: Statement, ctx: Context, d: D) -> None:
        proxy: ProxyLike = d  # type: ignore[assignment]
        if server:
            ctx = ctx.citing(Cite.SERVER)
        if proxy.kind == "defaults" and not in_defaults:
            ctx.error(st.loc, f"'{st.name}' not allowed in 'defaults' section.")
            return
        if not has_cap(proxy.kind, cap):
            msg = _CAP_WORDS[cap]
            if fail:
                ctx.error(  # failifnotcap's own "parsing [F:L] : " after the context's place
                    st.loc,
                    f"'{st.name}' not allowed because {proxy.kind} '{proxy.name}' has {msg}"
                    " capability.",
                    cite=Cite.SERVER_PARSING if server else None,
                )
                return
            # warnifnotcap: HAProxy says "ignored" and still reads the keyword (a bad value
            # is still an alert; a `bind` in a backend still makes a listener)
            ctx.warning(
                st.loc,
                f"'{st.name}' ignored because {proxy.kind} '{proxy.name}' has {msg}"
                f" capability.{hint}",
            )
        handler(st, ctx, d)

    return Keyword(checked, args)
