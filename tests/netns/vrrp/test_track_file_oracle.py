"""Oracle: the value pylvs reads from a track_file is the value the real keepalived 2.2.7 reads.

One keepalived runs in a namespace with one vrrp_instance per file content, each tracking its
own file with weight 1 at priority 100, so the instance's effective priority is 100 plus the
value keepalived took from the file (0 when it ignored it: nothing was read before).  keepalived
writes its instances' effective priorities to $TMPDIR/keepalived.data on SIGUSR1
(vrrp/vrrp_print.c "Effective priority = N"); pylvs's `system.trackfile.read` must give the same
values for the same files.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from pylvs.system import trackfile
from tests.netns.vrrp.conftest import Lab

pytestmark = pytest.mark.root

CONTENTS = [
    "0x10\n",
    "010\n",
    "  -5 volts\n",
    "12abc\n",
    "abc\n",
    "0x\n",
    "+7\n",
    "08\n",
    "2147483649\n",
    "\n",
]


def _config(files: list[Path]) -> str:
    out = ["global_defs {\n    script_user root\n    enable_script_security\n}\n"]
    for n, f in enumerate(files, 1):
        out.append(f'track_file tf{n} {{\n    file "{f}"\n    weight 1\n}}\n')
    for n in range(1, len(files) + 1):
        out.append(
            f"vrrp_instance VI_{n} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {n}\n    priority 100\n    advert_int 1\n"
            f"    track_file {{\n        tf{n}\n    }}\n"
            f"    virtual_ipaddress {{\n        10.77.1.{n}/32\n    }}\n}}\n"
        )
    return "".join(out)


def _effective(data: str) -> dict[str, int]:
    found: dict[str, int] = {}
    name = ""
    for line in data.splitlines():
        m = re.match(r"\s*VRRP Instance = (\S+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"\s*Effective priority = (-?\d+)", line)
        if m and name:
            found[name] = int(m.group(1))
    return found


def test_keepalived_reads_track_files_as_pylvs_does(
    lab: Lab, need_keepalived: None, tmp_path: Path
) -> None:
    node = lab.node("a")
    files = []
    for n, text in enumerate(CONTENTS, 1):
        f = tmp_path / f"track{n}"
        f.write_text(text)
        files.append(f)
    conf = node.write("keepalived.conf", _config(files))
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    pid, vpid = tmp_path / "ka.pid", tmp_path / "ka-vrrp.pid"
    argv = ["env", f"TMPDIR={dumps}", "keepalived", "-n", "-l", "-D", "-P", "-f", str(conf)]
    proc = node.spawn([*argv, "-p", str(pid), "-r", str(vpid)], "keepalived", (vpid, pid))
    data_file = dumps / "keepalived.data"

    # keepalived truncates and rewrites the file on every SIGUSR1: a read can land in the
    # middle of a write (it did once under CI's load), so a dump counts once it names every
    # instance and two reads 0.3 s apart, with no signal between them, agree.
    keepalived: dict[str, int] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not pid.exists():
            time.sleep(0.3)
            continue
        proc.signal(signal.SIGUSR1)
        time.sleep(0.3)
        first = data_file.read_text() if data_file.exists() else ""
        time.sleep(0.3)
        again = data_file.read_text() if data_file.exists() else ""
        keepalived = _effective(again)
        if first == again and len(keepalived) == len(files):
            break
    assert len(keepalived) == len(files), (keepalived, proc.text())
    for n, f in enumerate(files, 1):
        value = trackfile.read(str(f))
        expected = 100 + (value or 0)  # an ignored value leaves the initial 0
        assert keepalived[f"VI_{n}"] == expected, (CONTENTS[n - 1], keepalived, value)
