"""Man pages for `pylvs` and each sub-command, written from the argument parsers themselves.

Nothing here is typed twice: the names, synopsis, descriptions, option groups, metavars,
choices and help texts are read from `pylvs.cli.main.build_parser()` (and `pylvs ipvsadm`'s
from ipvsadm's own usage text, control/ipvsadm/help.py), so a page cannot drift from the
command it documents.  The pages are section 8 (system administration), like keepalived(8)
and ipvsadm(8); roff as man(7) describes it.
"""

from __future__ import annotations

import argparse
import os
import time

from pylvs import __version__

SECTION = "8"
SEE_ALSO = "keepalived(8), keepalived.conf(5), ipvsadm(8), systemd.service(5)"


def roff(text: str) -> str:
    """Plain text as roff body text: backslashes, leading dots and quotes made literal."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in text.splitlines()
    )


def _date() -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else today."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH", "")
    when = int(stamp) if stamp.isdigit() and len(stamp) < 12 else int(time.time())
    return time.strftime("%Y-%m-%d", time.gmtime(when))


def usage_of(parser: argparse.ArgumentParser) -> str:
    """argparse's usage without its "usage: " (continuation lines dedented to match)."""
    lines = parser.format_usage().strip().splitlines()
    lead = len("usage: ")
    return "\n".join([lines[0][lead:], *(line[lead:] for line in lines[1:])])


def _header(name: str, summary: str) -> list[str]:
    title = name.upper().replace("-", "\\-")
    return [
        f'.TH "{title}" "{SECTION}" "{_date()}" "pylvs {__version__}" "System Administration"',
        ".SH NAME",
        f"{roff(name)} \\- {roff(summary)}",
    ]


def _option_item(action: argparse.Action) -> list[str]:
    names = ", ".join(f"\\fB{roff(s)}\\fR" for s in action.option_strings)
    if action.nargs == 0:
        arg = ""
    elif action.choices is not None:
        arg = " {" + ",".join(roff(str(c)) for c in action.choices) + "}"
    else:
        meta = action.metavar or action.dest.upper()
        arg = f" \\fI{roff(str(meta))}\\fR"
        if action.nargs == "?":
            arg = f" [{arg.strip()}]"
    help_text = (action.help or "").replace("%(default)s", str(action.default))
    return [".TP", names + arg, roff(help_text or "(no description)")]


def _positional_item(action: argparse.Action) -> list[str]:
    meta = action.metavar or action.dest
    return [".TP", f"\\fI{roff(str(meta))}\\fR", roff(action.help or "")]


def _sub_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """OPTIONS, one sub-section per argument group that has options."""
    out: list[str] = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)
        ]
        if not actions:
            continue
        title = group.title or "options"
        out.append(f'.SS "{roff(title)}"')
        for a in actions:
            out += _option_item(a) if a.option_strings else _positional_item(a)
    return [".SH OPTIONS", *out] if out else []


def command_page(name: str, parser: argparse.ArgumentParser, summary: str) -> str:
    """The page of one command (`pylvs run` -> pylvs-run(8))."""
    lines = _header(name.replace(" ", "-"), summary)
    lines += [".SH SYNOPSIS", ".nf", roff(usage_of(parser)), ".fi"]
    lines += [".SH DESCRIPTION", roff(parser.description or summary)]
    lines += _options(parser)
    sub = _sub_action(parser)
    if sub is not None:
        lines.append(".SH ACTIONS")
        helps = {a.dest: a.help or "" for a in sub._choices_actions}
        for action_name, sub_parser in sub.choices.items():
            lines += [f'.SS "{roff(action_name)}"', roff(helps.get(action_name, ""))]
            lines += [".PP", ".nf", roff(usage_of(sub_parser)), ".fi"]
            for a in sub_parser._actions:
                if isinstance(a, argparse._HelpAction) or a.help == argparse.SUPPRESS:
                    continue
                lines += _option_item(a) if a.option_strings else _positional_item(a)
    lines += [".SH SEE ALSO", roff(f"pylvs({SECTION}), {SEE_ALSO}")]
    return "\n".join(lines) + "\n"


def ipvsadm_page() -> str:
    """pylvs-ipvsadm(8): ipvsadm's own usage text (its command line is not argparse's)."""
    from pylvs.cli.ipvsadm import USAGE
    from pylvs.control.ipvsadm.help import usage

    lines = _header("pylvs-ipvsadm", "ipvsadm 1.31 against the running pylvs daemon")
    lines += [".SH SYNOPSIS", ".nf", roff(USAGE), ".fi", ".SH DESCRIPTION"]
    lines.append(
        roff(
            "Everything after `ipvsadm' is ipvsadm's own command line: the same options, "
            "messages, exit codes and output as ipvsadm 1.31 against the kernel, here against "
            "the table of the pylvs daemon that listens on the control socket (--control "
            "PATH, else $PYLVS_CONTROL, /run/pylvs/pylvs.sock as root, "
            "$XDG_RUNTIME_DIR/pylvs.sock otherwise).  -h and -v are answered without a daemon."
        )
    )
    lines += [".SH OPTIONS", ".nf", roff(usage("pylvs ipvsadm")), ".fi"]
    lines += [".SH SEE ALSO", roff(f"pylvs({SECTION}), {SEE_ALSO}")]
    return "\n".join(lines) + "\n"


def all_pages() -> dict[str, str]:
    """File name -> page, for `pylvs` and every sub-command."""
    from pylvs.cli.main import build_parser

    top = build_parser()
    sub = _sub_action(top)
    assert sub is not None
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    pages: dict[str, str] = {}
    lines = _header("pylvs", top.description or "")
    lines += [".SH SYNOPSIS", ".nf", roff(usage_of(top)), ".fi"]
    lines += [".SH DESCRIPTION", roff(top.description or ""), ".SH COMMANDS"]
    for name in sub.choices:
        text = f"{helps.get(name, '')}; see pylvs-{name}({SECTION})."
        lines += [".TP", f"\\fBpylvs {roff(name)}\\fR", roff(text)]
    lines += [".SH SEE ALSO", roff(", ".join(f"pylvs-{n}({SECTION})" for n in sub.choices))]
    pages[f"pylvs.{SECTION}"] = "\n".join(lines) + "\n"
    for name, parser in sub.choices.items():
        if name == "ipvsadm":
            pages[f"pylvs-ipvsadm.{SECTION}"] = ipvsadm_page()
        else:
            pages[f"pylvs-{name}.{SECTION}"] = command_page(f"pylvs {name}", parser, helps[name])
    return pages
