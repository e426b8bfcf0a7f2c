"""The one list of keywords pylvs reads and does not act on (issue 18 #5): each warns with the
kind UNSUPPORTED where it is written, and docs/unsupported.md is generated from the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.config.errors import Kind
from pylvs.config.keepalived.parser import load_text
from pylvs.config.keepalived.unsupported import UNSUPPORTED, Unsupported, markdown

DOC = Path(__file__).parents[4] / "docs" / "unsupported.md"

# Each section as a config with `@` where the keyword's line goes (line 3 in every one).
WRAP = {
    "global_defs": "global_defs {\n router_id x\n@\n}\n",
    "top level": "! top\n! level\n@\n",
    "vrrp_instance": "vrrp_instance VI {\n interface eth0\n@\n}\n",
    "vrrp_sync_group": "vrrp_sync_group G {\n group { VI }\n@\n}\n",
    "virtual_server": "virtual_server 10.0.0.1 80 {\n protocol TCP\n@\n}\n",
    "real_server": "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n@\n}\n}\n",
    "url": (
        "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n HTTP_GET {\n url {\n"
        " path /\n@\n}\n}\n}\n}\n"
    ),
}
LINE = {section: text[: text.index("@")].count("\n") + 1 for section, text in WRAP.items()}


def test_the_doc_is_generated_from_the_list() -> None:
    assert DOC.read_text() == markdown(), "run: python -m pylvs.config.keepalived.unsupported"


def test_every_section_of_the_list_can_be_tried() -> None:
    assert {u.section for u in UNSUPPORTED} <= set(WRAP)


@pytest.mark.parametrize("entry", UNSUPPORTED, ids=lambda u: f"{u.section}:{u.keyword}")
def test_each_keyword_warns_that_pylvs_does_not_do_it(entry: Unsupported) -> None:
    text = WRAP[entry.section].replace("@", f"{entry.keyword} 1 1")
    r = load_text(text, "u.conf", config_id="node")
    found = [p for p in r.problems if p.kind is Kind.UNSUPPORTED]
    assert [(p.loc.line, p.message) for p in found] == [
        (LINE[entry.section], f"pylvs does not do '{entry.keyword}': {entry.why} - ignoring")
    ]
