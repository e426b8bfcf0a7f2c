"""Man pages and completion come from the argument parsers: every command, every option."""

from __future__ import annotations

import argparse

from pylvs.cli.main import COMMANDS, build_parser
from pylvs.packaging import completion, manpages
from pylvs.packaging.__main__ import unit


def all_options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_a_page_for_pylvs_and_every_command() -> None:
    pages = manpages.all_pages()
    assert set(pages) == {"pylvs.8", *(f"pylvs-{c}.8" for c in COMMANDS)}
    for name, page in pages.items():
        assert page.startswith(f'.TH "{name[:-2].upper().replace("-", chr(92) + "-")}" "8" ')
        assert ".SH NAME" in page and ".SH SYNOPSIS" in page and ".SH SEE ALSO" in page


def test_every_option_is_in_its_page_with_its_help() -> None:
    pages = manpages.all_pages()
    for name, parser in subparsers().items():
        if name == "ipvsadm":
            continue
        page = pages[f"pylvs-{name}.8"]
        for action in parser._actions:
            for opt in action.option_strings:
                assert f"\\fB{manpages.roff(opt)}\\fR" in page, (name, opt)
            if action.help and action.help != argparse.SUPPRESS and "%(" not in action.help:
                assert manpages.roff(action.help.split("\n")[0]) in page.replace("\n", " ")


def test_every_run_option_has_a_description() -> None:
    run = subparsers()["run"]
    for action in run._actions:
        assert action.help and len(action.help) > 8, action.option_strings


def test_ipvsadm_page_carries_ipvsadm_s_usage() -> None:
    page = manpages.all_pages()["pylvs-ipvsadm.8"]
    assert "pylvs ipvsadm \\-A|E virtual\\-service" in page
    assert "\\-\\-tcp\\-service|\\-t" in page


def test_roff_escapes() -> None:
    assert manpages.roff(".start\n'quote\na\\b") == "\\&.start\n\\&'quote\na\\eb"


def test_completion_words_cover_every_command_and_option() -> None:
    words = completion.command_words()
    assert set(words) == set(COMMANDS)
    for name, parser in subparsers().items():
        if name != "ipvsadm":
            assert set(all_options(parser)) <= set(words[name].options), name
    assert {"up", "fail", "heal", "down"} <= set(words["lab"].actions)
    assert words["run"].choices["--dataplane"] == ["ipvs", "nftables", "proxy"]
    assert {"-f", "--use-file", "-p", "-r", "-c", "--control"} <= set(words["run"].files)
    assert {"-A", "--add-service", "-L", "--tcp-service"} <= set(words["ipvsadm"].options)
    bash, zsh = completion.bash(), completion.zsh()
    assert "complete -F _pylvs pylvs" in bash and "--dont-release-vrrp" in bash
    assert zsh.startswith("#compdef pylvs") and "'--dataplane[]:value:(ipvs nftables proxy)'" in zsh


def test_unit_file_is_notify_with_reload_and_capabilities() -> None:
    text = unit("/opt/pylvs/bin")
    assert "ExecStart=/opt/pylvs/bin/pylvs run --dont-fork $DAEMON_ARGS" in text
    assert "\nType=notify\n" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
    caps = next(line for line in text.splitlines() if line.startswith("CapabilityBoundingSet="))
    assert set(caps.split("=", 1)[1].split()) == {
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID",
        "CAP_KILL", "CAP_SYS_MODULE",
    }  # fmt: skip
    assert "EnvironmentFile=-/etc/default/keepalived" in text
