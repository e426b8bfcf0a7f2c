"""`cache NAME` sections, `filter cache NAME` and the cache actions' words, as HAProxy 2.6
reads them (src/cache.c cfg_parse_cache, cfg_post_parse_section_cache, parse_cache_flt,
parse_cache_rule, cache_store_check), with `haproxy -c`'s words.

A section: `total-max-size` (megabytes, at most 4095, required), `max-object-size` (bytes,
a 256th of the cache by default, at most half of it), `max-age` (atoi: anything reads), and
`process-vary on|off`, `max-secondary-entries` (> 0).  Bad numbers are warnings that stop
the reading (ERR_ABORT).  A proxy's filters: `http-request cache-use` / `http-response
cache-store` declare the cache's filter implicitly, `filter cache NAME` explicitly (it
takes an implicit one's place); the checks after reading find the cache of each, refuse a
compression filter declared before it, and an implicit one beside filters other than
compression.
"""

from __future__ import annotations

import dataclasses

from pylvs.config.errors import Cite, Kind, Location, Problem, Severity
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.model import Proxy
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word
from pylvs.model.cache import CACHE_BLOCKSIZE, DEFAULT_MAX_SECONDARY_ENTRY, CacheSpec
from pylvs.sched.haproxy.cnum import atoi

_UINT_MAX = 0xFFFFFFFF
_KEYWORDS = ("total-max-size", "max-object-size", "max-age", "process-vary")


def _abort(ctx: Context, loc: Location, message: str) -> None:
    """ha_warning + ERR_ABORT: said as a warning, the file refused, the reading stopped."""
    ctx.problems.add(
        Problem(loc, Severity.ERROR, message, Kind.CONFIG, Cite.TIGHT, abort=True, warned=True)
    )


def _strtoul(text: str) -> int | None:
    """strtoul with the whole word read (None: not a number); a minus wraps as in C."""
    body = text.strip(" \t\n")
    sign = -1 if body.startswith("-") else 1
    digits = body.lstrip("+-") if body[:1] in "+-" else body
    if not digits.isdigit() or len(body) - len(digits) > 1 or body != text.lstrip(" \t\n"):
        return None
    return (sign * int(digits)) % (1 << 64)


def _too_many(st: Statement, ctx: Context) -> bool:
    """alertif_too_many_args(1, ...): a second word stops the reading."""
    if len(st.args) <= 1:
        return False
    extra = st.args[1].text
    ctx.error(st.loc, f"'{st.name}' cannot handle unexpected argument '{extra}'.", abort=True)
    return True


def read_cache(st: Statement, ctx: Context, known: list[CacheSpec]) -> CacheSpec | None:
    """One `cache` section (None: refused, said why)."""
    if not st.args:
        ctx.error(st.loc, f"'{st.name}' expects a <name> argument", abort=True)
        return None
    if _too_many(st, ctx):
        return None
    name = st.args[0].text[:32]
    if len(st.args[0].text) > 32:
        ctx.warning(
            st.loc,
            f"cache name is limited to 32 characters, truncate to '{name}'.",
            cite=Cite.TIGHT,
        )
    if any(c.name == name for c in known):
        ctx.error(st.loc, f"Duplicate cache name '{name}'.", cite=Cite.TIGHT, abort=True)
        return None
    values = {"max_blocks": 0, "max_object_size": 0, "max_age": 60}
    vary, secondary = False, DEFAULT_MAX_SECONDARY_ENTRY
    for line in st.block or ():
        got = _line(line, ctx, values)
        if got is None:
            return None
        if line.name == "process-vary" and got in ("on", "off"):
            vary = got == "on"
        elif line.name == "max-secondary-entries" and isinstance(got, int):
            secondary = got
    return _finish(st, ctx, name, values, vary=vary, secondary=secondary)


def _line(line: Statement, ctx: Context, values: dict[str, int]) -> int | str | None:
    """One line's value (a number for max-secondary-entries, "on"/"off" for process-vary,
    "" when `values` took it); None: the reading stops."""
    key = line.name
    word = line.args[0].text if line.args else ""
    if key not in (*_KEYWORDS, "max-secondary-entries"):
        ctx.error(line.loc, f"unknown keyword '{key}' in 'cache' section")
        return ""
    if _too_many(line, ctx):
        return None
    missing = {
        "max-age": "an age parameter in seconds.",
        "max-object-size": "a maximum file size parameter in bytes.",
        "process-vary": '"on" or "off" (enable or disable vary processing).',
        "max-secondary-entries": "a strictly positive number.",
    }
    if not line.args and key in missing:
        ctx.warning(line.loc, f"'{key}' expects {missing[key]}", cite=Cite.TIGHT)
    if key == "max-age":
        values["max_age"] = atoi(word) & _UINT_MAX
        return ""
    if key == "process-vary":
        if word not in ("on", "off"):  # said twice when the word is missing: not deduplicated
            at = line.args[0].loc if line.args else line.loc._replace(col=line.loc.col + len(key))
            ctx.warning(at, f"'{key}' expects {missing[key]}", cite=Cite.TIGHT)
        return word
    n = _strtoul(word)
    if key == "total-max-size":
        if n is None:
            _abort(ctx, line.loc, f"total-max-size wrong value '{word}'")
            return None
        if n > _UINT_MAX >> 20:
            _abort(ctx, line.loc, f'"total-max-size" ({word}) must not be greater than 4095')
            return None
        values["max_blocks"] = n * 1024 * 1024 // CACHE_BLOCKSIZE
        return ""
    if n is None or (key == "max-secondary-entries" and n & _UINT_MAX == 0):
        _abort(ctx, line.loc, f"{key} wrong value '{word}'")
        return None
    if key == "max-object-size":
        values["max_object_size"] = n & _UINT_MAX
        return ""
    return n & _UINT_MAX


def _finish(
    st: Statement, ctx: Context, name: str, values: dict[str, int], *, vary: bool, secondary: int
) -> CacheSpec | None:
    """cfg_post_parse_section_cache: a size is required, the object size bounded."""
    blocks = values["max_blocks"]
    if blocks <= 0:
        ctx.error(st.loc, f"Size not specified for cache '{name}'", cite=Cite.BARE)
        return None
    size = values["max_object_size"]
    half = blocks * CACHE_BLOCKSIZE // 2
    if not size:
        size = (blocks * CACHE_BLOCKSIZE) >> 8
    elif size > half:
        ctx.error(
            st.loc,
            f'"max-object-size" is limited to an half of "total-max-size" => {half}',
            cite=Cite.BARE,
        )
        return None
    return CacheSpec(name, blocks, size, values["max_age"], vary, secondary)


# -- a proxy's cache filters ---------------------------------------------------------------


def rule_words(st: Statement, ctx: Context, d: ProxyDraft, rule_set: str, head: list[Word]) -> bool:
    """parse_cache_rule: `cache-use NAME` / `cache-store NAME` then only a condition; the
    filter declared implicitly (once per name)."""
    action = head[0].text
    if len(head) < 2:
        ctx.error(
            st.loc,
            f"error detected in {d.type_str} '{d.name}' while parsing '{rule_set} {action}'"
            " rule : expects a cache name.",
        )
        return False
    if len(head) > 2:
        ctx.error(
            st.loc,
            f"'{rule_set} {action}' expects either 'if' or 'unless' followed by a condition but"
            f" found '{head[2].text}'.",
            cite=Cite.TIGHT,
        )
        return False
    name = head[1].text
    if not any(f[0] == name for f in d.more.cache_filters):
        implicit = (name, True, st.loc, d.more.comp_filter)
        d.more = dataclasses.replace(d.more, cache_filters=(*d.more.cache_filters, implicit))
    return True


def filter_keyword(st: Statement, ctx: Context, d: ProxyDraft) -> bool:
    """`filter cache NAME`: True when it was that filter (taken here)."""
    if not st.args or st.args[0].text != "cache":
        return False
    if len(st.args) < 2:
        ctx.error(st.loc, "'filter' : 'cache : expects a <name> argument'")
        return True
    name = st.args[1].text
    kept = []
    for f in d.more.cache_filters:
        if f[0] == name and not f[1]:
            ctx.error(
                st.loc,
                f"'filter' : '{d.name}: multiple explicit declarations of the cache filter"
                f" '{name}''",
            )
            return True
        if f[0] != name:
            kept.append(f)
    kept.append((name, False, st.loc, d.more.comp_filter))
    d.more = dataclasses.replace(d.more, cache_filters=tuple(kept))
    return True


def check_filters(d: Proxy, ctx: Context, caches: set[str]) -> None:
    """cache_store_check, after reading: each filter's cache exists, no compression filter
    declared before it, no implicit declaration beside other filters."""
    where = f"config: {d.type_str} '{d.name}'"
    others = any(
        n == "filter" and a[:1] not in (("cache",), ("fcgi-app",)) for n, a in d.more.others
    )
    for name, implicit, loc, comp_before in d.more.cache_filters:
        if name not in caches:
            ctx.error(
                loc,
                f"{where}: unable to find the cache '{name}' referenced by the filter 'cache'.",
                cite=Cite.NONE,
            )
        elif comp_before:
            ctx.error(
                loc,
                f"{where}: unable to enable the compression filter before any cache filter.",
                cite=Cite.NONE,
            )
            ctx.error(
                loc,
                f"{where}: unable to enable the compression filter before the cache '{name}'.",
                cite=Cite.NONE,
            )
        elif implicit and others:
            ctx.error(
                loc,
                f"{where}: require an explicit filter declaration to use the cache '{name}'.",
                cite=Cite.NONE,
            )
