"""The `log` lines of a haproxy.cfg as model/proxy_log values: `log global` expanded into the
global targets (each once per proxy, as parse_logsrv's `ref` check does), the targets pylvs
does not send to left out (they were warned about), the `log-tag`s kept."""

from __future__ import annotations

from pylvs.config.haproxy.model import Global, LogTarget, Proxy
from pylvs.model.proxy_log import LogTarget as TargetSpec
from pylvs.model.proxy_log import ProxyLog


def global_log(g: Global) -> ProxyLog:
    return ProxyLog(targets=_specs(g.logs, ()), tag=g.log_tag)


def proxy_log(proxy: Proxy, g: Global) -> ProxyLog:
    return ProxyLog(targets=_specs(proxy.logs, g.logs), tag=proxy.log_tag)


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
