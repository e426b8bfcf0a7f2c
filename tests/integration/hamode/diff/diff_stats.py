"""The stats socket in the differential runs: each proxy gets an admin socket, and after the
same traffic the same commands are sent to both; their answers are compared once what two
runs legitimately differ in is masked.

`show stat` is compared cell by cell (rows by proxy and server name, columns by the header
both print), less the columns of times and rates (qtime ... ttime and their maxima, rate*,
req_rate*, conn_rate*, lastchg, lastsess, last_chk, check_duration, downtime, pid), the
addresses (the rig's ports) and a frontend's smax (a connection the client closed may still
count when its next one is accepted); `show servers state` line by line, less the time since
the last change; `show table` as the entries' keys and data, less their expiry times.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.integration.hamode.hamode_helpers import stats_command

VARYING = frozenset(
    ["qtime", "ctime", "rtime", "ttime", "qtime_max", "ctime_max", "rtime_max", "ttime_max",
     "rate", "rate_max", "req_rate", "req_rate_max", "conn_rate", "conn_rate_max", "lastchg",
     "lastsess", "last_chk", "last_agt", "check_duration", "downtime", "pid", "addr"]
)  # fmt: skip


def with_socket(config: str, path: Path) -> str:
    """The configuration with an admin stats socket at `path` in its global section."""
    return config.replace("global\n", f"global\n    stats socket {path} level admin\n", 1)


def stat_cells(csv: str) -> dict[tuple[str, str], dict[str, str]]:
    """`show stat`'s rows by (pxname, svname), each cell by its column, VARYING left out."""
    lines = [line for line in csv.splitlines() if line]
    names = lines[0].lstrip("# ").split(",")
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for line in lines[1:]:
        cells = dict(zip(names, line.split(","), strict=False))
        key = (cells.get("pxname", ""), cells.get("svname", ""))
        rows[key] = {k: v for k, v in cells.items() if k not in VARYING and k != "-"}
        if key[1] == "FRONTEND":  # a closed connection's session may outlive the next
            rows[key].pop("smax", None)  # accept by a few microseconds on either side
    return rows


def stat_lines(csv: str, skip: tuple[str, ...] = ("test_probe",)) -> list[str]:
    """`show stat` as one line per cell, `PROXY/SERVER column=value`, for a readable diff."""
    out = []
    for (px, sv), cells in sorted(stat_cells(csv).items()):
        if px in skip:
            continue
        out += [f"{px}/{sv} {k}={v}" for k, v in cells.items()]
    return out


def servers_state_lines(text: str) -> list[str]:
    """`show servers state` less srv_time_since_last_change (its tenth column)."""
    out = []
    for line in text.splitlines():
        words = line.split(" ")
        if not line.startswith("#") and len(words) > 10:
            words[9] = "T"
        out.append(" ".join(words))
    return out


_EXP = re.compile(r" exp=\d+")


def table_lines(text: str) -> list[str]:
    """`show table NAME` less each entry's expiry time and pointer."""
    out = []
    for line in text.splitlines():
        out.append(re.sub(r"^0x[0-9a-f]+:", "PTR:", _EXP.sub(" exp=T", line)))
    return out


def wait_socket(sock: Path, seconds: float = 15.0) -> None:
    """Until the stats socket answers: a proxy may bind it after the listener that told
    the rig it was up (a loaded box shows the gap)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            stats_command(sock, "show info")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def ask(sock: Path, commands: list[str]) -> list[str]:
    """Each command's answer, masked by its kind, as lines headed by the command."""
    wait_socket(sock)
    out: list[str] = []
    for command in commands:
        answer = stats_command(sock, command)
        out.append(f"> {command}")
        if command.startswith("show stat"):
            out += stat_lines(answer)
        elif command.startswith("show servers state"):
            out += servers_state_lines(answer)
        elif command.startswith("show table"):
            out += table_lines(answer)
        else:
            out += answer.splitlines()
    return out
