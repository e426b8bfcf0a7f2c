"""`pylvs lab fail|heal TARGET`: an unknown target is refused with the valid ones, before
anything is touched (issue 18 item 19: `fail rs1` killed the BACKUP director)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.lab import operate
from pylvs.lab.state import LabPaths, LabState
from pylvs.lab.topology import LabError, LabOptions


@pytest.fixture
def lab_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A lab's remembered state, without namespaces: nothing may be needed to refuse."""
    monkeypatch.setenv("PYLVS_LAB_DIR", str(tmp_path))
    LabState(LabOptions(lab_id="t", real_servers=3)).save(LabPaths("t"))
    return "t"


@pytest.mark.parametrize("target", ["rs1", "rs", "dir3", "masterr", "all", ""])
def test_fail_refuses_an_unknown_target_and_lists_the_valid_ones(
    lab_on_disk: str, target: str
) -> None:
    with pytest.raises(LabError) as e:
        operate.fail(lab_on_disk, target, "", out=lambda _line: None)
    text = str(e.value)
    assert f"cannot fail {target!r}" in text
    assert "master, backup, dir1, dir2, rs N (N = 1..3), link" in text
    if target == "rs1":
        assert "`rs 1`, with a space" in text
    state = LabState.load(LabPaths(lab_on_disk))
    assert state is not None and state.failed == {}  # nothing happened


def test_heal_knows_all_and_node_names_but_not_strangers(lab_on_disk: str) -> None:
    with pytest.raises(LabError) as e:
        operate.heal(lab_on_disk, "rs9", out=lambda _line: None)
    assert "cannot heal 'rs9'" in str(e.value) and "link, all" in str(e.value)


def test_valid_targets_pass() -> None:
    for target, arg in (("master", ""), ("backup", ""), ("dir2", ""), ("rs", "2"), ("link", "")):
        operate.check_target(target, arg, ["dir1", "dir2"], 2, healing=False)
    operate.check_target("rs2", "", ["dir1", "dir2"], 2, healing=True)
    operate.check_target("all", "", ["dir1", "dir2"], 2, healing=True)
