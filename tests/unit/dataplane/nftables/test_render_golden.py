"""Golden tests: the rendered ruleset of every scheduler and mode, byte for byte.

Expected files are tests/data/nftables/<scenario>.nft; PYLVS_REGEN_GOLDEN=1 rewrites them
(then read the diff: the files are the spec).  The netns tests load each one with `nft -c`.
"""

import os
from pathlib import Path

import pytest

from tests.unit.dataplane.nftables.scenarios import SCENARIOS, render_scenario

DATA = Path(__file__).resolve().parents[4] / "tests" / "data" / "nftables"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str) -> None:
    path = DATA / f"{name}.nft"
    text = render_scenario(name)
    if os.environ.get("PYLVS_REGEN_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
