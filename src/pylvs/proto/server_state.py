"""HAProxy's server-state file, version 1: read, checked, and applied to a backend's servers.

The file is what the stats socket's `show servers state` prints: a version line ("1"), a
comment naming the fields, then one line per server (be_id be_name srv_id srv_name srv_addr
srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change
srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state
bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord, then optionally srv_use_ssl
srv_check_port srv_check_addr srv_agent_addr srv_agent_port).  The rules are HAProxy 2.6's
src/server_state.c:

* reading (`srv_state_get_version`, `srv_state_parse_line`, `srv_state_parse_and_store_line`):
  the first line must be exactly a version number; then blank and `#` lines are skipped, a
  line must end with a newline (the last one too) and hold 20 to 25 fields, else the file is
  "corrupted" from there on and nothing of it is used.  Lines are found by backend and server
  name; a backend's own (`local`) file also matches its backend by id (warning when only one
  of the two matches; a name mismatch skips the line unless the id was forced).  Line numbers
  in messages count from the line after the version, as HAProxy's loop does.
* applying (`srv_state_srv_update`): every field is checked first (a bad one: nothing
  applied, "server-state application failed ..."); then the operational state (with the
  check's health made consistent with it), the maintenance flag (the configuration wins when
  its `disabled` changed), drain, the time since the last change, the check's status and
  result, `disable health|agent` (only the ENABLED bit is taken), the operator's weight when
  the configured weight did not change, and the port.  `srv_addr` is used only with
  `init-addr last`, by the caller (dataplane/haproxy/server_state.py); FQDNs, SRV records and
  TLS have no run-time meaning in pylvs.

Pure: the caller reads the file and gives its text; time is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.sched.haproxy import Admin, Pool, Server, State

VERSION = 1
MIN_FIELDS = 20  # SRV_STATE_FILE_MIN_FIELDS_VERSION_1
MAX_FIELDS = 25  # SRV_STATE_FILE_MAX_FIELDS_VERSION_1
LINE_MAX = 2000  # SRV_STATE_LINE_MAXLEN: fgets reads at most this minus one characters
CHECK_STATUS_SIZE = 21  # HCHK_STATUS_SIZE
CHK_RESULTS = (0, 1, 2, 3, 4)  # CHK_RES_UNKNOWN .. CHK_RES_CONDPASS
CHK_ST_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x10  # INPROGRESS CONFIGURED ENABLED PAUSED AGENT
CHK_ST_CONFIGURED = 0x02
CHK_ST_ENABLED = 0x04
SRV_UWGHT_MAX = 256
_ADMIN_OK = {
    0,
    int(Admin.FMAINT),
    int(Admin.CMAINT),
    int(Admin.CMAINT | Admin.FMAINT),
    int(Admin.CMAINT | Admin.FDRAIN),
    int(Admin.FDRAIN),
}
# srv_admin_state bits recomputed by the new process (inherited, resolution, FQDN changed).
_RECOMPUTED = int(Admin.IDRAIN | Admin.IMAINT | Admin.RMAINT | Admin.HMAINT)


@dataclass(frozen=True, slots=True)
class Message:
    level: str  # "warning" | "notice" (HAProxy's ha_warning / ha_notice)
    text: str


@dataclass(frozen=True, slots=True)
class StateFile:
    """The usable lines of one file by (backend name, server name): their fields from
    srv_addr on (params+4); `version` 0 when nothing of the file may be used."""

    version: int
    lines: dict[tuple[str, str], tuple[str, ...]]
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class LocalBackend:
    """The backend a local file belongs to (its lines must name it)."""

    name: str
    id: int


def _strtol(text: str) -> tuple[int, int]:
    """C's strtol on base 10: (value, characters used; 0 when no digits)."""
    i, n = 0, len(text)
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    start = i
    if i < n and text[i] in "+-":
        i += 1
    digits = i
    while i < n and text[i].isdigit():
        i += 1
    if i == digits:
        return 0, 0
    return int(text[start:i]), i


def _version(first: str) -> int:
    """srv_state_get_version on the first line (with its newline): 0 when unusable or
    empty."""
    if not first:
        return 0
    value, used = _strtol(first)
    if not used or first[used:] != "\n" or not 1 <= value <= VERSION:
        return 0
    return value


def _fields(line: str) -> list[str] | None:
    """srv_state_parse_line: the fields, [] for a line to skip, None for a corrupted one."""
    if not line or not line.endswith("\n") or len(line) >= LINE_MAX:
        return None
    body = line[:-1].lstrip(" \t")
    if not body or body.startswith("#"):
        return []
    fields = body.replace("\t", " ").split()[:MAX_FIELDS]
    return fields if len(fields) >= MIN_FIELDS else None


def read(text: str, path: str, local: LocalBackend | None = None) -> StateFile:
    """A file's text as apply_server_state reads it (`local`: a backend's own file)."""
    where = f"Proxy '{local.name}': " if local is not None else "config: "
    what = "server state file" if local is not None else "global server state file"
    rows = text.splitlines(keepends=True)
    version = _version(rows[0] if rows else "")
    if version < 1:  # an empty file too: haproxy 2.6.12 words both alike
        msg = Message("warning", f"{where}Can't get version of the {what} '{path}'.")
        return StateFile(0, {}, (msg,))
    lines: dict[tuple[str, str], tuple[str, ...]] = {}
    messages: list[Message] = []
    for linenum, row in enumerate(rows[1:], start=1):
        fields = _fields(row)
        if fields is None:
            messages.append(
                Message("warning", f"{where}corrupted {what} '{path}' at line {linenum}.")
            )
            return StateFile(0, {}, tuple(messages))
        if not fields:
            continue
        backend = fields[1]
        if local is not None:
            keep, said = _matches(fields, local)
            messages.extend(said)
            if not keep:
                continue
            backend = local.name
        key = (backend, fields[3])
        if key not in lines:  # a duplicate (a hand-made file): the first one stays
            lines[key] = tuple(fields[4:])
    return StateFile(version, lines, tuple(messages))


def _matches(fields: Sequence[str], px: LocalBackend) -> tuple[bool, list[Message]]:
    same_id = _strtol(fields[0])[0] == px.id
    same_name = fields[1] == px.name
    forced = _strtol(fields[15])[0] & 1
    if not same_id and not same_name:
        return False, []
    if not same_id:
        text = (
            f"Proxy '{px.name}': backend ID mismatch: from server state file: '{fields[0]}', "
            f"from running config '{px.id}'"
        )
        return True, [Message("warning", text)]
    if not same_name:
        text = (
            f"Proxy '{px.name}': backend name mismatch: from server state file: "
            f"'{fields[1]}', from running config '{px.name}'"
        )
        return bool(forced), [Message("warning", text)]
    return True, []


@dataclass(frozen=True, slots=True)
class ServerState:
    """One line's fields from srv_addr on, checked (see `check`)."""

    addr: str | None
    op_state: int
    admin: int  # without the recomputed bits
    uweight: int
    iweight: int
    since_change: int
    check_status: int
    check_result: int
    check_health: int
    check_state: int
    agent_state: int
    port: int | None


def _number(params: Sequence[str], i: int, name: str, bad: list[str]) -> int:
    value, used = _strtol(params[i])
    if not used:
        bad.append(f", invalid {name} value '{params[i]}'")
    return value


def check(params: Sequence[str]) -> tuple[ServerState | None, str]:
    """The validation part of srv_state_srv_update: the state, or None and what is wrong."""
    bad: list[str] = []
    op = _number(params, 1, "srv_op_state", bad)
    if not bad and op not in (0, 1, 2, 3):
        bad.append(f", invalid srv_op_state value '{params[1]}'")
    n = len(bad)
    admin = _number(params, 2, "srv_admin_state", bad) & ~_RECOMPUTED
    if len(bad) == n and admin not in _ADMIN_OK:
        bad.append(f", invalid srv_admin_state value '{params[2]}'")
    weights = []
    for i, name in ((3, "srv_uweight"), (4, "srv_iweight")):
        n = len(bad)
        w = _number(params, i, name, bad)
        if len(bad) == n and not 0 <= w <= SRV_UWGHT_MAX:
            bad.append(f", invalid {name} value '{params[i]}'")
        weights.append(w)
    since = _number(params, 5, "srv_last_time_change", bad)
    status = _ranged(params, 6, "srv_check_status", bad, lambda v: 0 <= v < CHECK_STATUS_SIZE)
    result = _ranged(params, 7, "srv_check_result", bad, lambda v: v in CHK_RESULTS)
    health = _number(params, 8, "srv_check_health", bad)
    chk = _ranged(params, 9, "srv_check_state", bad, lambda v: not v & ~CHK_ST_BITS)
    agent = _ranged(params, 10, "srv_agent_state", bad, lambda v: not v & ~CHK_ST_BITS)
    _ranged(params, 11, "bk_f_forced_id", bad, lambda v: v in (0, 1))
    _ranged(params, 12, "srv_f_forced_id", bad, lambda v: v in (0, 1))
    port = None
    if len(params) > 14:
        value, used = _strtol(params[14])
        if used and 0 <= value <= 0xFFFF:
            port = value
        elif used:
            bad.append(f", invalid srv_port value '{params[14]}'")
    if bad:
        return None, "".join(bad)
    addr = params[0] if params[0] != "-" else None
    state = ServerState(
        addr, op, admin, weights[0], weights[1], since, status, result, health, chk, agent, port
    )
    return state, ""


def _ranged(params: Sequence[str], i: int, name: str, bad: list[str], ok: object) -> int:
    n = len(bad)
    value = _number(params, i, name, bad)
    if len(bad) == n and not ok(value):  # type: ignore[operator]
        bad.append(f", invalid {name} value '{params[i]}'")
    return value


@dataclass(frozen=True, slots=True)
class Restored:
    """What the check engine takes from a restored state: the health counter, the last
    status and result, and whether `disable health` / `disable agent` was in force."""

    check_health: int
    check_status: int
    check_result: int
    check_disabled: bool
    agent_disabled: bool


@dataclass(frozen=True, slots=True)
class Target:
    """The server a state is applied to, as configured now."""

    server: Server
    rise: int
    fall: int
    check_configured: bool
    agent_configured: bool


def apply(pool: Pool, target: Target, state: ServerState, now: float) -> Restored:
    """srv_state_srv_update's effects on `target.server` (in `pool`), at `now`."""
    srv = target.server
    health = _op_state(pool, target, state, now)
    config_maint = bool(srv.next_admin & Admin.CMAINT)
    file_maint = bool(state.admin & Admin.FMAINT)
    if bool(state.admin & Admin.CMAINT) != config_maint:
        pass  # the configuration changed `disabled`: it wins (the server is as configured)
    elif file_maint and not config_maint:
        pool.set_admin(srv, Admin.FMAINT, now)
    elif not file_maint and config_maint:
        pool.clear_admin(srv, Admin.FMAINT, now)
    # Drain, unless it came from a configured weight of 0 that is now set to more.
    drain = state.admin & Admin.FDRAIN and (state.iweight > 0 or srv.iweight == 0)
    if drain and not srv.next_admin & Admin.FMAINT:
        pool.set_admin(srv, Admin.FDRAIN, now)
    srv.last_change = now - state.since_change
    if state.iweight == srv.iweight and state.uweight != srv.uweight:
        pool.set_weight(srv, state.uweight, now)
    return Restored(
        check_health=health,
        check_status=state.check_status,
        check_result=state.check_result,
        check_disabled=_disabled(target.check_configured, state.check_state),
        agent_disabled=_disabled(target.agent_configured, state.agent_state),
    )


def _disabled(configured: bool, bits: int) -> bool:
    return configured and bool(bits & CHK_ST_CONFIGURED) and not bits & CHK_ST_ENABLED


def _op_state(pool: Pool, target: Target, state: ServerState, now: float) -> int:
    """The operational state and the check's health that goes with it."""
    srv, rise, fall = target.server, target.rise, target.fall
    health = state.check_health
    op = State(state.op_state)
    if op is State.STARTING and rise == 1:
        op = State.RUNNING
    elif op is State.STOPPING and fall == 1:
        op = State.STOPPED
    if op is State.STOPPED:
        health = 0
    elif op is State.STARTING:
        if health < 1 or health >= rise:
            health = rise - 1
    elif op is State.STOPPING:
        if health < rise or health > rise + fall - 2:
            health = rise
    else:
        health = rise + fall - 1
    pool.restore_state(srv, op, now)
    return health
