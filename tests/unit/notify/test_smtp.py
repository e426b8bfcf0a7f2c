"""The SMTP alert as keepalived's core/smtp.c writes it."""

import datetime

from pylvs.model.notify import Alert
from pylvs.notify.smtp import angle, message


def test_smtp_alert_message_shape() -> None:
    date = datetime.datetime(2024, 3, 1, 9, 44, 8, tzinfo=datetime.UTC)
    alert = Alert("[LVS1] Virtualserver [10.0.0.1]:tcp:80 - DOWN", "=> Lost quorum <=")
    text = message(alert, sender="root@lb", to=["a@x", "b@y"], date=date)
    assert text == (
        "Date: Fri, 01 Mar 2024 09:44:08 +0000\r\nFrom: root@lb\r\n"
        "Subject: [LVS1] Virtualserver [10.0.0.1]:tcp:80 - DOWN\r\nX-Mailer: Keepalived\r\n"
        "To: a@x,\r\n b@y\r\n\r\n=> Lost quorum <=\r\n\r\n.\r\n"
    )
    assert angle("Ops <ops@x>") == "<ops@x>"
    assert angle("ops@x") == "<ops@x>"
