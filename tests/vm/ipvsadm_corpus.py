"""The command lines `pylvs ipvsadm` is compared on with the real ipvsadm (test_ipvsadm_compare).

`matrix_lines()`: one line per cell of ipvsadm's command/option table (14 commands x 34
options, pylvs's copy of ipvsadm.c `commands_v_options` only chooses the lines: the real
binary says what they do): the command, its compulsory options, and the option of the cell.
Cells where the option is illegal test the message; legal ones change the table, the same way
on both sides.

`SCENARIO`: a director's life and its mistakes, every option with its values: services of
every protocol and family, fwmark (IPv4 and IPv6), every scheduler and scheduler flag,
persistence with netmasks and engines, one-packet scheduling, every forwarding method, weights,
thresholds, the three tunnel types with their options, edits, deletions, --set, the sync
daemons, -Z, -R from standard input, every listing format, and the error cases (bad values,
conflicts, kernel refusals).

Each line is (argv, stdin).  `KNOWN` lists the lines where pylvs is known to answer otherwise,
and why; the test checks they still do (and says so when one is fixed).
"""

from __future__ import annotations

from pylvs.control.ipvsadm.matrix import COMMANDS_V_OPTIONS, Cmd, Optc

Line = tuple[tuple[str, ...], str]

CMD_WORDS: dict[Cmd, tuple[str, ...]] = {
    Cmd.ADD: ("-A",),
    Cmd.EDIT: ("-E",),
    Cmd.DEL: ("-D",),
    Cmd.FLUSH: ("-C",),
    Cmd.LIST: ("-L",),
    Cmd.ADDDEST: ("-a",),
    Cmd.DELDEST: ("-d",),
    Cmd.EDITDEST: ("-e",),
    Cmd.TIMEOUT: ("--set", "900", "120", "300"),
    Cmd.STARTDAEMON: ("--start-daemon", "master"),
    Cmd.STOPDAEMON: ("--stop-daemon", "master"),
    Cmd.RESTORE: ("-R",),
    Cmd.SAVE: ("-S",),
    Cmd.ZERO: ("-Z",),
}

OPT_ARGS: dict[Optc, tuple[str, ...]] = {
    Optc.NUMERIC: ("-n",),
    Optc.CONNECTION: ("-c",),
    Optc.SERVICE: ("-t", "10.2.0.1:80"),
    Optc.SCHEDULER: ("-s", "rr"),
    Optc.PERSISTENT: ("-p", "60"),
    Optc.NETMASK: ("-M", "255.255.255.0"),
    Optc.SERVER: ("-r", "10.2.1.1:80"),
    Optc.FORWARD: ("-m",),
    Optc.WEIGHT: ("-w", "2"),
    Optc.UTHRESHOLD: ("-x", "10"),
    Optc.LTHRESHOLD: ("-y", "5"),
    Optc.MCAST: ("--mcast-interface", "mc0"),
    Optc.TIMEOUT: ("--timeout",),
    Optc.DAEMON: ("--daemon",),
    Optc.STATS: ("--stats",),
    Optc.RATE: ("--rate",),
    Optc.THRESHOLDS: ("--thresholds",),
    Optc.PERSISTENTCONN: ("--persistent-conn",),
    Optc.NOSORT: ("--nosort",),
    Optc.SYNCID: ("--syncid", "3"),
    Optc.EXACT: ("--exact",),
    Optc.ONEPACKET: ("-o",),
    Optc.PERSISTENCE_ENGINE: ("--pe", "sip"),
    Optc.SCHED_FLAGS: ("-b", "flag-1"),
    Optc.MCAST_GROUP: ("--mcast-group", "224.0.0.88"),
    Optc.MCAST_PORT: ("--mcast-port", "8850"),
    Optc.MCAST_TTL: ("--mcast-ttl", "3"),
    Optc.SYNC_MAXLEN: ("--sync-maxlen", "1000"),
    Optc.TUN_INFO: ("--tun-info",),
    Optc.TUN_TYPE: ("--tun-type", "gue"),
    Optc.TUN_PORT: ("--tun-port", "6080"),
    Optc.TUN_NOCSUM: ("--tun-nocsum",),
    Optc.TUN_CSUM: ("--tun-csum",),
    Optc.TUN_REMCSUM: ("--tun-remcsum",),
}


def _args(cmd: Cmd, optc: Optc, cell: int) -> tuple[str, ...]:
    """The option's words; services and servers vary by cell so legal adds do add."""
    if optc is Optc.SERVICE and cmd in (Cmd.ADD, Cmd.EDIT, Cmd.DEL):
        return ("-t", f"10.2.0.{cell + 1}:80")
    if optc is Optc.SERVER:
        return ("-r", f"10.2.1.{cell + 1}:80")
    return OPT_ARGS[optc]


def matrix_lines() -> list[Line]:
    lines: list[Line] = []
    for cmd in Cmd:
        row = COMMANDS_V_OPTIONS[cmd - 1]
        required = [Optc(j) for j, rule in enumerate(row) if rule == "+"]
        for optc in Optc:
            argv = list(CMD_WORDS[cmd])
            for need in required:
                if need is not optc:
                    argv += _args(cmd, need, optc)
            argv += _args(cmd, optc, optc)
            lines.append((tuple(argv), ""))
    return lines


def _l(*argv: str, stdin: str = "") -> Line:
    return (argv, stdin)


RESTORE_INPUT = """\
# a saved table, as ipvsadm-save writes it
-A -t 10.4.0.1:80 -s wrr
-a -t 10.4.0.1:80 -r 10.4.1.1:80 -m -w 3
-a -t 10.4.0.1:80 -r 10.4.1.2:80 -m -w 1
-A -u 10.4.0.1:53 -s rr
-a -u 10.4.0.1:53 -r 10.4.1.1:53 -m
-A -t 10.4.0.1:80 -s wrr
-Ln
-a -t 10.4.0.9:80 -r 10.4.1.1:80
-E -t 10.4.0.1:80 -s nosuch
-A -t 10.4.0.2:80 -s rr -x 3
"""

SCENARIO: list[Line] = [
    _l("-C"),
    _l("--stop-daemon", "master"),
    _l("--stop-daemon", "backup"),
    _l("--set", "900", "120", "300"),
    _l(),
    _l("-Ln"),
    _l("-v"),
    _l("-h"),
    _l("--help"),
    # services: every protocol, family, scheduler and flag
    _l("-A", "-t", "10.3.0.1:80", "-s", "wrr"),
    _l("-A", "-t", "10.3.0.1:80", "-s", "wrr"),
    _l("-A", "-t", "10.3.0.2:http", "-s", "rr"),
    _l("-A", "-u", "10.3.0.3:53", "-s", "sh", "-b", "sh-port,sh-fallback"),
    _l("-A", "-u", "10.3.0.4:53", "-s", "mh", "-b", "mh-fallback,mh-port"),
    _l("-A", "-u", "10.3.0.5:53", "-s", "lc", "-b", "flag-1,flag-2,flag-3"),
    _l("-A", "-u", "10.3.0.6:53", "-s", "rr", "-b", "sh-port"),
    _l("-A", "-u", "10.3.0.6:53", "-s", "sh", "-b", "nosuch"),
    _l("-A", "--sctp-service", "10.3.0.7:3868", "-s", "fo"),
    _l("-A", "-t", "10.3.0.8:80", "-s", "lblc"),
    _l("-A", "-t", "10.3.0.9:80", "-s", "lblcr"),
    _l("-A", "-t", "10.3.0.10:80", "-s", "dh"),
    _l("-A", "-t", "10.3.0.11:80", "-s", "sed"),
    _l("-A", "-t", "10.3.0.12:80", "-s", "nq"),
    _l("-A", "-t", "10.3.0.13:80", "-s", "ovf"),
    _l("-A", "-t", "10.3.0.14:80", "-s", "wlc"),
    _l("-A", "-t", "10.3.0.15:80"),
    _l("-A", "-t", "10.3.0.16:80", "-s", "nosuch"),
    _l("-A", "-t", "10.3.0.16:80", "-s", "twos"),
    _l("-A", "-t", "10.3.0.16:80", "-s", "averyveryverylongschedulername"),
    _l("-A", "-t", "10.3.0.17:0", "-s", "rr"),
    _l("-A", "-t", "10.3.0.17:0", "-s", "rr", "-p"),
    _l("-A", "-t", "10.3.0.18:80", "-s", "rr", "-p", "60", "-M", "255.255.0.0"),
    _l("-A", "-t", "10.3.0.19:80", "-s", "rr", "-p", "-M", "255.0.255.0"),  # KNOWN
    _l("-D", "-t", "10.3.0.19:80"),
    _l("-A", "-t", "10.3.0.19:80", "-s", "rr", "-p", "0"),
    _l("-A", "-t", "10.3.0.19:80", "-s", "rr", "-p", "2678401"),
    _l("-A", "-u", "10.3.0.20:5060", "-s", "rr", "-p", "60", "--pe", "sip", "-o"),
    _l("-A", "-u", "10.3.0.21:5060", "-s", "rr", "--pe", "nosuch"),
    _l("-A", "-t", "10.3.0.22:80", "-s", "rr", "-o"),
    _l("-A", "-t", "[2001:db8::1]:443", "-s", "mh", "-p", "100", "-M", "64"),
    _l("-A", "-t", "[2001:db8::2]:443", "-s", "rr", "-M", "129"),
    _l("-A", "-t", "2001:db8::3", "-s", "rr"),
    _l("-A", "-f", "7", "-s", "rr", "-p", "600", "-M", "255.255.255.0"),
    _l("-A", "-f", "8", "-6", "-s", "sh", "-b", "sh-port", "-p", "-M", "96"),
    _l("-A", "-f", "9", "-o", "-s", "rr"),
    _l("-A", "-6", "-f", "10"),
    _l("-A", "-f", "0"),
    _l("-A", "-f", "4294967296"),
    _l("-A", "-t", "10.3.0.999:80"),
    _l("-A", "-t", "10.3.0.30:99999"),
    _l("-A", "-t", "10.3.0.30"),
    _l("-A", "-t", "12345"),
    _l("-A", "-t", "localhost:80", "-s", "rr"),
    _l("-A", "-t", "10.3.0.31:80", "-u", "10.3.0.31:53"),
    _l("-A", "-D", "-t", "10.3.0.31:80"),
    _l("-A", "-t", "10.3.0.31:80", "--bogus"),
    _l("-A", "-t", "10.3.0.31:80", "stray"),
    _l("-A", "-t", "10.3.0.31:80", "-s", "rr", "-s", "wrr"),
    # real servers: every forwarding method, weight, threshold and tunnel option
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.1:8080", "-m", "-w", "3", "-x", "100",
       "-y", "50"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.1:8080", "-m"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.2", "-g", "-w", "0"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.3:8080", "-g"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.4", "-i", "--tun-type", "gue",
       "--tun-port", "6080", "--tun-remcsum"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.5", "-i", "--tun-type", "gue",
       "--tun-port", "6081", "--tun-csum"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.6", "-i", "--tun-type", "gre",
       "--tun-csum"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.7", "-i", "--tun-type", "gre",
       "--tun-nocsum"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.8", "-i", "--tun-type", "ipip"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-i", "--tun-type", "gue"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-i", "--tun-type", "gre",
       "--tun-remcsum"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-i", "--tun-type", "ipip",
       "--tun-port", "5000"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-m", "--tun-type", "gue"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-i", "--tun-type", "vxlan"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-w", "-1"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.9", "-w", "2147483648"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.10", "-w", "2147483647"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.11", "-x", "5", "-y", "10"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.12", "-m", "-x", "2147483648"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "224.0.0.1"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "0.0.0.0"),
    _l("-a", "-t", "10.3.0.1:80", "-r", "2001:db8::9"),
    _l("-a", "-t", "10.3.0.2:80", "-r", "10.3.1.1", "-m"),
    _l("-a", "-t", "10.3.0.99:80", "-r", "10.3.1.1"),
    _l("-a", "-u", "10.3.0.3:53", "-r", "10.3.1.1", "-m"),
    _l("-a", "-u", "10.3.0.3:53", "-r", "10.3.1.2:5353", "-m", "-w", "2"),
    _l("-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::10]:8443", "-m", "-w", "70000"),
    _l("-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::11]", "-g"),
    _l("-a", "-t", "[2001:db8::1]:443", "-r", "10.3.1.1", "-m"),
    _l("-a", "-f", "7", "-r", "10.3.1.20", "-m"),
    _l("-a", "-f", "7", "-r", "10.3.1.21:8080", "-g"),
    _l("-a", "-f", "8", "-6", "-r", "[2001:db8::20]:80", "-m"),
    _l("-a", "--sctp-service", "10.3.0.7:3868", "-r", "10.3.1.30:3868", "-m"),
    # edits
    _l("-e", "-t", "10.3.0.1:80", "-r", "10.3.1.1:8080", "-m", "-w", "5", "-x", "0"),
    _l("-e", "-t", "10.3.0.1:80", "-r", "10.3.1.2", "-w", "1"),
    _l("-e", "-t", "10.3.0.1:80", "-r", "10.3.1.99"),
    _l("-e", "-t", "10.3.0.99:80", "-r", "10.3.1.1"),
    _l("-E", "-t", "10.3.0.1:80", "-s", "wlc", "-p", "300"),
    _l("-E", "-t", "10.3.0.18:80", "-s", "rr"),
    _l("-E", "-t", "10.3.0.99:80", "-s", "rr"),
    _l("-E", "-t", "10.3.0.2:80", "-s", "nosuch"),
    _l("-E", "-f", "7", "-s", "wrr", "-p", "600", "-M", "255.255.0.0"),
    # listings of the table as built
    _l("-L"),
    _l("-Ln"),
    _l("-l", "-n"),
    _l("-Ln", "--sort"),
    _l("-Ln", "--nosort"),
    _l("-Ln", "--thresholds"),
    _l("-Ln", "--persistent-conn"),
    _l("-Ln", "--tun-info"),
    _l("-L", "--tun-info"),
    _l("-Ln", "--stats"),
    _l("-Ln", "--rate"),
    _l("-Ln", "--stats", "--exact"),
    _l("-Ln", "--stats", "--rate"),
    _l("-Ln", "-t", "10.3.0.1:80"),
    _l("-L", "-t", "10.3.0.2:http"),
    _l("-Ln", "-f", "7"),
    _l("-Ln", "-f", "8", "-6"),
    _l("-Ln", "-t", "[2001:db8::1]:443", "--stats"),
    _l("-Ln", "-t", "10.3.0.99:80"),
    _l("-Ln", "-c"),
    _l("-Lnc", "--persistent-conn"),
    _l("-Ln", "-c", "--stats"),
    _l("-Ln", "--timeout", "--persistent-conn"),
    _l("-Ln", "--daemon", "--rate"),
    _l("-S"),
    _l("-S", "-n"),
    _l("-Sn", "--nosort"),
    _l("-L", "--timeout"),
    # timeouts
    _l("--set", "0", "30", "0"),
    _l("-L", "--timeout"),
    _l("--set", "100", "20"),
    _l("--set", "100", "20", "x"),
    _l("--set", "-1", "20", "30"),
    _l("--set", "800", "100", "200"),
    _l("-L", "--timeout"),
    # connection synchronisation
    _l("--start-daemon", "master", "--mcast-interface", "mc0", "--syncid", "5",
       "--sync-maxlen", "1200", "--mcast-group", "224.0.0.99", "--mcast-port", "8849",
       "--mcast-ttl", "2"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0"),
    _l("--start-daemon", "backup", "--mcast-interface", "mc0", "--mcast-group", "ff02::1:5"),
    _l("-L", "--daemon"),
    _l("--stop-daemon", "master"),
    _l("--stop-daemon", "master"),
    _l("--stop-daemon", "backup"),
    _l("--start-daemon", "backup"),
    _l("--start-daemon", "both", "--mcast-interface", "mc0"),
    _l("--stop-daemon", "both"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0", "--mcast-group", "10.1.1.1"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0", "--syncid", "256"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0", "--mcast-ttl", "0"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0", "--sync-maxlen", "70000"),
    _l("--start-daemon", "backup", "--mcast-interface", "mc0", "--syncid", "0"),
    _l("-L", "--daemon"),
    _l("--stop-daemon", "backup"),
    _l("-L", "--daemon"),
    # a tunnel server of the other family (after the daemons: the kernel then refuses them)
    _l("-a", "-t", "10.3.0.1:80", "-r", "2001:db8::9", "-i"),
    _l("-Ln", "-t", "10.3.0.1:80", "--tun-info"),
    _l("--start-daemon", "master", "--mcast-interface", "mc0"),
    _l("-d", "-t", "10.3.0.1:80", "-r", "2001:db8::9"),
    # counters, deletions
    _l("-Z", "-t", "10.3.0.1:80"),
    _l("-Z", "-t", "10.3.0.99:80"),
    _l("-Z", "-f", "7"),
    _l("-Z"),
    _l("-d", "-t", "10.3.0.1:80", "-r", "10.3.1.2"),
    _l("-d", "-t", "10.3.0.1:80", "-r", "10.3.1.2"),
    _l("-d", "-t", "10.3.0.99:80", "-r", "10.3.1.2"),
    _l("-d", "-t", "10.3.0.1:80", "-r", "10.3.1.3:8080"),
    _l("-D", "-u", "10.3.0.3:53"),
    _l("-D", "-u", "10.3.0.3:53"),
    _l("-D", "-f", "8", "-6"),
    _l("-D", "-t", "[2001:db8::1]:443"),
    _l("-Ln"),
    # restore from standard input
    _l("-R", stdin=RESTORE_INPUT),
    _l("-Sn"),
    _l("-R", stdin="-A -t 10.4.0.5:80\n-Q\n-A -t 10.4.0.6:80\n"),
    _l("-Sn"),
    _l("-C"),
    _l("-Ln"),
]  # fmt: skip

KNOWN: dict[tuple[str, ...], str] = {
    ("-A", "-t", "10.3.0.19:80", "-s", "rr", "-p", "-M", "255.0.255.0"): (
        "a persistence netmask that is not a prefix: pylvs's model keeps a prefix length, "
        "so pylvs ipvsadm refuses it (EINVAL) where the kernel takes it"
    ),
    ("-D", "-t", "10.3.0.19:80"): "the service of the line above is not in pylvs's table",
}
