"""The DataPlane sync hooks for a plane whose sync daemons are pylvs's own (proxy, nftables).

`ipvsadm --start-daemon` / `--stop-daemon` and keepalived's `lvs_sync_daemon` reach a plane
through `DataPlane.start_sync_daemon` / `stop_sync_daemon`; the kernel's IPVS plane hands them
to the kernel, these planes to a `pylvs.sync.runner.SyncRunner`.  Its refusals (the kernel's,
in ipvsadm's words) become DataPlaneError, which `pylvs ipvsadm` prints as ipvsadm does.
"""

from __future__ import annotations

from pylvs.dataplane.base import DataPlaneError
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.sync.runner import SyncRefusedError, SyncRunner


def start(runner: SyncRunner, daemon: SyncDaemon) -> None:
    try:
        runner.start(daemon)
    except SyncRefusedError as e:
        raise DataPlaneError(str(e)) from None


def stop(runner: SyncRunner, state: SyncState) -> None:
    try:
        runner.stop(state)
    except SyncRefusedError as e:
        raise DataPlaneError(str(e)) from None
