"""`get var` / `set var` on the stats socket: the answers the real haproxy 2.6 gave to the
same commands over its socket (captured with socat, the configuration's proc. variables set
by its global section)."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.compile_rules import set_var_compiler
from pylvs.control.haproxy.context import CliState, Context
from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime
from pylvs.control.haproxy.session import CliSession
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.types import STR, Smp


def _session() -> CliSession:
    rt = FakeRuntime([FakeProxy("be", "backend")], clock=lambda: 1000.0)
    rt.set_var_compiler = set_var_compiler(PatternStore())
    rt.process.vars.set("str", Smp(STR, b"a\tb"))
    rt.process.vars.create_permanent("later")  # named by a rule, never set
    return CliSession(Context(rt, CliState()))


def ask(s: CliSession, line: str) -> bytes:
    return s.feed(line.encode() + b"\n")


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("get var proc.str", b"proc.str: type=str value=<a.b>\n"),
        ("get var proc.later", b"Variable not found.\n\n"),
        ("get var proc.nosuch", b"Variable not found.\n\n"),
        ("get var txn.x", b"Variable not found.\n\n"),
        ("get var", b"Missing process-wide variable identifier.\n\n"),
        ("set var proc.x int(3)", b"This command is restricted to experimental mode only.\n\n"),
        (
            "experimental-mode on; set var txn.x int(1)",
            b"\n'set var': cannot set variable 'txn.x', only scope 'proc' is permitted here.\n",
        ),
        (
            "experimental-mode on; set var proc.x bogus int(1)",
            b"\n'set var': arg type must be either 'expr' or 'fmt' but got 'bogus'.\n",
        ),
        (
            "experimental-mode on; set var proc.x",
            b"\nMissing either 'expr', 'fmt' or expression.\n\n",
        ),
        ("experimental-mode on; set var proc.x nosuch(1)", b"\nunknown fetch method 'nosuch'\n"),
        (
            "experimental-mode on; set var proc.x fmt %[int(4)]-y; get var proc.x",
            b"\n\nproc.x: type=str value=<4-y>\n",
        ),
        (
            "experimental-mode on; set var proc.b bin(41004243); get var proc.b",
            b"\n\nproc.b: type=bin value=<A>\n",
        ),
        (
            "experimental-mode on; set var proc.i ipv4(1.2.3.4); get var proc.i",
            b"\n\nproc.i: type=ipv4 value=<1.2.3.4>\n",
        ),
    ],
)
def test_answers_as_haproxy_gives_them(command: str, answer: bytes) -> None:
    assert ask(_session(), command) == answer


def test_set_var_reads_the_variable_it_replaces() -> None:
    """vars.vtc: `set var proc.str fmt %[var(proc.str),regsub(ing,ed)]` after setting it."""
    s = _session()
    assert ask(s, "experimental-mode on; set var proc.str str(updating)") == b"\n\n"
    s = _session_of(s)
    line = "experimental-mode on; set var proc.str fmt %[var(proc.str),regsub(ing,ed)]"
    assert ask(s, line) == b"\n\n"
    assert ask(_session_of(s), "get var proc.str") == b"proc.str: type=str value=<updated>\n"


def _session_of(s: CliSession) -> CliSession:
    """A new connection to the same runtime (each of these ends after its line)."""
    return CliSession(Context(s.ctx.runtime, CliState()))


def test_help_lists_set_var_only_in_experimental_mode() -> None:
    line = b"set var <name> [fmt|expr] {<fmt>|<expr>}: set variable from an expression"
    assert line not in ask(_session(), "help")
    assert line in ask(_session(), "experimental-mode on; help")
