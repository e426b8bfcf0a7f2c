"""Notification specs: the scripts to run, the FIFOs to write, the mail to send, and to whom.

keepalived's vocabulary (core/notify.c, core/smtp.c, global_defs; reference §3.1, §4.17):
a script is an argv with the user and group it runs as; `ScriptSecurity` is `script_user`,
`script_group` and `enable_script_security`; a `FifoSpec` is `notify_fifo` and its friends
(the FIFO is created with the owner given, its script started with the path as last argument);
`SmtpSpec` is `notification_email`, `notification_email_from`, `smtp_server`,
`smtp_helo_name` and `smtp_connect_timeout`.  Which events notify whom is on the objects the
events are about (a real server's up/down scripts, a pool's quorum scripts, a VRRP instance's
state scripts); `NotifySpec` holds the settings shared by all of them.  The machinery that
carries them out is the notify/ package.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ScriptSpec:
    """A script to run: its argv (as split by the config's quoting rules) and the user /
    group it runs as (None: the default script user)."""

    argv: tuple[str, ...]
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An SMTP alert: the full subject (router id included) and the body text."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class ScriptSecurity:
    """The default user scripts run as, and whether unsafe scripts are refused."""

    user: str | None = None
    group: str | None = None
    enforce: bool = False


@dataclass(frozen=True, slots=True)
class FifoSpec:
    """A notify FIFO: its path, its owner when pylvs creates it, and the script that reads it."""

    path: str
    user: str | None = None
    group: str | None = None
    script: ScriptSpec | None = None


@dataclass(frozen=True, slots=True)
class SmtpServerSpec:
    host: str  # an address or a host name, as written
    port: int = 25


@dataclass(frozen=True, slots=True)
class SmtpSpec:
    """Where alerts go.  None for `helo_name` / `sender`: the host name / user@host."""

    to: tuple[str, ...] = ()
    server: SmtpServerSpec | None = None
    connect_timeout: float = 30.0
    helo_name: str | None = None
    sender: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.to) and self.server is not None


@dataclass(frozen=True, slots=True)
class NotifySpec:
    """Settings shared by every notification.

    fifo            written by VRRP and health checking alike (keepalived notify_fifo)
    vrrp_fifo       VRRP only (vrrp_notify_fifo); health_fifo: checkers only (lvs_notify_fifo)
    smtp_alert      the default of every `smtp_alert` (None: not set; each object's own
                    setting is already resolved, the data dumps show this)
    no_fault_mail   VRRP FAULT states send no mail (no_email_faults)
    mail_on_change_only  a checker's alert is mailed only when its server changes state
                    (no_checker_emails)
    """

    scripts: ScriptSecurity = field(default_factory=ScriptSecurity)
    fifo: FifoSpec | None = None
    vrrp_fifo: FifoSpec | None = None
    health_fifo: FifoSpec | None = None
    smtp: SmtpSpec = field(default_factory=SmtpSpec)
    smtp_alert: bool | None = None
    no_fault_mail: bool = False
    mail_on_change_only: bool = False
