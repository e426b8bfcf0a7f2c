"""The format of a config text is told from its content (config/formats.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.config.formats import detect

ROOT = Path(__file__).parents[3]
SEEDS = ROOT.parent.parent / "shared" / "seeds" / "configs"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("global_defs {\n router_id x\n}\n", "keepalived"),
        ("virtual_server 10.0.0.1 80\n{\n}\n", "keepalived"),
        ("$X=1\n@node include /etc/k/*.conf\n", "keepalived"),
        ("global\n    daemon\ndefaults\n    mode tcp\nlisten l\n    bind :80\n", "haproxy"),
        ("# only\n! comments\n\n", "keepalived"),
        ("frontend fe\n bind :80\n use_backend be if { src 10.0.0.0/8 }\nbackend be\n", "haproxy"),
        ("", "keepalived"),
    ],
)
def test_detect(text: str, fmt: str) -> None:
    assert detect(text) == fmt


def test_the_repo_examples_and_the_seeds() -> None:
    assert detect((ROOT / "examples" / "keepalived.conf").read_text()) == "keepalived"
    seed = SEEDS / "seed004.haproxy.cfg"
    if seed.exists():
        assert detect(seed.read_text()) == "haproxy"
