"""`pylvs lab up|status|curl|fail|heal|exec|down`: the seeds' LVS-DR + Keepalived cluster
(client, two directors, N web servers) in network namespaces on this machine (root).

See pylvs.lab: topology.py (the plan), commands.py (up / status / exec / down), operate.py
(curl / fail / heal).  Every sub-command takes `--id ID` (default "lab"; `$PYLVS_LAB_ID`) so
several labs can run side by side.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("lab", help="the seeds' cluster in network namespaces (root)")
    configure(p)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--id",
        dest="lab_id",
        default=os.environ.get("PYLVS_LAB_ID", "lab"),
        help="lab id, in its namespace names pylvs-ID-* (default %(default)s)",
    )
    sub = p.add_subparsers(dest="lab_command", metavar="ACTION")
    sub.required = True
    u = sub.add_parser("up", help="build the lab and start it")
    u.add_argument(
        "--mode",
        choices=["dr", "nat"],
        default="dr",
        help="forwarding method of the virtual service (default %(default)s)",
    )
    u.add_argument(
        "--real-servers",
        type=int,
        default=2,
        metavar="N",
        help="number of web servers (default %(default)s)",
    )
    u.add_argument(
        "--scheduler",
        default="wrr",
        metavar="NAME",
        help="lvs_sched of the virtual service (default %(default)s)",
    )
    u.add_argument(
        "--vrrp-version",
        type=int,
        choices=[2, 3],
        default=2,
        help="VRRP version of both directors (default %(default)s)",
    )
    u.add_argument("--advert-int", type=float, default=1.0, metavar="S",
                   help="advert_int in seconds (default %(default)s)")  # fmt: skip
    u.add_argument(
        "--nopreempt",
        action="store_true",
        help="seed 000's recipe: both BACKUP, nopreempt on the higher priority",
    )
    u.add_argument("--preempt-delay", type=float, default=0.0, metavar="S",
                   help="preempt_delay of the directors in seconds (default: none)")  # fmt: skip
    u.add_argument("--persistence", type=int, default=0, metavar="S",
                   help="persistence_timeout (default: none)")  # fmt: skip
    u.add_argument("--weights", default="", metavar="W1,W2,...",
                   help="real server weights (default 3 each, as seed 000)")  # fmt: skip
    u.add_argument("--sync", action="store_true",
                   help="connection sync between the directors (lvs_sync_daemon eth0 VI_1): "
                   "open connections survive a failover")  # fmt: skip
    u.add_argument("--dataplane", choices=["nftables", "ipvs"], default="nftables",
                   help="how the directors forward: nftables (any kernel) or ipvs (the "
                   "kernel's IPVS, as on a real director)")  # fmt: skip
    u.add_argument("--haproxy", action="store_true",
                   help="seed 004: keepalived.conf moves the VIP only, a haproxy.cfg balances "
                   "(pylvs run -f keepalived.conf -f haproxy.cfg on each director)")  # fmt: skip
    sub.add_parser("status", help="who is MASTER, each director's ipvsadm -Ln")
    c = sub.add_parser("curl", help="requests from the client through the VIP")
    c.add_argument("-n", type=int, default=10, help="number of requests (default %(default)s)")
    f = sub.add_parser("fail", help="break something: master | backup | dirN | rs N | link")
    f.add_argument("target", help="master, backup, dir1, dir2, rs (with N) or link")
    f.add_argument("arg", nargs="?", default="", metavar="N", help="the real server's number")
    f.add_argument("--how", choices=["crash", "kill", "stop"], default="crash",
                   help="crash: SIGKILL + links down (default); kill: SIGKILL only; "
                   "stop: SIGTERM (graceful, priority 0)")  # fmt: skip
    h = sub.add_parser("heal", help="mend it: master | backup | dirN | rs N | link | all")
    h.add_argument("target", help="master, backup, dir1, dir2, rs (with N), rsN, link or all")
    h.add_argument("arg", nargs="?", default="", metavar="N", help="the real server's number")
    e = sub.add_parser("exec", help="run a command in a node: exec NODE -- CMD")
    e.add_argument("node", help="client, dir1, dir2, rs1, ... (pylvs lab status)")
    e.add_argument("argv", nargs=argparse.REMAINDER, help="the command to run there")
    d = sub.add_parser("down", help="remove the lab (and leftovers of a crashed one)")
    d.add_argument("--all", action="store_true", help="every pylvs lab on this machine")


def _options(args: argparse.Namespace) -> Any:
    from pylvs.lab.topology import LabError, LabOptions, Mode
    from pylvs.sched.ipvs import names

    if args.scheduler not in names():
        raise LabError(f"unknown scheduler {args.scheduler!r} (one of {', '.join(names())})")
    try:
        weights = tuple(int(w) for w in args.weights.split(",")) if args.weights else ()
    except ValueError:
        raise LabError("--weights takes integers separated by commas, e.g. 3,1") from None
    return LabOptions(
        lab_id=args.lab_id,
        mode=Mode(args.mode),
        real_servers=args.real_servers,
        scheduler=args.scheduler,
        vrrp_version=args.vrrp_version,
        advert_int=args.advert_int,
        nopreempt=args.nopreempt,
        preempt_delay=args.preempt_delay,
        persistence=args.persistence,
        weights=weights,
        dataplane=args.dataplane,
        sync=args.sync,
        haproxy=args.haproxy,
    )


def run(args: argparse.Namespace) -> int:
    from pylvs.lab import commands, operate
    from pylvs.lab.netns import NetnsError
    from pylvs.lab.topology import LabError

    act = args.lab_command
    try:
        if act == "exec":
            argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            return commands.exec_in(args.lab_id, args.node, argv)
        if act == "up":
            commands.up(_options(args))
        elif act == "down":
            failed = commands.down_all() if args.all else commands.down(args.lab_id)
            return 1 if failed else 0
        elif act == "status":
            commands.status(args.lab_id)
        elif act == "curl":
            answers = operate.curl(args.lab_id, args.n)
            return 0 if all(answers) else 1
        elif act == "fail":
            operate.fail(args.lab_id, args.target, args.arg, args.how)
        elif act == "heal":
            operate.heal(args.lab_id, args.target, args.arg)
    except (LabError, NetnsError) as e:
        print(f"pylvs lab: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pylvs lab", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
