"""SMTP alerts to `notification_email` through `smtp_server`, shaped as keepalived's.

core/smtp.c: connect within `smtp_connect_timeout`, then `220` greeting, `HELO <helo>` ->
250, `MAIL FROM:<from>` -> 250, one `RCPT TO:<addr>` per address -> 250, `DATA` -> 354, the
message -> 250, `QUIT` -> 221.  An address already written `Name <addr>` is sent as `<addr>`.
The message (`body_cmd`):

    Date: <rfc822 local time>\\r\\n
    From: <notification_email_from>\\r\\n
    Subject: <subject>\\r\\n
    X-Mailer: Keepalived\\r\\n
    To: a@x,\\r\\n b@y\\r\\n
    \\r\\n
    <body>\\r\\n
    \\r\\n.\\r\\n

Defaults (core/global_data.c): HELO name and router id = the local host name, from address
= `<user>@<host name>`.  Alerts are only sent when both an address and a server are set.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Sequence

from pylvs.model.notify import Alert, SmtpSpec

log = logging.getLogger("pylvs.notify")


def angle(addr: str) -> str:
    """smtp.c `mail_cmd` / `rcpt_cmd`."""
    if addr.endswith(">") and "<" in addr:
        return addr[addr.rindex("<") :]
    return f"<{addr}>"


def message(alert: Alert, *, sender: str, to: Sequence[str], date: datetime.datetime) -> str:
    rfc822 = date.strftime("%a, %d %b %Y %H:%M:%S %z")
    head = (
        f"Date: {rfc822}\r\nFrom: {sender}\r\nSubject: {alert.subject}\r\n"
        "X-Mailer: Keepalived\r\nTo:"
    )
    rcpts = "".join(("" if i == 0 else ",\r\n") + f" {a}" for i, a in enumerate(to))
    body = "\r\n".join("." + ln if ln.startswith(".") else ln for ln in alert.body.split("\n"))
    return f"{head}{rcpts}\r\n\r\n{body}\r\n\r\n.\r\n"


class SmtpError(Exception):
    pass


class AlertSender:
    def __init__(self, smtp: SmtpSpec, *, hostname: str, username: str) -> None:
        self._tasks: set[asyncio.Task[bool]] = set()
        self.sent = 0
        self.configure(smtp, hostname=hostname, username=username)

    def configure(self, smtp: SmtpSpec, *, hostname: str, username: str) -> None:
        """Take the (reloaded) settings."""
        self.to = smtp.to
        self.server = smtp.server
        self.timeout = float(smtp.connect_timeout)
        self.helo = smtp.helo_name or hostname
        self.sender = smtp.sender or f"{username}@{hostname}"

    @property
    def enabled(self) -> bool:
        return bool(self.to) and self.server is not None

    def send(self, alert: Alert) -> None:
        """Send in the background (a task this sender owns)."""
        if not self.enabled:
            return
        task = asyncio.get_running_loop().create_task(self.deliver(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, alert: Alert) -> bool:
        assert self.server is not None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(self.server.host, self.server.port)
        except (OSError, TimeoutError) as exc:
            log.error(
                "Error connecting SMTP server [%s]:%d: %s", self.server.host, self.server.port, exc
            )
            return False
        try:
            await self._dialogue(reader, writer, alert)
        except (OSError, TimeoutError, SmtpError) as exc:
            log.error(
                "Error processing SMTP alert to [%s]:%d: %s",
                self.server.host,
                self.server.port,
                exc,
            )
            return False
        finally:
            writer.close()
        self.sent += 1
        log.info("SMTP alert successfully sent.")
        return True

    async def _dialogue(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, alert: Alert
    ) -> None:
        async def expect(code: int, stage: str) -> None:
            while True:
                async with asyncio.timeout(self.timeout):
                    line = await reader.readline()
                if not line:
                    raise SmtpError(f"connection closed at {stage}")
                if len(line) >= 4 and line[3:4] == b"-":
                    continue  # multi-line reply
                if line[:3] != str(code).encode():
                    raise SmtpError(f"{stage}: unexpected reply {line.strip()!r}")
                return

        async def say(text: str, code: int, stage: str) -> None:
            writer.write(text.encode())
            await writer.drain()
            await expect(code, stage)

        await expect(220, "connect")
        await say(f"HELO {self.helo}\r\n", 250, "HELO")
        await say(f"MAIL FROM:{angle(self.sender)}\r\n", 250, "MAIL")
        for addr in self.to:
            await say(f"RCPT TO:{angle(addr)}\r\n", 250, "RCPT")
        await say("DATA\r\n", 354, "DATA")
        date = datetime.datetime.now().astimezone()
        await say(message(alert, sender=self.sender, to=self.to, date=date), 250, "BODY")
        await say("QUIT\r\n", 221, "QUIT")

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)
