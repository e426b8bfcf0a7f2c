"""`haproxy -dS` disables kernel splicing as `nosplice` in `global` does (haproxy.c clears
GTUNE_USE_SPLICE for both): the configuration read with the flag says so, and the notice
says what it did."""

from __future__ import annotations

from pathlib import Path

from pylvs.cli.haproxy_args import MACHINERY, parse
from pylvs.cli.haproxy_check import load
from pylvs.cli.haproxy_msgs import Messages

CFG = """\
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    option splice-response
listen li
    bind 127.0.0.1:8080
    server s 127.0.0.1:8081
"""


def test_ds_reads_as_nosplice(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(CFG)
    plain = load(parse(["-f", str(cfg)]), Messages(), {})
    assert not plain.config.global_.nosplice
    flagged = load(parse(["-dS", "-f", str(cfg)]), Messages(), {})
    assert flagged.config.global_.nosplice
    assert not flagged.problems.errors and not flagged.problems.warnings
    assert "splicing disabled" in MACHINERY["S"]


def test_the_running_process_reads_ds_as_nosplice_at_each_load(tmp_path: Path) -> None:
    """The runtime reads the files again at each reload: -dS goes with them, as -n does."""
    from pylvs.cli.haproxy_run import command_line_settings

    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(CFG)
    assert command_line_settings(parse(["-f", str(cfg)])) == []
    (extra,) = command_line_settings(parse(["-dS", "-n", "50", "-f", str(cfg)]))
    assert Path(extra).read_text() == "global\n    maxconn 50\n    nosplice\n"
    Path(extra).unlink()
