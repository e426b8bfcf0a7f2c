"""ipvsadm's command/option legality tables and the checks that walk them.

Straight from ipvsadm.c (v1.31): `cmdnames`, `optnames`, `commands_v_options` and
`tunnel_types_v_options` with their key (`+` compulsory, `x` illegal, `1` at most one of the
`1` options, blank optional), and `generic_opt_check` / `tunnel_opt_check`, which report the
*first* offending column in table order.
"""

from __future__ import annotations

import enum

from pylvs.control.ipvsadm.messages import Failure, fail


class Cmd(enum.IntEnum):
    """CMD_* (the row index is value - 1)."""

    ADD = 1
    EDIT = 2
    DEL = 3
    FLUSH = 4
    LIST = 5
    ADDDEST = 6
    DELDEST = 7
    EDITDEST = 8
    TIMEOUT = 9
    STARTDAEMON = 10
    STOPDAEMON = 11
    RESTORE = 12
    SAVE = 13
    ZERO = 14


CMDNAMES = (
    "add-service", "edit-service", "delete-service", "flush", "list", "add-server",
    "delete-server", "edit-server", "set", "start-daemon", "stop-daemon", "restore", "save",
    "zero",
)  # fmt: skip


class Optc(enum.IntEnum):
    """OPTC_* bit numbers (the column index)."""

    NUMERIC = 0
    CONNECTION = 1
    SERVICE = 2
    SCHEDULER = 3
    PERSISTENT = 4
    NETMASK = 5
    SERVER = 6
    FORWARD = 7
    WEIGHT = 8
    UTHRESHOLD = 9
    LTHRESHOLD = 10
    MCAST = 11
    TIMEOUT = 12
    DAEMON = 13
    STATS = 14
    RATE = 15
    THRESHOLDS = 16
    PERSISTENTCONN = 17
    NOSORT = 18
    SYNCID = 19
    EXACT = 20
    ONEPACKET = 21
    PERSISTENCE_ENGINE = 22
    SCHED_FLAGS = 23
    MCAST_GROUP = 24
    MCAST_PORT = 25
    MCAST_TTL = 26
    SYNC_MAXLEN = 27
    TUN_INFO = 28
    TUN_TYPE = 29
    TUN_PORT = 30
    TUN_NOCSUM = 31
    TUN_CSUM = 32
    TUN_REMCSUM = 33


OPTNAMES = (
    "numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
    "real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
    "mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds", "persistent-conn",
    "nosort", "syncid", "exact", "ops", "pe", "sched-flags", "mcast-group", "mcast-port",
    "mcast-ttl", "sync-maxlen", "tun-info", "tun-type", "tun-port", "tun-nocsum", "tun-csum",
    "tun-remcsum",
)  # fmt: skip

# One string per command, one character per option column (ipvsadm.c commands_v_options,
# blanks written as '.').
#            -n -c svc -s -p -M -r fwd -w -x -y mc tot dmn st rt thr pc srt sid ex ops pe -b grp port ttl size tinf type tprt nocs csum remc  # noqa: E501
COMMANDS_V_OPTIONS = (
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",  # ADD
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",  # EDIT
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # DEL
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # FLUSH
    ".11xxxxxxxxx11.......xxxxxxx.xxxxx",  # LIST
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",  # ADDSRV
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",  # DELSRV
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",  # EDITSRV
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # TIMEOUT
    "xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",  # STARTD
    "xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",  # STOPD
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # RESTORE
    ".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # SAVE
    "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # ZERO
)

TUNNAMES = ("ipip", "gue", "gre")
TUNOPTS = (Optc.TUN_PORT, Optc.TUN_NOCSUM, Optc.TUN_CSUM, Optc.TUN_REMCSUM)
TUNNEL_TYPES_V_OPTIONS = (
    "xxxx",  # ipip
    "+111",  # gue
    "x11x",  # gre
)


def has(options: int, optc: Optc) -> bool:
    return bool(options & (1 << optc))


def _walk(row: str, columns: list[int], options: int, what: str, where: str) -> Failure | None:
    last = 0
    count = 0
    for pos, j in enumerate(columns):
        rule = row[pos]
        if not options & (1 << j):
            if rule == "+":
                return fail(
                    f"You need to supply the '{OPTNAMES[j]}' option for the '{where}' {what}"
                )
            continue
        if rule == "x":
            return fail(f"Illegal '{OPTNAMES[j]}' option with the '{where}' {what}")
        if rule == "1":
            count += 1
            if count == 1:
                last = j
                continue
            return fail(
                f"The option '{OPTNAMES[j]}' conflicts with the '{OPTNAMES[last]}' "
                f"option in the '{where}' {what}"
            )
    return None


def generic_opt_check(cmd: Cmd, options: int) -> Failure | None:
    """ipvsadm.c `generic_opt_check`."""
    row = COMMANDS_V_OPTIONS[cmd - 1]
    return _walk(row, list(range(len(OPTNAMES))), options, "command", CMDNAMES[cmd - 1])


def tunnel_opt_check(tun_type: int, options: int) -> Failure | None:
    """ipvsadm.c `tunnel_opt_check` (tun_type: 0 ipip, 1 gue, 2 gre)."""
    row = TUNNEL_TYPES_V_OPTIONS[tun_type]
    return _walk(row, [int(c) for c in TUNOPTS], options, "tunnel type", TUNNAMES[tun_type])
