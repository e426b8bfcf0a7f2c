"""Effects of health on the table, the logs, scripts, FIFO and alerts (check/ipwrapper.c;
reference §3.12).  Expected lines are keepalived's wording, worked out by hand."""

import dataclasses
import ipaddress
from collections.abc import Sequence

from pylvs.config.keepalived.table import to_table
from pylvs.health.effects import LvsState, VsHealth
from pylvs.health.events import FifoLine, LogLine, RunScript
from pylvs.health.machine import Change
from pylvs.model.notify import Alert
from tests.unit.health.health_helpers import config, ref, spec, state

BASE = """
virtual_server 10.0.0.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
%s
  real_server 127.0.0.1 9001 {
    weight 2
%s
    notify_up "/bin/echo up 'a b'"
    notify_down /bin/notify_down
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 127.0.0.2 9002 {
    weight 3
%s
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
"""


def conf(vs: str = "", rs1: str = "", rs2: str = "") -> str:
    return BASE % (vs, rs1, rs2)


def logs(effects: Sequence[object]) -> list[str]:
    return [e.text for e in effects if isinstance(e, LogLine)]


def weights(st: LvsState) -> dict[str, int]:
    (entry,) = st.table().values()
    return {str(d): d.weight for d in entry.dests}


def test_start_table_is_the_config_table() -> None:
    for text in (
        conf(),
        conf(rs1="inhibit_on_failure\nalpha"),
        conf(vs="quorum 10\nsorry_server 127.0.0.9 9009"),
        conf(vs="sorry_server 127.0.0.9 9009\nsorry_server_inhibit"),
        conf(vs="alpha\ninhibit_on_failure"),
    ):
        st = state(text)
        st.start()
        assert st.table() == to_table(config(text)), text


def test_start_reaching_quorum_runs_quorum_up_and_logs_gained() -> None:
    st = state(conf(vs='quorum 4\nquorum_up "/bin/qup x"'))
    out = st.start()
    assert "Gained quorum 4+0=4 <= 5 for VS [10.0.0.1]:tcp:80" in logs(out)
    assert [e.script.argv for e in out if isinstance(e, RunScript)] == [("/bin/qup", "x")]
    assert FifoLine("VS [10.0.0.1]:tcp:80 UP") in out


def test_down_removes_runs_notify_down_and_writes_fifo() -> None:
    st = state(conf())
    st.start()
    out = st.checker_result(ref(st, 0), Change.DOWN, alert_body="=> TCP CHECK failed on service <=")
    assert logs(out)[0] == "Removing service [127.0.0.1]:tcp:9001 from VS [10.0.0.1]:tcp:80"
    assert [e.script.argv for e in out if isinstance(e, RunScript)] == [("/bin/notify_down",)]
    assert FifoLine("RS [127.0.0.1]:tcp:9001 [10.0.0.1]:tcp:80 DOWN") in out
    assert (
        Alert(
            "[LVS1] Realserver [127.0.0.1]:tcp:9001 of virtual server [10.0.0.1]:tcp:80 - DOWN",
            "=> TCP CHECK failed on service <=",
        )
        in out
    )
    assert weights(st) == {"127.0.0.2:9002": 3}
    back = st.checker_result(ref(st, 0), Change.UP)
    assert logs(back)[0] == "Adding service [127.0.0.1]:tcp:9001 to VS [10.0.0.1]:tcp:80"
    assert [e.script.argv for e in back if isinstance(e, RunScript)] == [("/bin/echo", "up", "a b")]
    assert weights(st) == {"127.0.0.2:9002": 3, "127.0.0.1:9001": 2}


def test_inhibit_on_failure_sets_weight_zero_and_back() -> None:
    st = state(conf(rs1="inhibit_on_failure"))
    st.start()
    out = st.checker_result(ref(st, 0), Change.DOWN)
    assert logs(out)[0] == "Disabling service [127.0.0.1]:tcp:9001 of VS [10.0.0.1]:tcp:80"
    assert weights(st) == {"127.0.0.1:9001": 0, "127.0.0.2:9002": 3}
    out = st.checker_result(ref(st, 0), Change.UP)
    assert logs(out)[0] == "Enabling service [127.0.0.1]:tcp:9001 of VS [10.0.0.1]:tcp:80"
    assert weights(st) == {"127.0.0.1:9001": 2, "127.0.0.2:9002": 3}


def test_quorum_loss_swaps_the_sorry_server_in_and_gain_swaps_it_out() -> None:
    text = conf(
        vs='quorum 4\nsorry_server 127.0.0.9 9009\nquorum_up "/bin/qup"\nquorum_down "/bin/qdown"\n'
        "smtp_alert"
    )
    st = state(text)
    st.start()
    assert weights(st) == {"127.0.0.1:9001": 2, "127.0.0.2:9002": 3}
    out = st.checker_result(ref(st, 1), Change.DOWN)  # 2 < 4
    assert logs(out) == [
        "Removing service [127.0.0.2]:tcp:9002 from VS [10.0.0.1]:tcp:80",
        "Lost quorum 4-0=4 > 2 for VS [10.0.0.1]:tcp:80",
        "Adding sorry server [127.0.0.9]:tcp:9009 to VS [10.0.0.1]:tcp:80",
        "Removing alive servers from the pool for VS [10.0.0.1]:tcp:80",
    ]
    assert ("/bin/qdown",) in [e.script.argv for e in out if isinstance(e, RunScript)]
    assert (
        Alert("[LVS1] Virtualserver [10.0.0.1]:tcp:80 - DOWN", "=> Lost quorum 4+0=4 <= 2 <=")
        in out
    )
    assert weights(st) == {"127.0.0.9:9009": 1}
    out = st.checker_result(ref(st, 1), Change.UP)
    assert "Removing sorry server [127.0.0.9]:tcp:9009 from VS [10.0.0.1]:tcp:80" in logs(out)
    assert weights(st) == {"127.0.0.1:9001": 2, "127.0.0.2:9002": 3}


def test_hysteresis_keeps_quorum_until_below_quorum_minus_hysteresis() -> None:
    st = state(conf(vs="quorum 4\nhysteresis 1"))
    st.start()  # 5 >= 4+1: up
    out = st.checker_result(ref(st, 0), Change.DOWN)  # 3 >= 4-1: still up
    assert not any("quorum" in line for line in logs(out))
    out = st.checker_result(ref(st, 1), Change.DOWN)  # 0: lost
    assert "Lost quorum 4-1=3 > 0 for VS [10.0.0.1]:tcp:80" in logs(out)
    out = st.checker_result(ref(st, 1), Change.UP)  # 3 < 4+1: not yet
    assert not any("quorum" in line for line in logs(out))
    out = st.checker_result(ref(st, 0), Change.UP)  # 5 >= 5: gained
    assert "Gained quorum 4+1=5 <= 5 for VS [10.0.0.1]:tcp:80" in logs(out)


def test_inhibited_servers_stay_at_weight_zero_while_the_sorry_server_serves() -> None:
    st = state(conf(vs="quorum 4\nsorry_server 127.0.0.9 9009\ninhibit_on_failure"))
    st.start()
    st.checker_result(ref(st, 1), Change.DOWN)
    assert weights(st) == {"127.0.0.1:9001": 0, "127.0.0.2:9002": 0, "127.0.0.9:9009": 1}


def test_dynamic_weight_changes_are_logged_and_clamped() -> None:
    st = state(conf())
    st.start()
    out = st.checker_result(ref(st, 0), Change.NONE, delta=5)
    assert logs(out) == [
        "Changing weight from 2 to 7 for active service [127.0.0.1]:tcp:9001 of VS "
        "[10.0.0.1]:tcp:80"
    ]
    assert weights(st)["127.0.0.1:9001"] == 7
    st.checker_result(ref(st, 0), Change.NONE, delta=-10)
    assert weights(st)["127.0.0.1:9001"] == 0  # real_weight clamps at 0


def test_alpha_first_failure_runs_notify_down_again() -> None:
    st = state(conf(rs1="alpha"))
    st.start()
    assert "127.0.0.1:9001" not in weights(st)
    out = st.checker_result(ref(st, 0), Change.FIRST_DOWN)
    assert [e.script.argv for e in out if isinstance(e, RunScript)] == [("/bin/notify_down",)]
    assert FifoLine("RS [127.0.0.1]:tcp:9001 [10.0.0.1]:tcp:80 DOWN") in out


def test_omega_runs_down_scripts_on_shutdown() -> None:
    st = state(conf(vs='omega\nquorum_down "/bin/qdown"\nsmtp_alert'))
    st.start()
    out = st.stop(omega=True)
    assert "Shutting down service [127.0.0.1]:tcp:9001 from VS [10.0.0.1]:tcp:80" in logs(out)
    argvs = [e.script.argv for e in out if isinstance(e, RunScript)]
    assert argvs == [("/bin/notify_down",), ("/bin/qdown",)]
    assert all(e.stopping for e in out if isinstance(e, RunScript))
    assert Alert("[LVS1] Virtualserver [10.0.0.1]:tcp:80 - DOWN", "=> Shutting down <=") in out


def test_without_omega_shutdown_only_logs() -> None:
    st = state(conf(vs='quorum_down "/bin/qdown"'))
    st.start()
    out = st.stop(omega=True)
    assert not [e for e in out if not isinstance(e, LogLine)]
    assert len(logs(out)) == 2


def test_reload_carries_checker_state() -> None:
    old = state(conf())
    old.start()
    old.checker_result(ref(old, 0), Change.DOWN)
    new = state(conf(rs2="inhibit_on_failure"))
    new.carry(old, {ref(new, 0): ref(old, 0), ref(new, 1): ref(old, 1)})
    out = new.start()
    assert not any("Adding" in line or "Removing" in line for line in logs(out))
    assert weights(new) == {"127.0.0.2:9002": 3}


def quorum_up(pool: VsHealth) -> bool:
    """pool.quorum_up, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return pool.quorum_up


def backup_pool(all_backups: bool) -> LvsState:
    """Two active servers and two backups (HAProxy `backup`), built directly: no
    keepalived.conf has backups."""
    base = spec(conf()).pools[0]
    active = base.real_servers
    backups = tuple(
        dataclasses.replace(
            rs,
            server=dataclasses.replace(rs.server, address=ipaddress.ip_address(f"127.0.0.{n}")),
            backup=True,
        )
        for n, rs in ((5, active[0]), (6, active[1]))
    )
    pool = dataclasses.replace(
        base,
        real_servers=active + backups,
        policy=dataclasses.replace(base.policy, all_backups=all_backups),
    )
    return LvsState((pool,), router_id="LVS1")


def test_backup_servers_serve_only_while_no_other_server_is_up() -> None:
    for all_backups, expected in ((False, {"127.0.0.5:9001": 2}),
                                  (True, {"127.0.0.5:9001": 2, "127.0.0.6:9002": 3})):  # fmt: skip
        st = backup_pool(all_backups)
        st.start()
        assert weights(st) == {"127.0.0.1:9001": 2, "127.0.0.2:9002": 3}
        st.checker_result(ref(st, 0), Change.DOWN)
        assert weights(st) == {"127.0.0.2:9002": 3}
        st.checker_result(ref(st, 1), Change.DOWN)
        assert weights(st) == expected, all_backups
        st.checker_result(ref(st, 2), Change.DOWN)  # the first backup fails: the next one
        assert weights(st) == {"127.0.0.6:9002": 3}
        st.checker_result(ref(st, 1), Change.UP)  # an active server is back: backups leave
        assert weights(st) == {"127.0.0.2:9002": 3}


def test_backup_servers_do_not_count_towards_quorum() -> None:
    st = backup_pool(False)
    st.start()
    pool = next(iter(st.vs.values()))
    assert pool.quorum_up
    st.checker_result(ref(st, 0), Change.DOWN)
    logs_ = logs(st.checker_result(ref(st, 1), Change.DOWN))
    assert not quorum_up(pool)  # the backups' 5 do not keep quorum 1
    assert "Lost quorum 1-0=1 > 0 for VS [10.0.0.1]:tcp:80" in logs_
