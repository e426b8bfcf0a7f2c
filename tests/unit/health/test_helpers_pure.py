"""Script-command rendering, path security, warmup jitter and the status view."""

import os
import random
from pathlib import Path

from health_helpers import config

from pylvs.health.notify import cmd_str, insecure_component, needs_shell
from pylvs.health.runner import first_delay
from pylvs.health.status import CheckerView, RsView, VsView, render


def test_cmd_str_quotes_arguments_but_keeps_a_redirection() -> None:
    assert cmd_str(["/bin/echo", "a b", "c"]) == "/bin/echo 'a b' c"
    assert cmd_str(["</etc/passwd"]) == "</etc/passwd"


def test_needs_shell_only_without_shebang_or_for_redirections(tmp_path: Path) -> None:
    with_bang = tmp_path / "a.sh"
    with_bang.write_text("#!/bin/sh\nexit 0\n")
    bare = tmp_path / "b.sh"
    bare.write_text("exit 0\n")
    assert not needs_shell(str(with_bang), str(with_bang))
    assert needs_shell(str(bare), str(bare))
    assert needs_shell("/nonexistent", "<" + "/etc/passwd")


def test_insecure_component_finds_a_world_writable_file(tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    if os.geteuid() == 0 and insecure_component(str(tmp_path)) is None:
        assert insecure_component(str(script)) is None
        script.chmod(0o757)
        assert insecure_component(str(script)) == str(script)


def test_warmup_jitter_is_a_share_of_warmup_after_bootstrap() -> None:
    cfg = config(
        """
        virtual_server 10.0.0.1 80 {
          protocol TCP
          lvs_method NAT
          delay_loop 10
          warmup 4
          real_server 127.0.0.1 80 {
            TCP_CHECK {
              connect_timeout 1
            }
          }
        }
        """
    )
    check = cfg.virtual_servers[0].real_servers[0].checkers[0]
    share = random.Random(7).random()
    assert first_delay(check, random.Random(7), 1.0) == 1.0 + 4.0 * share


def test_status_render() -> None:
    text = render(
        [VsView("[10.0.0.1]:tcp:80", True, False)],
        [
            RsView(
                "[10.0.0.1]:tcp:80",
                "[127.0.0.1]:tcp:81",
                False,
                0,
                False,
                (CheckerView("TCP_CHECK", "127.0.0.1:81", False, False, "connect: refused", None),),
            )
        ],
    )
    assert text == (
        "VS [10.0.0.1]:tcp:80: quorum UP\n"
        "  RS [127.0.0.1]:tcp:81: DOWN, weight 0, not in table\n"
        "    TCP_CHECK 127.0.0.1:81: DOWN, last failure at never: connect: refused\n"
    )
