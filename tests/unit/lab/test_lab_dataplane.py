"""`pylvs lab up --dataplane ipvs`: the directors run `pylvs run --dataplane ipvs` (no
--dr-interface: the kernel's IPVS needs none), the choice is kept in the lab's state."""

import pytest

from pylvs.lab import nodes
from pylvs.lab.state import LabPaths, LabState
from pylvs.lab.topology import LabError, LabOptions, Mode, plan


def argv(options: LabOptions) -> list[str]:
    topo = plan(options)
    return list(nodes.director_programs(topo, LabPaths("t"), "dir1")[0].argv)


def test_directors_run_the_chosen_plane() -> None:
    ipvs = argv(LabOptions(dataplane="ipvs"))
    assert ipvs[ipvs.index("--dataplane") + 1] == "ipvs" and "--dr-interface" not in ipvs
    nft = argv(LabOptions())
    assert nft[nft.index("--dataplane") + 1] == "nftables" and "--dr-interface" in nft
    nat = argv(LabOptions(dataplane="ipvs", mode=Mode.NAT))
    assert "--dr-interface" not in nat


def test_the_choice_is_checked_and_kept() -> None:
    with pytest.raises(LabError, match="--dataplane"):
        LabOptions(dataplane="proxy")
    state = LabState(LabOptions(dataplane="ipvs"), static_vip=False)
    assert LabState.from_json(state.to_json()).options.dataplane == "ipvs"


def test_patience_scales_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    assert nodes.patience(10.0) == 10.0
    monkeypatch.setenv("PYLVS_LAB_PATIENCE", "8")
    assert nodes.patience(10.0) == 80.0
    monkeypatch.setenv("PYLVS_LAB_PATIENCE", "fast")
    assert nodes.patience(10.0) == 10.0
