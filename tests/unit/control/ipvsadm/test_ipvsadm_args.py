"""The command line: popt quirks, the command/option matrix and every message's exit status.

Expected texts are ipvsadm.c's format strings filled in by hand (fail() -> status 2,
tryhelp_exit(-1) -> 255, popt errors "<word>: <reason>" -> 255 without aborting -R).
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address

import pytest

from pylvs.control.ipvsadm import Failure, Fmt, ListWhat, Resolver, parse
from pylvs.control.ipvsadm import command as c
from pylvs.model import AF_INET6, ForwardMethod, Protocol, ServiceFlags, ServiceKey

TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"


def cmd(line: str, **kw: object) -> c.Command:
    out = parse(["ipvsadm", *line.split()], **kw)  # type: ignore[arg-type]
    assert not isinstance(out, Failure), out
    return out


def err(line: str) -> tuple[str, int]:
    out = parse(["ipvsadm", *line.split()])
    assert isinstance(out, Failure), out
    return out.text, out.exit_code


def test_no_arguments_lists_everything() -> None:
    assert parse(["ipvsadm"]) == c.List(ListWhat.ALL, Fmt.NONE)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("-Ln", c.List(ListWhat.ALL, Fmt.NUMERIC)),
        ("-lnc", c.List(ListWhat.CONNECTIONS, Fmt.NUMERIC)),
        ("-Lnc --persistent-conn", c.List(ListWhat.CONNECTIONS, Fmt.NUMERIC | Fmt.PERSISTENTCONN)),
        ("--list --numeric --stats --exact", c.List(fmt=Fmt.NUMERIC | Fmt.STATS | Fmt.EXACT)),
        ("-L --timeout", c.List(ListWhat.TIMEOUT)),
        ("-l --daemon", c.List(ListWhat.DAEMON)),
        ("-L --sort --nosort", c.List(fmt=Fmt.NOSORT)),
        ("-S -n", c.Save(Fmt.RULE | Fmt.NUMERIC)),
        ("-Z", c.Zero(None)),
        ("-C", c.Flush()),
        ("--set 10 20 30", c.SetTimeouts(10, 20, 30)),
        ("-v", c.Version()),
        ("-h --bogus", c.Help("ipvsadm")),
    ],
)
def test_commands(line: str, expected: c.Command) -> None:
    assert cmd(line) == expected


def test_list_one_service() -> None:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    assert cmd("-Ln -t 10.0.0.1:80") == c.List(ListWhat.SERVICE, Fmt.NUMERIC, key)


@pytest.mark.parametrize(
    ("line", "timeout", "sched"),
    [
        ("-A -t 1.1.1.1:80 -p", 360, "wlc"),
        ("-A -t 1.1.1.1:80 -p 60", 60, "wlc"),
        ("-A -t 1.1.1.1:80 --persistent=60", 60, "wlc"),
        ("-A -t 1.1.1.1:80 -p60", 60, "wlc"),
        ("-A -t 1.1.1.1:80 -p=60", 60, "wlc"),
        ("-A -t 1.1.1.1:80 -p -s rr", 360, "rr"),  # the next word starts with '-'
        ("-A -p -t 1.1.1.1:80", 360, "wlc"),
    ],
)
def test_persistent_takes_an_optional_argument(line: str, timeout: int, sched: str) -> None:
    out = cmd(line)
    assert isinstance(out, c.AddService)
    assert out.service.timeout == timeout
    assert out.service.scheduler == sched
    assert out.service.flags == ServiceFlags.PERSISTENT


def test_string_option_takes_the_next_word_even_with_a_dash() -> None:
    # -s is not optional, so it eats "-t"; the address is then a stray argument.
    assert err("-A -s -t 1.1.1.1:80") == ("unexpected argument 1.1.1.1:80\n", 2)


@pytest.mark.parametrize(
    ("line", "text", "code"),
    [
        ("-n -L", TRY, 255),  # the first option must be a command
        ("foo", TRY, 255),
        ("--bogus", TRY, 255),
        ("-A -E", "invalid option `-E'\n", 2),  # a second command
        ("-AE", "invalid option `-AE'\n", 2),
        ("-L -h", "invalid option `-h'\n", 2),
        ("-L --start-daemon master", "invalid option `master'\n", 2),
        ("-L --bogus", "--bogus: unknown option\n", 255),
        ("-Lq", "-Lq: unknown option\n", 255),
        ("-A -t", "-t: missing argument\n", 255),
        ("-L --numeric=1", "--numeric=1: option does not take an argument\n", 255),
        # popt 1.19: a short option keeps the "=" after it, so a flag given "=..." is refused
        # (and a command given one fails the first poptGetNextOpt: try-help)
        ("-L -n=1", "-n=1: option does not take an argument\n", 255),
        ("-L -c=x", "-c=x: option does not take an argument\n", 255),
        ("-Lnc=", "-Lnc=: option does not take an argument\n", 255),
        ("-L -6=1", "-6=1: option does not take an argument\n", 255),
        ("-a -t 1.2.3.4:80 -r 5.6.7.8 -m= -w 3", "-m=: option does not take an argument\n", 255),
        ("-L=x", TRY, 255),
        ("-A=x -t 1.2.3.4:80", TRY, 255),
        ("-C=", TRY, 255),
        ("-A -t 1.1.1.1:80 -s rr -s wlc", "multiple 'scheduler' options specified\n", 2),
        ("-L -n -n", "multiple 'numeric' options specified\n", 2),
        (
            "-A -s rr",
            "You need to supply the 'service-address' option for the 'add-service' command\n",
            2,
        ),
        (
            "-a -t 1.1.1.1:80",
            "You need to supply the 'real-server' option for the 'add-server' command\n",
            2,
        ),
        ("-A -t 1.1.1.1:80 -w 3", "Illegal 'weight' option with the 'add-service' command\n", 2),
        (
            "-D -t 1.1.1.1:80 -s rr -n",
            "Illegal 'numeric' option with the 'delete-service' command\n",
            2,
        ),
        ("-S -c", "Illegal 'connection' option with the 'save' command\n", 2),
        ("-C -n", "Illegal 'numeric' option with the 'flush' command\n", 2),
        ("-Z -n", "Illegal 'numeric' option with the 'zero' command\n", 2),
        ("--set 1 2 3 -n", "Illegal 'numeric' option with the 'set' command\n", 2),
        (
            "--stop-daemon master --mcast-interface eth0",
            "Illegal 'mcast-interface' option with the 'stop-daemon' command\n",
            2,
        ),
        (
            "-L -c -t 1.1.1.1:80",
            "The option 'service-address' conflicts with the 'connection' option in the"
            " 'list' command\n",
            2,
        ),
        (
            "-L --daemon --timeout",
            "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n",
            2,
        ),
        ("-L -c --stats", "options conflicts in the list command\n", 2),
        ("-L --daemon --persistent-conn", "options conflicts in the list command\n", 2),
        ("-A -t 12345", "illegal virtual server address[:port] specified\n", 2),
        ("-A -t [::1]", "illegal virtual server address[:port] specified\n", 2),
        ("-A -t 1.1.1.1:nosuchport", "illegal virtual server address[:port] specified\n", 2),
        ("-A -t no.such.host:80", "illegal virtual server address[:port] specified\n", 2),
        ("-a -t 1.1.1.1:80 -r 99", "illegal real server address[:port] specified\n", 2),
        ("-A -t 1.1.1.1", "Zero port specified for non-persistent service\n", 2),
        # inside brackets but not IPv6: the port after ']' is dropped
        ("-A -t [1.2.3.4]:80", "Zero port specified for non-persistent service\n", 2),
        ("-A -t 1.1.1.1:53 -o", "One-Packet Scheduling is only for UDP virtual services\n", 2),
        ("-A -t 1.1.1.1:80 -b sh-port", "incompatible scheduler flag `sh-port'\n", 2),
        ("-A -t 1.1.1.1:80 -s sh -b sh-port,mh-port", "incompatible scheduler flag `mh-port'\n", 2),
        ("-A -t 1.1.1.1:80 -b bogus", "invalid scheduler flag `bogus'\n", 2),
        ("-A -6 -f 1", "-6 used before -f\n\n", 2),
        ("-A -f 0", "invalid fwmark value `0' specified\n", 2),
        ("-A -f 4294967296", "invalid fwmark value `4294967296' specified\n", 2),
        ("-A -f 12x", "invalid fwmark value `12x' specified\n", 2),
        ("-A -t 1.1.1.1:80 -p 0", "invalid timeout value `0' specified\n", 2),
        ("-A -t 1.1.1.1:80 -p 2678401", "invalid timeout value `2678401' specified\n", 2),
        (
            "-A -t 1.1.1.1:80 -p -M bogus",
            "illegal virtual server persistent mask specified\n",
            2,
        ),
        ("-A -t [::1]:80 -p -M 129", "illegal ipv6 netmask specified\n", 2),
        ("-a -t 1.1.1.1:80 -r 2.2.2.2 -w 2147483648", "illegal weight specified\n", 2),
        ("-a -t 1.1.1.1:80 -r 2.2.2.2 -x -1", "illegal u_threshold specified\n", 2),
        ("-a -t 1.1.1.1:80 -r 2.2.2.2 -y 1x", "illegal l_threshold specified\n", 2),
        (
            "-a -t 1.1.1.1:80 -r [::2]:80 -m",
            "Different address family is allowed only for tunneling servers\n",
            2,
        ),
        (
            "-a -t 1.1.1.1:80 -r 2.2.2.2 -m --tun-type gue",
            "Tunnel options conflict with forward method\n",
            2,
        ),
        (
            "-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-port 80",
            "Illegal 'tun-port' option with the 'ipip' tunnel type\n",
            2,
        ),
        (
            "-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-type gue",
            "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
            2,
        ),
        (
            "-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-type gre --tun-nocsum --tun-csum",
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel"
            " type\n",
            2,
        ),
        ("-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-type vxlan", "illegal tunnel type specified\n", 2),
        ("-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-port 0", "illegal tunnel port specified\n", 2),
        ("--start-daemon foo", "illegal start-daemon parameter specified\n", 2),
        ("--stop-daemon foo", "illegal start_daemon specified\n", 2),
        ("--start-daemon master --syncid 256", "illegal syncid specified\n", 2),
        (
            "--start-daemon master --mcast-group 10.0.0.1",
            "invalid IPv4 mcast-group `10.0.0.1'\n",
            2,
        ),
        ("--start-daemon master --mcast-group ::1", "invalid IPv6 mcast-group `::1'\n", 2),
        ("--start-daemon master --mcast-port 0", "illegal mcast-port specified\n", 2),
        ("--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified\n", 2),
        ("--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified\n", 2),
        ("--set 10 20", "--set option requires 3 timeout values\n", 2),
        ("--set 10 x 30", "invalid timeout value `x' specified\n", 2),
        ("--set 10 20 30 40", "unexpected argument 40\n", 2),
        ("-L foo", "unexpected argument foo\n", 2),
        ("-L -- -n", "unexpected argument -n\n", 2),
    ],
)
def test_failures(line: str, text: str, code: int) -> None:
    assert err(line) == (text, code)


def test_popt_errors_do_not_abort_a_restore_but_fail_does() -> None:
    popt = parse(["ipvsadm", "-L", "--bogus"])
    failed = parse(["ipvsadm", "-L", "foo"])
    assert isinstance(popt, Failure) and isinstance(failed, Failure)
    assert (popt.aborts, failed.aborts) == (False, True)


def test_nested_restore_is_refused_only_when_reading_stdin() -> None:
    assert cmd("-R") == c.Restore()
    out = parse(["ipvsadm", "-R"], reading_stdin=True)
    assert isinstance(out, Failure) and out.text == TRY and out.exit_code == 255


def test_program_name_comes_from_argv0() -> None:
    out = parse(["/sbin/ipvsadm", "-n"])
    assert isinstance(out, Failure)
    assert out.text == "Try `/sbin/ipvsadm -h' or '/sbin/ipvsadm --help' for more information.\n"


def test_service_defaults_and_edit_sends_everything() -> None:
    out = cmd("-E -t 1.1.1.1:80")
    assert isinstance(out, c.EditService)
    assert out.service == c.ServiceArgs(ServiceKey.inet(Protocol.TCP, "1.1.1.1", 80), "wlc")
    flags = cmd("-A -u 1.1.1.1:53 -s sh -b sh-port,flag-3,sh-fallback -o -p 30 -M 255.255.0.0")
    assert isinstance(flags, c.AddService)
    sched = ServiceFlags.SCHED1 | ServiceFlags.SCHED2 | ServiceFlags.SCHED3
    assert flags.service.flags == sched | ServiceFlags.ONEPACKET | ServiceFlags.PERSISTENT
    assert flags.service.netmask == 0xFFFF0000 and flags.service.prefix() == 16


def test_addresses() -> None:
    out = cmd("-A -t 1.2:80")  # inet_aton: "1.2" is 1.0.0.2
    assert isinstance(out, c.AddService) and out.service.key.address == IPv4Address("1.0.0.2")
    v6 = cmd("-A -t ::1 -p")  # bare IPv6 has no port
    assert isinstance(v6, c.AddService)
    assert v6.service.key == ServiceKey.inet(Protocol.TCP, "::1", 0)
    assert v6.service.netmask == 128
    mark6 = cmd("-A -f 5 -6 -p -M 64")
    assert isinstance(mark6, c.AddService)
    assert mark6.service.key == ServiceKey.mark(5, AF_INET6) and mark6.service.netmask == 64


def test_names_come_from_the_resolver() -> None:
    r = Resolver(
        host_to_ipv4=lambda n: IPv4Address("10.9.8.7") if n == "www" else None,
        service_to_port=lambda n, p: 80 if (n, p) == ("http", "tcp") else None,
    )
    out = cmd("-A -t www:http", resolver=r)
    assert isinstance(out, c.AddService)
    assert out.service.key == ServiceKey.inet(Protocol.TCP, "10.9.8.7", 80)
    # a UDP service does not know the tcp name
    bad = parse(["ipvsadm", "-A", "-u", "www:http"], resolver=r)
    assert isinstance(bad, Failure) and bad.exit_code == 2


@pytest.mark.parametrize(
    ("line", "method", "port"),
    [
        ("-a -t 1.1.1.1:80 -r 10.0.0.2:8080 -m", ForwardMethod.MASQ, 8080),
        ("-a -t 1.1.1.1:80 -r 10.0.0.2 -m", ForwardMethod.MASQ, 80),
        ("-a -r 10.0.0.2 -t 1.1.1.1:80 -m", ForwardMethod.MASQ, 0),  # -r saw no port yet
        ("-a -t 1.1.1.1:80 -r 10.0.0.2:8080", ForwardMethod.ROUTE, 80),  # DR forces it
        ("-a -t 1.1.1.1:80 -r 10.0.0.2:8080 -i", ForwardMethod.TUNNEL, 80),
        ("-a -f 3 -r 10.0.0.2:8080 -g", ForwardMethod.ROUTE, 8080),  # not for fwmark
    ],
)
def test_dest_port_rules(line: str, method: ForwardMethod, port: int) -> None:
    out = cmd(line)
    assert isinstance(out, c.AddDest)
    assert (out.dest.method, out.dest.port, out.dest.weight) == (method, port, 1)


def test_edit_dest_defaults_and_tunnel_options() -> None:
    out = cmd("-e -t 1.1.1.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum")
    assert isinstance(out, c.EditDest)
    rs = out.dest.to_real_server()
    assert rs.weight == 1 and rs.tunnel is not None and rs.tunnel.port == 6080
    assert rs.tunnel.csum.value == "remcsum"


def test_delete_dest_keeps_the_given_port() -> None:
    out = cmd("-d -t 1.1.1.1:80 -r 10.0.0.2:8080")
    assert isinstance(out, c.DeleteDest)
    assert (out.dest.address, out.dest.port) == (ip_address("10.0.0.2"), 8080)


def test_daemon_options() -> None:
    out = cmd("--start-daemon backup --mcast-interface eth1 --syncid 10 --mcast-group ff02::81")
    assert out == c.StartDaemon(
        c.DaemonArgs("backup", "eth1", 10, mcast_group=ip_address("ff02::81"))
    )
    assert cmd("--start-daemon=master") == c.StartDaemon(c.DaemonArgs("master", "eth0"))
    assert cmd("--stop-daemon backup") == c.StopDaemon("backup")


def test_zero_one_service_or_all() -> None:
    assert cmd("-Z -u 1.1.1.1:53") == c.Zero(ServiceKey.inet(Protocol.UDP, "1.1.1.1", 53))
    assert cmd("-Z -t 0.0.0.0:0") == c.Zero(None)  # libipvs sends no service: zero all
