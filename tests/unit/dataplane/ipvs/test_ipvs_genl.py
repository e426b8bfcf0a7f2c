"""Finding the IPVS family: loaded when missing (modprobe, as ipvsadm does), and a clear
message when the kernel has none."""

import errno

import pytest

from pylvs.dataplane.ipvs import genl
from pylvs.dataplane.ipvs.genl import IpvsUnavailableError, KernelError, resolve
from pylvs.proto.netlink.ctrl import Family


class Controller:
    """A GenlSocket whose controller knows IPVS only after `modprobe ip_vs`."""

    def __init__(self) -> None:
        self.loaded = False

    def family(self, name: str) -> Family:
        if name == "IPVS" and self.loaded:
            return Family("IPVS", 0x21, 1, 6)
        raise KernelError(errno.ENOENT, "No such file or directory")


def test_ip_vs_is_loaded_when_the_family_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    ctl = Controller()
    loads: list[str] = []

    def modprobe(module: str) -> str:
        loads.append(module)
        ctl.loaded = True
        return ""

    monkeypatch.setattr(genl, "modprobe", modprobe)
    assert resolve(ctl) == 0x21  # type: ignore[arg-type]
    assert loads == ["ip_vs"]


def test_no_ipvs_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        genl, "modprobe", lambda m: f"modprobe: FATAL: Module {m} not found in directory /lib"
    )
    with pytest.raises(IpvsUnavailableError) as info:
        resolve(Controller())  # type: ignore[arg-type]
    text = str(info.value)
    assert "no IP Virtual Server" in text and "Module ip_vs not found" in text
    assert "--dataplane" in text
