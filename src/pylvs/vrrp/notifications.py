"""VRRP notifications carried out: notify scripts, FIFO lines, SMTP alerts, log lines.

The formats come from the pure core (proto/vrrp/notify.py); this runs them with the notify/
package, shared with health checking, which follows keepalived core/notify.c:
`notify.scripts.ScriptRunner` (script user, `enable_script_security`, process groups killed on
timeout), `notify.fifo.NotifyFifos` (`notify_fifo` / `vrrp_notify_fifo` and their scripts)
and `notify.smtp.AlertSender`.
SMTP texts are keepalived's vrrp.c `vrrp_smtp_notifier` / vrrp_sync.c `vrrp_sync_smtp_notifier`
with core/smtp.c's subjects `[router_id] VRRP Instance NAME - ...` and `... VRRP Group ...`;
`no_email_faults` suppresses FAULT mails.
"""

from __future__ import annotations

import logging
import socket

from pylvs.model.notify import Alert, NotifySpec, ScriptSpec
from pylvs.notify.fifo import NotifyFifos
from pylvs.notify.scripts import ScriptRunner
from pylvs.notify.smtp import AlertSender
from pylvs.proto.vrrp.commands import State

log = logging.getLogger("pylvs.vrrp")

INSTANCE_MAIL = {
    State.MASTER: ("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
    State.BACKUP: ("Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    State.FAULT: ("Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    State.STOP: ("Stopping", "=> VRRP Instance stopping <="),
}
GROUP_MAIL = {
    s: (f"Entering {s.name} state", f"=> All VRRP group instances are now in {s.name} state <=")
    for s in (State.MASTER, State.BACKUP, State.FAULT)
}


def instance_alert(router_id: str, name: str, state: State) -> Alert | None:
    texts = INSTANCE_MAIL.get(state)
    if texts is None:
        return None
    return Alert(f"[{router_id}] VRRP Instance {name} - {texts[0]}", texts[1])


def group_alert(router_id: str, name: str, state: State) -> Alert | None:
    texts = GROUP_MAIL.get(state)
    if texts is None:
        return None
    return Alert(f"[{router_id}] VRRP Group {name} - {texts[0]}", texts[1])


class Notifier:
    """Scripts, FIFO, mail and log for all instances of one VRRP process."""

    def __init__(self, notify: NotifySpec, router_id: str | None = None) -> None:
        host = socket.gethostname()
        self.router_id = router_id or host
        self.no_email_faults = notify.no_fault_mail
        self.runner = ScriptRunner(notify.scripts)
        self.fifos = NotifyFifos([notify.fifo, notify.vrrp_fifo], self.runner)
        self.mail = AlertSender(notify.smtp, hostname=host, username="root")

    def open(self) -> None:
        self.fifos.open()

    def run(self, argv: tuple[str, ...], known: tuple[ScriptSpec, ...], *, stop: bool) -> None:
        """Run a notify script; its user comes from the configured script whose argv is a
        prefix of `argv` (the generic `notify` script has four words appended)."""
        owner = next(
            (s for s in known if argv[: len(s.argv)] == s.argv),
            None,
        )
        script = owner if owner is not None else ScriptSpec(argv)
        self.runner.spawn(script, stopping=stop, extra=argv[len(script.argv) :])

    def fifo(self, line: str) -> None:
        self.fifos.write(line.rstrip("\n"))

    def alert(self, alert: Alert | None, state: State) -> None:
        if alert is None or (state is State.FAULT and self.no_email_faults):
            return
        self.mail.send(alert)

    async def close(self) -> None:
        await self.runner.drain(timeout=2.0)
        await self.mail.drain(timeout=2.0)
        self.fifos.close()
