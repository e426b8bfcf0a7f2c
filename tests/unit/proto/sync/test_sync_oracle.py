"""pylvs's backup against the kernel's: the same datagrams, the same resulting table.

tests/data/sync/crafted.json holds hand-made messages (good and malformed) with what a kernel
6.1 backup showed after receiving them; *.pcap hold real master streams with the backup's
listings (*.backup.txt).  Each is replayed into a pylvs backup built from the kernel
backup's own `ipvsadm -Ln`, and the entries, states, expiries and real-server counters are
compared.  See tests/data/sync/README.md for how they were recorded.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from pylvs.proto.conntrack import Timeouts
from pylvs.proto.sync import Drop, Policy
from tests.unit.proto.sync.sync_oracle import Backup, conn_rows, kernel_counts, kernel_rows
from tests.unit.proto.sync.sync_pcap import DATA, datagrams

CRAFTED = json.loads((DATA / "crafted.json").read_text())
BACKUP_SET = Timeouts(500, 60, 200)  # crafted.BACKUP_SERVICES: ipvsadm --set 500 60 200
MASTER = ipaddress.ip_address("10.0.20.1")

# Where pylvs does not do what the kernel did, on purpose.
DIFFERENT = {
    # pylvs's planes run no persistence engine: records with pe data are refused
    "sip": Drop.PE_UNKNOWN,
}


def replay(case: dict[str, object], policy: Policy) -> Backup:
    backup = Backup(str(case["ln"]), BACKUP_SET, policy)
    datagrams = case["datagrams"]
    assert isinstance(datagrams, list)
    for i, hexdata in enumerate(datagrams):
        backup.receiver.datagram(bytes.fromhex(hexdata), MASTER, now=0.3 * i)
    return backup


@pytest.mark.parametrize("case", CRAFTED, ids=[c["name"] for c in CRAFTED])
def test_crafted_messages_leave_the_table_the_kernel_left(case: dict[str, object]) -> None:
    backup = replay(case, Policy(syncid=9))
    now = 0.3 * len(case["datagrams"]) + 0.5  # type: ignore[arg-type]
    kernel = kernel_rows(str(case["lnc"]))
    if case["name"] in DIFFERENT:
        assert backup.receiver.stats.drops[DIFFERENT[str(case["name"])]] >= 1
        assert backup.rows(now) == set()
        return
    assert backup.rows(now) == kernel
    assert backup.counts() == kernel_counts(str(case["ln"]), str(case["persistent"]))
    expiries = backup.expiries(now)
    for row in conn_rows(str(case["lnc"])):
        ours = expiries[(row.source, row.destination)]
        assert ours - 2 <= row.expires <= ours, (row, ours)


EXPECTED_DROPS = {
    "syncid": {Drop.SYNCID: 1},
    "size-lies": {Drop.BAD_SIZE: 1},
    "truncated": {Drop.BAD_SIZE: 1},
    "count-lies": {Drop.TOO_SMALL: 1},
    "protocol": {Drop.PROTOCOL: 1},
    "state": {Drop.STATE: 1},
    "udp-state": {Drop.STATE: 1},
    "record-version": {Drop.RECORD_VERSION: 1},
    "record-short": {Drop.RECORD_SHORT: 1},
    "record-type": {Drop.RECORD_TYPE: 1},
    "option-zero": {Drop.OPTION_LENGTH: 1},
    "option-overrun": {Drop.OPTION_LENGTH: 1},
    "option-mandatory": {Drop.MANDATORY_PARAM: 1},
    "seq-twice": {Drop.SEQ_OPTION: 1},
    "seq-length": {Drop.SEQ_OPTION: 1},
    "pe-without-name": {Drop.PE_PARAMS: 1},
    "pe-unknown": {Drop.PE_UNKNOWN: 1},
    "pe-name-long": {Drop.PE_NAME_OPTION: 1},
    "v6-short": {Drop.RECORD_SHORT: 1},
    "v0-count-lies": {Drop.V0_TRUNCATED: 1},
    "replace": {Drop.STALE: 1},
    "sip": {Drop.PE_UNKNOWN: 1},
    "template": {Drop.STATE: 1},
    "v0-template": {Drop.STATE: 1},
}


@pytest.mark.parametrize("case", CRAFTED, ids=[c["name"] for c in CRAFTED])
def test_every_refusal_is_counted_with_its_reason(case: dict[str, object]) -> None:
    backup = replay(case, Policy(syncid=9))
    drops = {k: v for k, v in backup.receiver.stats.drops.items() if v}
    assert drops == EXPECTED_DROPS.get(str(case["name"]), {})


# -- real master streams ---------------------------------------------------------------

SCENARIOS = sorted(p.stem for p in DATA.glob("*.pcap"))


def listing(name: str, title: str) -> str:
    text = (DATA / f"{name}.backup.txt").read_text()
    m = re.search(rf"^# {re.escape(title)} \(backup\)\n(.*?)(?=^# |\Z)", text, re.S | re.M)
    assert m, (name, title)
    return m.group(1)


@pytest.mark.parametrize("name", SCENARIOS)
def test_kernel_master_streams_install_as_on_the_kernel_backup(name: str) -> None:
    timeouts = BACKUP_SET if name.endswith("tcp4-nat") else Timeouts()
    backup = Backup(listing(name, "ipvsadm -Ln"), timeouts, Policy(syncid=9))
    sent = datagrams(f"{name}.pcap")
    start = sent[0].time
    for d in sent:
        backup.receiver.datagram(d.payload, d.src, now=d.time - start)
    now = sent[-1].time - start + 0.5
    lnc = listing(name, "ipvsadm -Lnc")
    if name == "v1-sip-pe":
        # the kernel takes the sip templates (its module is loaded); pylvs runs no engine
        sip = {r for r in kernel_rows(lnc) if r[2].endswith(":0")}
        assert backup.rows(now) == kernel_rows(lnc) - sip
        assert backup.receiver.stats.drops[Drop.PE_UNKNOWN] == 8
        return
    assert backup.rows(now) == kernel_rows(lnc)
    assert backup.counts() == kernel_counts(
        listing(name, "ipvsadm -Ln"), listing(name, "ipvsadm -Ln --persistent-conn")
    )
    assert sum(backup.receiver.stats.drops.values()) == 0
