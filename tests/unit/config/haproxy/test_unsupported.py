"""The one list of haproxy.cfg keywords pylvs reads and does not act on: each warns with the
kind UNSUPPORTED where it is written (and `--strict` fails), and docs/unsupported-haproxy.md is
generated from the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.config.errors import Kind
from pylvs.config.haproxy.checkmode import INVALID, exit_status
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.unsupported import BIND, SERVER, UNSUPPORTED, Unsupported, markdown

DOC = Path(__file__).parents[4] / "docs" / "unsupported-haproxy.md"
D = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
# each place, with `@` where the keyword goes: always on line 8
WRAP = {
    "global": "global\n#\n#\n#\n#\n#\n#\n @\n",
    "proxy": f"{D}#\nlisten l\n @\n server s 127.0.0.1:1\n",
    "server": f"{D}#\nbackend b\n server s 127.0.0.1:1 @\n",
    "bind": f"{D}#\nfrontend f\n bind :80 @\n",
    "section": "#\n#\n#\n#\n#\n#\n#\n@\n",
}
ARGS = {"section": "n", "tcp-ut": "1s", "clitcpka-idle": "1s", "srvtcpka-idle": "1s"}
ARGS["socks4"] = "127.0.0.1:1080"  # its address is checked (the health check may use it)
ARGS["filter"] = "trace"  # a filter HAProxy registers (filters.c refuses other names)


def test_the_doc_is_generated_from_the_list() -> None:
    assert DOC.read_text() == markdown(), "run: python -m pylvs.config.haproxy.unsupported"


@pytest.mark.parametrize("entry", UNSUPPORTED, ids=lambda u: f"{u.where}:{u.keyword}")
def test_each_keyword_warns_that_pylvs_does_not_do_it(entry: Unsupported) -> None:
    arity = (SERVER if entry.where == "server" else BIND).get(entry.keyword, (1, ""))[0]
    value = ARGS.get(entry.where, ARGS.get(entry.keyword, "1"))
    line = " ".join([entry.keyword, *[value] * (arity if entry.where in ("server", "bind") else 1)])
    r = load_text(WRAP[entry.where].replace("@", line), "u.cfg")
    found = [p for p in r.problems if p.kind is Kind.UNSUPPORTED]
    assert [p.loc.line for p in found] == [8], r.problems
    assert entry.why in found[0].message
    assert exit_status(r.problems, r.config, strict=True) == INVALID
