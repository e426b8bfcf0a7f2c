"""The `log` lines of a haproxy.cfg as model/proxy_log values: `log global` expanded into the
global targets (each once per proxy, as parse_logsrv's `ref` check does), the targets pylvs
does not send to left out (they were warned about), the `log-tag`s kept; a frontend's
traffic line (logline.py) compiled with proto/rules' log-format over proto/log's variables,
with `option dontlognull` and `option logasap`.

A log-format HAProxy refuses is refused at its line ("failed to parse log-format", as
check_config_validity says it); a variable pylvs does not compute (the HTTP ones pylvs has
no value for yet) prints "-" and is warned about."""

from __future__ import annotations

from pylvs.config.errors import Cite, Kind, Problems
from pylvs.config.haproxy.compile_actions import log_format
from pylvs.config.haproxy.compile_samples import context
from pylvs.config.haproxy.model import Global, LogTarget, Proxy
from pylvs.model.proxy_log import LineFormat, ProxyLog
from pylvs.model.proxy_log import LogTarget as TargetSpec
from pylvs.proto.log.traffic import LOG_VARIABLES
from pylvs.proto.rules.logfmt import VARIABLES
from pylvs.proto.sample.expr import CompileError

LINE_VARIABLES = {**VARIABLES, **LOG_VARIABLES}


def global_log(g: Global) -> ProxyLog:
    return ProxyLog(targets=_specs(g.logs, ()), tag=g.log_tag)


def proxy_log(proxy: Proxy, g: Global, problems: Problems | None = None) -> ProxyLog:
    o = proxy.options
    logasap = any(name == "logasap" and on for name, on, _a in o.others)
    return ProxyLog(
        targets=_specs(proxy.logs, g.logs),
        tag=proxy.log_tag,
        format=_line(proxy, problems) if proxy.has_frontend else None,
        dontlognull=o.dontlognull,
        logasap=logasap,
    )


def _line(proxy: Proxy, problems: Problems | None) -> LineFormat | None:
    if proxy.log_line is None:
        return None
    text, loc = proxy.log_line
    unknown: list[str] = []
    try:
        fmt = log_format(
            text,
            context(proxy=proxy.name),
            http=False,
            variables=LINE_VARIABLES,
            unknown=unknown,
        )
    except CompileError as e:
        if problems is not None:
            problems.error(loc, f"failed to parse log-format : {e}.", cite=Cite.LATE_CAPITAL)
        return None
    if unknown and problems is not None:
        names = ", ".join(dict.fromkeys(unknown))
        problems.warning(
            loc, f"log-format: pylvs has no value for {names} yet: printed as '-'", Kind.UNSUPPORTED
        )
    return fmt


def _specs(
    lines: tuple[LogTarget, ...], global_lines: tuple[LogTarget, ...]
) -> tuple[TargetSpec, ...]:
    out: list[TargetSpec] = []
    copied: set[int] = set()  # the global lines already copied (by identity)
    for line in lines:
        if line.target == "global":
            for gl in global_lines:
                if id(gl) not in copied and gl.spec is not None:
                    copied.add(id(gl))
                    out.append(gl.spec)
        elif line.spec is not None:
            out.append(line.spec)
    return tuple(out)
