"""`pylvs run`'s command line: keepalived 2.2.7's (`keepalived --help`), plus pylvs's own.

An existing /etc/default/keepalived `DAEMON_ARGS` carries over: every keepalived option is
accepted.  Those that mean something here do what keepalived's do; those about machinery pylvs
has not (SNMP, BFD, address monitoring) are accepted with a warning at start saying so, so a
service does not fail to start over them (docs/operators.md lists them).  keepalived's short
options combine (`-DlnP`) and its long ones take `=` (`--log-facility=local1`), as argparse's.
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"

DESCRIPTION = """\
Run the director: virtual services and health checks from keepalived.conf (virtual_server),
VRRP failover of the virtual addresses (vrrp_instance, as root), and the control socket that
`pylvs ipvsadm`, `pylvs status` and `pylvs reload` talk to.  The options are keepalived's;
SIGHUP reloads, SIGTERM stops, SIGUSR1 and SIGUSR2 write keepalived's data and statistics
dumps to $TMPDIR (default /tmp).  Without -n, and when no service manager runs it, the daemon
detaches and `pylvs run` returns once the table is applied (0) or the start failed (1)."""

# Options keepalived has and pylvs accepts without an effect, with the reason given at start.
UNSUPPORTED = {
    "address_monitoring": "-a/--address-monitoring: pylvs does not log every address change",
    "bfd_pid": "-b/--bfd_pid: pylvs has no BFD (bfd_instance is not implemented)",
    "snmp": "-x/--snmp: pylvs has no SNMP subsystem",
    "snmp_agent_socket": "-A/--snmp-agent-socket: pylvs has no SNMP subsystem",
    "all_config": "-e/--all-config: a missing included file stays a warning in pylvs (`pylvs "
    "check` lists them)",
}


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    _config_options(p)
    _process_options(p)
    _logging_options(p)
    _pid_options(p)
    _stop_options(p)
    _unsupported_options(p)
    _pylvs_options(p)


def _config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (keepalived's options)")
    g.add_argument(
        "-f", "--use-file", dest="configs", action="append", metavar="FILE",
        help=f"the keepalived.conf to run (default {DEFAULT_CONFIG}); given again, a "
        "haproxy.cfg to run beside it in the same daemon (its frontends and backends; "
        "several haproxy.cfg files are read as one, as haproxy -f A -f B does)",
    )  # fmt: skip
    g.add_argument(
        "-i", "--config-id", metavar="ID",
        help="skip configuration lines beginning @ that do not match ID (and @^ lines that "
        "do); default: the host name",
    )  # fmt: skip
    g.add_argument(
        "-t", "--config-test", nargs="?", const="-", default=None, metavar="LOG_FILE",
        help="check the configuration as `pylvs check` does and exit with its status; "
        "problems go to stderr, or to LOG_FILE (give it as --config-test=LOG_FILE)",
    )  # fmt: skip
    g.add_argument(
        "-d", "--dump-conf", action="store_true",
        help="log the configuration as read (the JSON of `pylvs check --dump`) at start",
    )  # fmt: skip


def _process_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what runs")
    only = g.add_mutually_exclusive_group()
    only.add_argument(
        "-P", "--vrrp", "--vrrp-only", dest="vrrp_only", action="store_true",
        help="run only VRRP (no virtual servers, no health checks)",
    )  # fmt: skip
    only.add_argument(
        "-C", "--check", "--checks-only", dest="checks_only", action="store_true",
        help="run only the virtual servers and their health checks (no VRRP)",
    )  # fmt: skip
    g.add_argument(
        "-n", "--dont-fork", action="store_true",
        help="stay in the foreground (the default under a service manager: $NOTIFY_SOCKET "
        "or $INVOCATION_ID set); otherwise the daemon detaches",
    )  # fmt: skip
    g.add_argument(
        "-B", "--no_bfd", action="store_true",
        help="do not run BFD (pylvs never does: accepted for keepalived's command lines)",
    )  # fmt: skip
    g.add_argument(
        "--all", action="store_true",
        help="run every part even without configuration for it (pylvs always does)",
    )  # fmt: skip
    g.add_argument(
        "-R", "--dont-respawn", action="store_true",
        help="do not respawn child processes (pylvs is one process: nothing to respawn)",
    )  # fmt: skip
    g.add_argument(
        "-u", "--umask", metavar="MASK",
        help="umask for the files pylvs creates, in numeric (octal) form",
    )  # fmt: skip
    g.add_argument(
        "-s", "--namespace", metavar="NAME",
        help="run in network namespace NAME (/run/netns/NAME, as `ip netns` makes them)",
    )  # fmt: skip
    g.add_argument(
        "-m", "--core-dump", action="store_true",
        help="allow a core dump (RLIMIT_CORE unlimited) if pylvs ends abnormally",
    )  # fmt: skip
    g.add_argument(
        "-M", "--core-dump-pattern", nargs="?", const="core", default=None, metavar="PATN",
        help="also set /proc/sys/kernel/core_pattern to PATN (default 'core') while running",
    )  # fmt: skip
    g.add_argument(
        "--signum", metavar="SIGFUNC",
        help="print the number of the signal for STOP, RELOAD, DATA, STATS, STATS_CLEAR or "
        "JSON and exit",
    )  # fmt: skip
    g.add_argument(
        "-T", "--genhash", action="store_true",
        help="genhash mode (keepalived -T): the rest of the command line is `pylvs genhash`'s",
    )  # fmt: skip
    g.add_argument("-v", "--version", action="store_true", help="print the version and exit")


def _logging_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("logging")
    g.add_argument(
        "-l", "--log-console", action="store_true",
        help="log to the console (stderr) only",
    )  # fmt: skip
    g.add_argument(
        "-D", "--log-detail", action="store_true",
        help="detailed log messages (the DEBUG level)",
    )  # fmt: skip
    g.add_argument(
        "-S", "--log-facility", metavar="FACILITY",
        help="syslog facility: 0-7 (LOG_LOCAL0-7), local0-local7, user or daemon (default); "
        "implies logging to syslog",
    )  # fmt: skip
    g.add_argument(
        "-G", "--no-syslog", action="store_true",
        help="do not log to syslog or the journal: stderr only",
    )  # fmt: skip
    g.add_argument(
        "--log-names", choices=["pylvs", "keepalived"], default="pylvs",
        help="process names in syslog and the journal: pylvs (default), or keepalived's "
        "Keepalived / Keepalived_vrrp / Keepalived_healthcheckers for existing log filters",
    )  # fmt: skip
    g.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default=None,
        help="least severe level logged (default INFO; DEBUG with -D)",
    )  # fmt: skip


def _pid_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pid files (refuse a second daemon; removed on exit)")
    g.add_argument(
        "-p", "--pid", "--pidfile", dest="pid", metavar="FILE",
        help="the daemon's pid file (default /run/keepalived.pid; "
        "$XDG_RUNTIME_DIR/keepalived.pid when not root)",
    )  # fmt: skip
    g.add_argument(
        "-r", "--vrrp_pid", metavar="FILE",
        help="pid file written while VRRP runs (default /run/keepalived_vrrp.pid)",
    )  # fmt: skip
    g.add_argument(
        "-c", "--checkers_pid", metavar="FILE",
        help="pid file written while the checkers run (default /run/keepalived_checkers.pid)",
    )  # fmt: skip


def _stop_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("on stop")
    g.add_argument(
        "-V", "--dont-release-vrrp", action="store_true",
        help="leave the VIPs, virtual routes and rules in place on stop (no priority-0 "
        "advert); the next start removes them",
    )  # fmt: skip
    g.add_argument(
        "-I", "--dont-release-ipvs", action="store_true",
        help="leave the kernel's forwarding table in place on stop (kernel data planes; the "
        "user-space proxy's forwarding ends with the process)",
    )  # fmt: skip
    g.add_argument(
        "-X", "--release-vips", action="store_true",
        help="drop the VIPs on every transition out of MASTER (pylvs always does)",
    )  # fmt: skip
    g.add_argument(
        "--grace", type=float, default=5.0, metavar="S",
        help="seconds live connections get on stop (default %(default)s)",
    )  # fmt: skip


def _unsupported_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "keepalived options pylvs accepts but does not implement (a warning at start)"
    )
    g.add_argument("-a", "--address-monitoring", action="store_true", help="(not implemented)")
    g.add_argument("-b", "--bfd_pid", metavar="FILE", help="(no BFD in pylvs)")
    g.add_argument("-x", "--snmp", action="store_true", help="(no SNMP in pylvs)")
    g.add_argument("-e", "--all-config", action="store_true", help="(see `pylvs check`)")
    g.add_argument("-A", "--snmp-agent-socket", metavar="FILE", help="(no SNMP in pylvs)")


def _pylvs_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pylvs's own")
    g.add_argument(
        "--control", metavar="PATH",
        help="control socket (default: $PYLVS_CONTROL, /run/pylvs/pylvs.sock as root, "
        "$XDG_RUNTIME_DIR/pylvs.sock otherwise)",
    )  # fmt: skip
    g.add_argument(
        "--dataplane", choices=["ipvs", "nftables", "proxy"], default=None,
        help="how traffic is forwarded: ipvs (the kernel's IPVS; root), nftables (the kernel "
        "forwards without IPVS; root) or proxy (user space, no root); default: the first of "
        "these the host allows, and the log says which and why",
    )  # fmt: skip
    g.add_argument(
        "--http", metavar="ADDR:PORT", type=http_address,
        help="serve metrics, the JSON API and the dashboard there (default: global_defs' "
        "pylvs_http, else nowhere); docs/web.md",
    )  # fmt: skip
    g.add_argument(
        "--http-users", metavar="FILE",
        help="basic-auth users for --http, one 'read|admin NAME SECRET' a line (default: "
        "anyone who reaches it reads, nobody writes)",
    )  # fmt: skip
    g.add_argument(
        "--events-log", metavar="FILE",
        help="append every event (health and VRRP transitions, reloads, operator commands) "
        "to FILE as JSON lines, for log shippers; `pylvs events` shows the recent ones",
    )  # fmt: skip
    g.add_argument(
        "--dr-interface", action="append", default=[], metavar="IFACE",
        help="nftables: interface(s) where DR traffic for the VIPs arrives (repeatable; "
        "default: the interfaces that reach the DR real servers)",
    )  # fmt: skip


def http_address(text: str) -> str:
    """--http's ADDR:PORT, checked as the listener reads it."""
    from pylvs.config.listen import parse_listen

    try:
        parse_listen(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def config_files(args: Any) -> None:
    """`args.config` (the first -f, or the default) and `args.more_configs` (the rest)."""
    given = list(getattr(args, "configs", None) or [])
    args.config = given[0] if given else DEFAULT_CONFIG
    args.more_configs = tuple(given[1:])


def unsupported_given(args: Any) -> list[str]:
    """Warnings for the keepalived options given that pylvs does not implement."""
    return [text for dest, text in UNSUPPORTED.items() if getattr(args, dest, None)]


def parse_umask(text: str) -> int:
    """keepalived -u: a number in C's strtol(.., 0) form (0NNN octal, 0xNN hex, NN)."""
    word = text.strip()
    base = 16 if word.lower().startswith("0x") else 8 if word.startswith("0") else 10
    try:
        value = int(word, base)
    except ValueError:
        raise ValueError(f"invalid umask {text!r}") from None
    if not 0 <= value <= 0o777:
        raise ValueError(f"invalid umask {text!r} (0 to 0777)")
    return value
