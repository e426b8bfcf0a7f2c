"""HAProxy's server-state file (src/server_state.c, 2.6): reading it, checking a line,
and what applying it does to a backend's servers."""

from __future__ import annotations

from pylvs.proto import server_state as ss
from pylvs.sched.haproxy import Admin, LbParams, Pool, Server, State

HEAD = "1\n# be_id be_name srv_id srv_name ...\n"


def line(
    server: str = "s1",
    op: int = 2,
    admin: int = 0,
    uw: int = 1,
    iw: int = 1,
    *,
    backend: str = "be",
    be_id: int = 3,
    health: int = 4,
    chk: int = 6,
    forced: int = 0,
) -> str:
    return (
        f"{be_id} {backend} 1 {server} 127.0.0.1 {op} {admin} {uw} {iw} 5 6 3 {health} {chk} 0 "
        f"{forced} 0 - 80 - 0 0 - - 0\n"
    )


def test_reading_keys_lines_by_backend_and_server() -> None:
    f = ss.read(HEAD + line() + "\n   # a comment\n" + line("s2") + line(), "f")
    assert f.version == 1 and f.messages == ()
    assert sorted(f.lines) == [("be", "s1"), ("be", "s2")]
    assert f.lines["be", "s1"][:3] == ("127.0.0.1", "2", "0")


def test_unusable_files_say_why() -> None:
    # an empty file is one without a version (haproxy 2.6.12 says so, as a warning)
    empty = ss.Message("warning", "config: Can't get version of the global server state file 'f'.")
    assert ss.read("", "f").messages == (empty,)
    local = ss.read("", "f", ss.LocalBackend("be", 3)).messages
    said = "Proxy 'be': Can't get version of the server state file 'f'."
    assert local == (ss.Message("warning", said),)
    bad = ss.read("1 \n" + line(), "f")
    assert bad.version == 0
    assert bad.messages[0].text == "config: Can't get version of the global server state file 'f'."
    assert ss.read("2\n", "f").version == 0  # a version this reader does not know
    # A line without its newline (the last one too), or with too few fields: corrupted,
    # counted from the line after the version.
    cut = ss.read(HEAD + line() + line()[:-1], "f")
    assert cut.version == 0 and cut.lines == {}
    assert cut.messages[-1].text == "config: corrupted global server state file 'f' at line 3."
    short = ss.read(HEAD + "3 be 1 s1 x\n", "f", ss.LocalBackend("be", 3))
    assert short.messages[-1].text == "Proxy 'be': corrupted server state file 'f' at line 2."


def test_a_local_file_matches_its_backend_by_name_or_id() -> None:
    px = ss.LocalBackend("be", 3)
    by_id = ss.read(HEAD + line(backend="old", server="a"), "f", px)
    assert by_id.lines == {}  # the name differs, the id was not forced
    assert "backend name mismatch" in by_id.messages[0].text
    forced = ss.read(HEAD + line(backend="old", server="a", forced=1), "f", px)
    assert list(forced.lines) == [("be", "a")]
    by_name = ss.read(HEAD + line(be_id=9, server="b"), "f", px)
    assert list(by_name.lines) == [("be", "b")]
    assert by_name.messages[0].text == (
        "Proxy 'be': backend ID mismatch: from server state file: '9', from running config '3'"
    )
    assert ss.read(HEAD + line(backend="other", be_id=9), "f", px).lines == {}


def params(text: str) -> tuple[str, ...]:
    return tuple(text.split()[4:])


def test_checking_names_every_bad_field() -> None:
    state, bad = ss.check(params(line(op=7, admin=2 | 0x40, uw=300)))
    assert state is None
    # admin 0x42 is fine: the inherited bits are recomputed, not checked.
    assert bad == ", invalid srv_op_state value '7', invalid srv_uweight value '300'"
    state, bad = ss.check(params(line(admin=0x01 | 0x08)))
    assert state is None and bad == ", invalid srv_admin_state value '9'"
    ok, bad = ss.check(params(line(admin=0x04 | 0x08)))
    assert bad == "" and ok is not None and ok.port == 80


def pool(*servers: Server) -> Pool:
    return Pool(list(servers), LbParams(algorithm="roundrobin"), now=100.0)


def apply(srv: Server, p: Pool, text: str, rise: int = 2, fall: int = 3) -> ss.Restored:
    state, bad = ss.check(params(text))
    assert state is not None, bad
    return ss.apply(p, ss.Target(srv, rise, fall, True, False), state, 100.0)


def test_maintenance_kept_unless_the_configuration_changed_it() -> None:
    s1, s2 = Server("s1", 1), Server("s2", 1, admin=Admin.FMAINT | Admin.CMAINT)
    s3 = Server("s3", 1, admin=Admin.FMAINT | Admin.CMAINT)
    p = pool(s1, s2, s3)
    apply(s1, p, line(admin=1))  # disabled from the socket, not in the config: kept
    apply(s2, p, line(admin=0))  # `disabled` added to the configuration: it wins
    apply(s3, p, line(admin=4))  # configured disabled, enabled from the socket: kept ready
    assert s1.cur_admin & Admin.FMAINT and s1.cur_state is State.STOPPED
    assert s2.cur_admin & Admin.FMAINT
    assert not s3.cur_admin & Admin.FMAINT and s3.cur_state is State.RUNNING


def test_drain_and_weights() -> None:
    s1, s2, s3 = Server("s1", 10), Server("s2", 10), Server("s3", 20)
    p = pool(s1, s2, s3)
    apply(s1, p, line(admin=8, uw=3, iw=10))  # drained, weight set: both kept
    apply(s2, p, line(admin=8, uw=0, iw=0))  # drained by a configured weight 0, now 10
    apply(s3, p, line(uw=3, iw=10))  # the configured weight changed: it wins
    assert s1.cur_admin & Admin.FDRAIN and s1.uweight == 3
    assert not s2.cur_admin & Admin.FDRAIN
    assert s3.uweight == 20


def test_operational_state_and_the_check_health_that_goes_with_it() -> None:
    servers = [Server(f"s{i}", 1) for i in range(5)]
    p = pool(*servers)
    down = apply(servers[0], p, line(op=0, health=3))
    starting = apply(servers[1], p, line(op=1, health=5), rise=3)
    stopping = apply(servers[2], p, line(op=3, health=0), rise=2, fall=3)
    one_fall = apply(servers[3], p, line(op=3), fall=1)
    up = apply(servers[4], p, line(op=2, health=0, chk=2))  # `disable health` in force
    assert servers[0].cur_state is State.STOPPED and down.check_health == 0
    assert starting.check_health == 2
    assert servers[2].cur_state is State.STOPPING and stopping.check_health == 2
    assert servers[3].cur_state is State.STOPPED and one_fall.check_health == 0
    assert servers[4].cur_state is State.RUNNING and up.check_health == 4 and up.check_disabled
    assert servers[0].last_change == 95.0 and up.check_status == 6 and up.check_result == 3
