"""The `compression` proxy keyword and `filter compression` (HAProxy 2.6 src/flt_http_comp.c
parse_compression_options / parse_http_comp_flt / check_implicit_http_comp_flt).

`compression algo NAME...` (identity, deflate, raw-deflate, gzip: compression.c comp_algos),
`compression type TYPE...`, `compression offload` (ignored with a warning in `defaults`).
Each word goes first in its list, as comp_append_algo / comp_append_type prepend; a proxy
starts from its defaults' algorithms and types (proxy_defproxy_cpy copies the two lists, not
`offload`).  `filter compression` declares the filter explicitly: needed when the proxy
declares other filters, at most one per proxy.
"""

from __future__ import annotations

import dataclasses

from pylvs.config.errors import Cite
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement
from pylvs.model.proxy_spec import CompressionSpec
from pylvs.proto.http.compress import ALGORITHMS


def keyword(st: Statement, ctx: Context, d: ProxyDraft) -> None:
    """`compression algo|type|offload ...`."""
    comp = d.more.compression or CompressionSpec()
    what = st.args[0].text if st.args else ""
    words = [w.text for w in st.args[1:]]
    if what == "algo":
        if not words:  # (this one carries its own prefix, so haproxy prints it twice)
            where = f"parsing [{st.loc.file}:{st.loc.line}] : "
            ctx.error(st.loc, f"{where}'{st.name}' expects <algorithm>.")
            return
        for w in words:
            if w not in ALGORITHMS:
                ctx.error(st.loc, f"'{st.name}' : '{w}' is not a supported algorithm.")
                return
            comp = dataclasses.replace(comp, algos=(w, *comp.algos))
    elif what == "type":
        if not words:
            ctx.error(st.loc, f"'{st.name}' expects <type>.")
            return
        for w in words:
            comp = dataclasses.replace(comp, types=(w, *comp.types))
    elif what == "offload":
        if d.kind == "defaults":
            ctx.warning(st.loc, f"'{st.name}' : '{what}' ignored in 'defaults' section.")
        comp = dataclasses.replace(comp, offload=True)
    else:
        ctx.error(st.loc, f"'{st.name}' expects 'algo', 'type' or 'offload'")
        return
    d.more = dataclasses.replace(d.more, compression=comp)


def filter_keyword(st: Statement, ctx: Context, d: ProxyDraft) -> bool:
    """`filter compression`: True when it was that filter (taken here)."""
    if not st.args or st.args[0].text != "compression":
        return False
    if d.more.comp_filter:
        ctx.error(st.loc, f"'filter' : '{d.name}: Proxy supports only one compression filter\n'")
        return True
    d.more = dataclasses.replace(d.more, comp_filter=True)
    return True


def check_filters(d: ProxyDraft, ctx: Context) -> None:
    """check_implicit_http_comp_flt: compression beside other filters needs its own."""
    if d.more.compression is None or d.more.comp_filter or d.kind == "defaults":
        return
    # the cache's filter and FastCGI's do not count (they are ordered before it)
    if any(name == "filter" and args[:1] != ("cache",) for name, args in d.more.others):
        ctx.error(
            d.loc,
            f"config: {d.type_str} '{d.name}': require an explicit filter declaration to use"
            " HTTP compression",
            cite=Cite.NONE,
        )
