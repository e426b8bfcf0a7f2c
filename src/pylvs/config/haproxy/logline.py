"""Which traffic log line a frontend writes: `option tcplog`, `option httplog [clf]`,
`option httpslog` or `log-format`, the one written last winning (each sets the proxy's
logformat_string in cfgparse-listen.c; a section's own line comes after what it inherited
from its defaults).  In a `mode tcp` proxy `option httplog` falls back to tcplog, as
check_config_validity does (it warns: config/haproxy/post.py).  None: no format, the
frontend logs "Connect from ..." at each accept instead (src/frontend.c)."""

from __future__ import annotations

from pylvs.config.errors import Cite, Location
from pylvs.config.haproxy.draft import ProxyDraft
from pylvs.config.haproxy.lf_nodes import LogFormatError, parse_log_format
from pylvs.config.keywords import Context
from pylvs.proto.log.traffic import CLF_HTTPLOG, HTTPLOG, TCPLOG


def line_format(d: ProxyDraft, ctx: Context) -> tuple[str, Location] | None:
    """The chosen format and its line; a `log-format` HAProxy cannot parse is an error
    there (check_config_validity: "failed to parse log-format : ...")."""
    o = d.options
    found: list[tuple[Location, str]] = []
    if d.log_format is not None and d.log_format_loc is not None:
        found.append((d.log_format_loc, d.log_format))
    for name in ("tcplog", "httplog", "httpslog"):
        where = o.where.get(name)
        if o.enabled.get(name) and where is not None:
            found.append((where, _option_format(name, o.args.get(name, ()), d.mode or "tcp")))
    if not found:
        return None
    loc, text = max(found, key=lambda f: (f[0].file == d.loc.file, f[0].line, f[0].col))
    if d.kind in ("frontend", "listen"):
        try:
            parse_log_format(text, merge_spaces=True, mandatory=True)
        except LogFormatError as e:
            ctx.error(loc, f"failed to parse log-format : {e}.", cite=Cite.LATE_CAPITAL)
            return None
    return text, loc


def _option_format(name: str, args: tuple[str, ...], mode: str) -> str:
    if name == "tcplog" or mode != "http":
        return TCPLOG
    return CLF_HTTPLOG if args == ("clf",) else HTTPLOG
