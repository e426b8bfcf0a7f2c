"""keepalived.conf for the lab's directors: golden files, and what pylvs's own parser makes
of them (the VRRP instance and the IPVS table keepalived would program)."""

from pathlib import Path

import pytest

from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.parser import load
from pylvs.config.keepalived.table import to_table
from pylvs.lab.configs import keepalived_conf
from pylvs.lab.topology import LabOptions, Mode, plan
from pylvs.model.service import ForwardMethod, ServiceFlags

DATA = Path(__file__).parents[2] / "data" / "lab"
CASES = {
    "dr-seed": LabOptions(),
    "nat-v3-nopreempt": LabOptions(
        mode=Mode.NAT,
        vrrp_version=3,
        advert_int=0.5,
        nopreempt=True,
        persistence=60,
        weights=(3, 1),
    ),
    "dr-preempt-delay": LabOptions(
        real_servers=3,
        scheduler="rr",
        vrrp_version=3,
        advert_int=0.25,
        preempt_delay=2,
        weights=(1, 2, 0),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("index", [1, 2])
def test_golden(case: str, index: int) -> None:
    text = keepalived_conf(plan(CASES[case]), index)
    assert text == (DATA / f"{case}-dir{index}.conf").read_text()


def _load(tmp_path: Path, opts: LabOptions, index: int) -> KeepalivedConfig:
    path = tmp_path / f"dir{index}.conf"
    path.write_text(keepalived_conf(plan(opts), index))
    result = load(str(path))
    assert result.ok, [str(p) for p in result.problems]
    # Only the seed's deprecated spellings are warned about, nothing else.
    assert all("deprecated" in str(p) for p in result.problems)
    return result.config


def test_seed_pair_master_100_backup_99(tmp_path: Path) -> None:
    one = _load(tmp_path, LabOptions(), 1).vrrp.instances[0]
    two = _load(tmp_path, LabOptions(), 2).vrrp.instances[0]
    assert (one.state, one.priority, two.state, two.priority) == ("MASTER", 100, "BACKUP", 99)
    assert one.vrid == two.vrid == 51 and one.version == 2
    assert one.advert_int_us == 1_000_000
    assert one.authentication is not None
    assert [str(v.address) for v in one.virtual_ipaddresses] == ["10.164.122.8/32"]


def test_nopreempt_recipe_both_backup_nopreempt_on_the_higher(tmp_path: Path) -> None:
    opts = CASES["nat-v3-nopreempt"]
    one = _load(tmp_path, opts, 1).vrrp.instances[0]
    two = _load(tmp_path, opts, 2).vrrp.instances[0]
    assert (one.state, two.state) == ("BACKUP", "BACKUP")
    assert one.nopreempt and not two.nopreempt
    assert one.version == 3 and one.authentication is None  # RFC 5798 §9
    assert [(str(v.address), v.dev) for v in one.virtual_ipaddresses] == [
        ("10.164.122.8/32", None), ("10.164.123.1/24", "eth1"),
    ]  # fmt: skip


def test_preempt_delay_needs_state_backup(tmp_path: Path) -> None:
    one = _load(tmp_path, CASES["dr-preempt-delay"], 1).vrrp.instances[0]
    assert one.state == "BACKUP" and one.preempt_delay == 2.0 and not one.nopreempt
    assert one.advert_int_us == 250_000


@pytest.mark.parametrize(
    ("case", "method", "port", "weights", "persist"),
    [
        ("dr-seed", ForwardMethod.ROUTE, 80, [3, 3], 0),
        ("nat-v3-nopreempt", ForwardMethod.MASQ, 8080, [3, 1], 60),
        ("dr-preempt-delay", ForwardMethod.ROUTE, 80, [1, 2, 0], 0),
    ],
)
def test_table_keepalived_would_program(
    tmp_path: Path, case: str, method: ForwardMethod, port: int, weights: list[int], persist: int
) -> None:
    opts = CASES[case]
    table = to_table(_load(tmp_path, opts, 2))
    (entry,) = table.entries()
    assert str(entry.service.key) == "TCP 10.164.122.8:80"
    assert entry.service.scheduler == opts.scheduler
    assert entry.service.timeout == persist
    assert bool(entry.service.flags & ServiceFlags.PERSISTENT) == bool(persist)
    assert [d.weight for d in entry.dests] == weights
    assert {d.method for d in entry.dests} == {method}
    assert {d.port for d in entry.dests} == {port}


def test_only_two_directors() -> None:
    with pytest.raises(ValueError, match="index 1 or 2"):
        keepalived_conf(plan(LabOptions()), 3)
