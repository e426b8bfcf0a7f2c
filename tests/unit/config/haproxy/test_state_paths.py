"""Which server-state file each backend reads (`server-state-file`, `server-state-base`,
`load-server-state-from-file`, `server-state-file-name`), and their errors as haproxy -c
words them."""

from __future__ import annotations

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.state_paths import state_path

HEAD = """\
global
    server-state-base /var/lib/haproxy
    server-state-file global.state
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
"""


def files(text: str) -> dict[str, tuple[str | None, bool]]:
    result = load_text(HEAD + text, "h.cfg")
    assert result.ok, [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems).proxies
    return {b.name: (b.state_file, b.state_file_local) for b in spec.backends}


def test_global_local_none_and_the_default() -> None:
    got = files(
        "backend g\n    load-server-state-from-file global\n    server s 127.0.0.1:1\n"
        "backend l\n    load-server-state-from-file local\n    server s 127.0.0.1:1\n"
        "backend n\n    load-server-state-from-file local\n"
        "    server-state-file-name /abs/n.state\n    server s 127.0.0.1:1\n"
        "backend u\n    load-server-state-from-file local\n"
        "    server-state-file-name use-backend-name\n    server s 127.0.0.1:1\n"
        "backend d\n    server s 127.0.0.1:1\n"
        "backend x\n    load-server-state-from-file none\n    server s 127.0.0.1:1\n"
    )
    assert got == {
        "g": ("/var/lib/haproxy/global.state", False),
        "l": ("/var/lib/haproxy/l", True),
        "n": ("/abs/n.state", True),
        "u": ("/var/lib/haproxy/u", True),
        "d": (None, False),
        "x": (None, False),
    }


def test_paths_as_srv_state_get_filepath_builds_them() -> None:
    assert state_path("f", None) == "f"
    assert state_path("f", "/b/") == "/b/f"
    assert state_path("/abs", "/b") == "/abs"


def test_bad_words_are_haproxy_c_errors() -> None:
    result = load_text(
        HEAD + "backend b\n    load-server-state-from-file bogus\n"
        "    server-state-file-name a b\n    server s 127.0.0.1:1\n",
        "h.cfg",
    )
    messages = [(p.loc.line, p.message) for p in result.problems.errors]
    assert messages == [
        (10, "'load-server-state-from-file' expects 'global', 'local' or 'none'. Got 'bogus'"),
        (11, "'server-state-file-name' cannot handle unexpected argument 'b'."),
    ]
