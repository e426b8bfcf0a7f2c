"""Fuzz: no keepalived.conf, however mangled, makes the parser or `pylvs check` raise.

Inputs are random text, random keyword soup, and mutations of the seed configs (lines deleted,
duplicated, swapped, numbers changed, braces dropped).  Accepted outcomes: a config with or
without reported problems; never an exception, never an "internal error" problem.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.cli.main import main
from pylvs.config.keepalived.parser import load_text
from pylvs.config.keepalived.table import to_table

DATA = Path(__file__).resolve().parents[1] / "data" / "keepalived"
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((DATA / "seeds").glob("*.conf"))]
BROKEN = [p.read_text(encoding="utf-8") for p in sorted((DATA / "broken").glob("lvs-*.conf"))]
CORPUS = SEEDS + BROKEN
WORDS = [
    "virtual_server", "real_server", "virtual_server_group", "TCP_CHECK", "HTTP_GET", "url",
    "SMTP_CHECK", "host", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK", "FILE_CHECK", "BFD_CHECK",
    "SSL", "fwmark", "group", "lvs_sched", "lb_kind", "TUN", "type", "gue", "port", "protocol",
    "persistence_timeout", "quorum", "hysteresis", "weight", "sorry_server", "{", "}", "0",
    "10.0.0.1", "fe80::1", "10.0.0.1-5", "10.0.0.0/30", "80", "-1", "4294967296", '"a b"',
    "nb_get_retry", "alpha", "inhibit_on_failure", "ops", "sh-port", "lvs_method", "DR", "NAT",
    "status_code", "200-299", "path", "/", "digest", "misc_path", "payload", "require_reply",
    "XX", "global_defs", "vrrp_instance", "track_file", "include", "@node", "$X=1", "\n",
]  # fmt: skip
NUMBER = re.compile(r"\d+")
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(CORPUS)).splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "number", "brace", "word"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "number":
            new = str(draw(st.sampled_from([0, -1, 1, 65536, 2**32, 2**63, 99999999999])))
            lines[i] = NUMBER.sub(new, lines[i], count=1)
        elif op == "brace":
            lines[i] = lines[i].replace("{", "", 1).replace("}", "", 1)
        else:
            lines[i] += " " + draw(st.sampled_from(WORDS))
    return "\n".join(lines) + "\n"


soup = st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join)
texts = st.one_of(mutated(), soup, st.text(max_size=300))


def _no_internal_error(text: str) -> None:
    r = load_text(text, "fuzz.conf", config_id="node")
    assert not any("internal error" in p.message for p in r.problems), [str(p) for p in r.problems]
    to_table(r.config)  # the table of any accepted config can be built


@SETTINGS
@given(texts)
def test_load_text_never_raises(text: str) -> None:
    _no_internal_error(text)


@SETTINGS
@given(mutated())
def test_pylvs_check_main_never_raises(text: str) -> None:
    fd, name = tempfile.mkstemp(suffix=".conf")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["check", "-f", name, "--dump"])
        assert rc in (0, 4, 5, 6), err.getvalue()  # keepalived -t's statuses
        assert "internal error" not in err.getvalue()
    finally:
        os.unlink(name)
