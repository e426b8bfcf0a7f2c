"""Script-command rendering and path security (notify/scripts.py, keepalived core/notify.c)."""

import os
from pathlib import Path

from pylvs.notify.scripts import cmd_str, insecure_component, needs_shell


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
