"""`pylvs check` warns about a real server that is a virtual server's own address (issue 18:
through the proxy its connections loop until descriptors run out)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONF = """\
virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        weight 1
    }
    real_server 10.0.0.1 80 {
        weight 1
    }
}
virtual_server 0.0.0.0 8080 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 8080 {
        weight 1
    }
}
"""


def check(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylvs", "check", "-f", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_real_server_at_the_virtual_address_is_warned_about_where_it_is(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONF)
    r = check(conf)
    assert r.returncode == 0, r.stderr  # pylvs's own warning: keepalived -t says nothing
    lines = [line for line in r.stderr.splitlines() if "loop back" in line]
    assert lines == [
        f"{conf}:8:5: warning: real server 10.0.0.1:80 is the address of virtual server "
        "TCP 10.0.0.1:80: its connections would loop back to the director (the proxy data "
        "plane refuses them)",
        f"{conf}:16:5: warning: real server 127.0.0.1:8080 is the address of virtual server "
        "TCP 0.0.0.0:8080: its connections would loop back to the director (the proxy data "
        "plane refuses them)",
    ]
    assert check(conf, "--strict").returncode == 5  # KEEPALIVED_CHK_EXIT_CONFIG_TEST
