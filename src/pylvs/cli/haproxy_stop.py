"""HAProxy 2.6's soft stop, hard stop and pause for `pylvs haproxy`'s worker.

src/proxy.c `soft_stop` (SIGUSR1): with `grace`, "Scheduling a soft-stop in N ms." and the
listeners keep accepting that long ("Grace period expired, proceeding with soft-stop now.");
then `do_soft_stop_now`: the listeners close ("Proxy NAME stopped (cumulated conns: FE: n,
BE: m)." for every proxy, those with listeners first, as proxy_cond_disable says it) and the
process leaves once its streams have ended; with `hard-stop-after`, that long after the soft
stop began (`hard_stop`: "soft-stop running for too long, performing a hard-stop." and
"Proxy NAME hard-stopped (N remaining conns will be closed)." for each frontend with some)
the streams left are cut.  src/haproxy.c `sig_pause` / `sig_listen` (SIGTTOU / SIGTTIN) and
src/listener.c: every frontend stops listening, its address left bound ("Paused proxy
NAME.", `frontend` for a frontend section), or listens again ("Resumed ...").  Each line
also goes to the `log` targets, as HAProxy's send_log beside its ha_warning/ha_notice:
the proxy's for Paused/Resumed/hard-stopped, the global ones for the soft stop's schedule
(warning), the grace's end (notice) and the hard stop (warning); the "Proxy NAME stopped"
lines are the runtime's own (dataplane/haproxy/streamlog.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pylvs.cli.haproxy_msgs import Messages

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.runtime import ProxyRuntime
    from pylvs.engine.daemon import Daemon


LOG_WARNING, LOG_NOTICE = 4, 5
CLOSE_AFTER_SHUT = 0.1  # seconds between a hard stop's FINs and the sockets' close


class Stopper:
    """The worker's SIGUSR1 / SIGTTOU / SIGTTIN handlers over a started daemon."""

    def __init__(self, daemon: Daemon, msgs: Messages) -> None:
        self.daemon = daemon
        self.msgs = msgs
        self.loop = asyncio.get_running_loop()
        self.stopping = False
        spec = daemon.spec.proxies if daemon.spec is not None else None
        self.grace_ms = spec.grace_ms if spec is not None else None
        self.hard_ms = spec.hard_stop_after_ms if spec is not None else None

    def soft_stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        if self.grace_ms:
            text = f"Scheduling a soft-stop in {self.grace_ms} ms."
            self.msgs.notice(text)
            self._syslog(None, LOG_WARNING, text)
            self.loop.call_later(self.grace_ms / 1000, self._grace_expired)
            return
        self._stop_now()

    def _grace_expired(self) -> None:
        text = "Grace period expired, proceeding with soft-stop now."
        self.msgs.notice(text)
        self._syslog(None, LOG_NOTICE, text)
        self._stop_now()

    def _stop_now(self) -> None:
        if self.hard_ms is not None:  # the runtime, which the daemon's stop lets go of
            self.loop.call_later(self.hard_ms / 1000, self.hard_stop, self.daemon.proxies)
        for line in self._stopped_lines():
            self.msgs.warning(line)
        self.daemon.stopping.set()  # the listeners close; the streams run to their end

    def _stopped_lines(self) -> list[str]:
        stats = self.daemon.stats_servers
        if stats is None:
            return []
        proxies = stats.live.snapshot().proxies
        counts = [
            (p.name, p.frontend.counters.cum_conn if p.frontend is not None else 0,
             p.backend.counters.cum_conn if p.backend is not None else 0)
            for p in proxies if p.frontend is not None
        ]  # fmt: skip
        if stats.sockets.specs:  # the CLI's proxy: one stream per session
            counts.append(("GLOBAL", stats.sockets.served, stats.sockets.served))
        counts += [
            (p.name, 0, p.backend.counters.cum_conn)
            for p in proxies
            if p.frontend is None and p.backend is not None
        ]
        return [f"Proxy {n} stopped (cumulated conns: FE: {fe}, BE: {be})." for n, fe, be in counts]

    def hard_stop(self, runtime: ProxyRuntime | None) -> None:
        if runtime is None or not runtime.live():
            return
        text = "soft-stop running for too long, performing a hard-stop."
        self.msgs.warning(text)
        runtime.send_log(None, LOG_WARNING, text)
        for fe in runtime.frontends.values():
            if fe.conns:
                text = (
                    f"Proxy {fe.spec.name} hard-stopped ({fe.conns} remaining conns will be"
                    " closed)."
                )
                self.msgs.warning(text)
                runtime.send_log(fe.spec.name, LOG_WARNING, text)
        runtime.shut_all_streams()  # the FINs first, then the sockets go (HAProxy exits)
        self.loop.call_later(CLOSE_AFTER_SHUT, self._close, runtime)

    def _syslog(self, proxy: str | None, level: int, text: str) -> None:
        """The same line to the `log` targets (HAProxy's send_log beside ha_warning)."""
        runtime = self.daemon.proxies
        if runtime is not None:
            runtime.send_log(proxy, level, text)

    @staticmethod
    def _close(runtime: ProxyRuntime) -> None:
        for fe in runtime.frontends.values():
            for listener in fe.listeners:
                listener.abort_all()

    def pause(self, on: bool) -> None:
        """SIGTTOU (on) / SIGTTIN."""
        runtime = self.daemon.proxies
        if runtime is None:
            return
        names, ok = runtime.pause_listeners() if on else runtime.resume_listeners()
        said = [("proxy" if name in runtime.backends else "frontend", name) for name in names]
        stats = self.daemon.stats_servers
        if stats is not None and stats.sockets.specs:
            # The CLI's proxy: HAProxy's unix listeners keep accepting while "paused".
            said.append(("frontend", "GLOBAL"))
        for what, name in said:
            text = f"{'Paused' if on else 'Resumed'} {what} {name}."
            self.msgs.warning(text)
            if name != "GLOBAL":  # the CLI's proxy logs nowhere (no log targets)
                runtime.send_log(name, LOG_WARNING, text)
        if ok:
            return
        if on:  # sig_pause: a proxy that cannot pause makes HAProxy stop softly
            self.msgs.warning("Some proxies refused to pause, performing soft stop now.")
            self.soft_stop()
        else:
            self.msgs.warning(
                "Some proxies refused to resume, probably due to a conflict on a listening port."
                " You may want to try again after the conflicting application is stopped,"
                " otherwise a restart might be needed to resume safe operations."
            )
