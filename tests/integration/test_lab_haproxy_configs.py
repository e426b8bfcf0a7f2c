"""The lab's seed 004 files pass the real programs' own checks: `haproxy -c` on the
haproxy.cfg and `keepalived -t` on the VRRP-only keepalived.conf, for the option sets a learner
can ask for (the same files `pylvs run -f keepalived.conf -f haproxy.cfg` then runs)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from pylvs.lab.configs import haproxy_cfg, keepalived_conf
from pylvs.lab.topology import LabOptions, plan

CASES = [
    LabOptions(haproxy=True),
    LabOptions(haproxy=True, real_servers=3, persistence=300),
    LabOptions(haproxy=True, real_servers=2, weights=(3, 1), vrrp_version=3, advert_int=0.5),
]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (Debian package)")
@pytest.mark.parametrize("options", CASES, ids=lambda o: f"rs{o.real_servers}")
def test_haproxy_accepts_the_lab_haproxy_cfg(tmp_path: Path, options: LabOptions) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_cfg(plan(options), str(tmp_path / "stats.sock")))
    done = subprocess.run(
        ["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout


@pytest.mark.skipif(shutil.which("keepalived") is None, reason="needs keepalived")
@pytest.mark.parametrize("options", CASES, ids=lambda o: f"rs{o.real_servers}")
def test_keepalived_accepts_the_vrrp_only_conf(tmp_path: Path, options: LabOptions) -> None:
    conf = tmp_path / "keepalived.conf"
    text = keepalived_conf(plan(options), 1)
    assert "virtual_server" not in text and "vrrp_instance VI_1" in text
    conf.write_text(text)
    done = subprocess.run(
        ["keepalived", "-t", "-f", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
