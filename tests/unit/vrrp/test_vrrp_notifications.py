"""SMTP alert texts (keepalived vrrp_smtp_notifier / smtp.c subjects) and notify script users."""

from collections.abc import Sequence

import pytest

from pylvs.model.notify import Alert, NotifySpec, ScriptSpec
from pylvs.proto.vrrp.commands import State
from pylvs.vrrp.notifications import Notifier, group_alert, instance_alert


def test_instance_alert_texts() -> None:
    a = instance_alert("LVS_DEVEL", "VI_1", State.MASTER)
    assert a is not None
    assert a.subject == "[LVS_DEVEL] VRRP Instance VI_1 - Entering MASTER state"
    assert a.body == "=> VRRP Instance is now owning VRRP VIPs <="
    stop = instance_alert("r", "VI_1", State.STOP)
    assert stop is not None and stop.subject == "[r] VRRP Instance VI_1 - Stopping"
    assert instance_alert("r", "VI_1", State.INIT) is None


def test_group_alert_texts() -> None:
    a = group_alert("r", "G", State.FAULT)
    assert a is not None and a.subject == "[r] VRRP Group G - Entering FAULT state"
    assert a.body == "=> All VRRP group instances are now in FAULT state <="


def test_no_email_faults_suppresses_fault_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    n = Notifier(NotifySpec(no_fault_mail=True))
    sent: list[Alert] = []
    monkeypatch.setattr(n.mail, "send", sent.append)
    n.alert(instance_alert("r", "VI_1", State.FAULT), State.FAULT)
    n.alert(instance_alert("r", "VI_1", State.MASTER), State.MASTER)
    assert [a.subject for a in sent] == ["[r] VRRP Instance VI_1 - Entering MASTER state"]


def test_notify_script_runs_as_its_configured_user_with_args_appended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = Notifier(NotifySpec())
    calls: list[tuple[tuple[str, ...], str | None, bool, tuple[str, ...]]] = []

    def spawn(script: ScriptSpec, *, stopping: bool = False, extra: Sequence[str] = ()) -> None:
        calls.append((script.argv, script.user, stopping, tuple(extra)))

    monkeypatch.setattr(n.runner, "spawn", spawn)
    known = (ScriptSpec(("/bin/notify.sh", "x"), "nobody"),)
    n.run(("/bin/notify.sh", "x", "INSTANCE", "VI_1", "MASTER", "100"), known, stop=False)
    n.run(("/bin/other",), known, stop=True)
    assert calls == [
        (("/bin/notify.sh", "x"), "nobody", False, ("INSTANCE", "VI_1", "MASTER", "100")),
        (("/bin/other",), None, True, ()),
    ]
