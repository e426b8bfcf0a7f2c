"""Which data plane `pylvs run` uses, and building it.

Without `--dataplane` the choice is the one a director's owner would make: the kernel's own
IPVS when the kernel has it and pylvs runs as root (what keepalived drives), else nftables as
root (the kernel forwards without IPVS), else the user-space proxy (no root needed).  The
choice and its reason are logged (by `pylvs run`, once its logging is set up).
`--dataplane` forces one; a forced plane that cannot start says why and pylvs exits.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylvs.dataplane.base import DataPlane

PLANES = ("ipvs", "nftables", "proxy")


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    reason: str


def choose(requested: str | None, *, root: bool, has_ipvs: bool, has_nft: bool) -> Choice:
    """The plane to run and why (pure: the facts are arguments)."""
    if requested is not None:
        return Choice(requested, "--dataplane")
    if root and has_ipvs:
        return Choice("ipvs", "the kernel has IPVS and pylvs runs as root")
    if root and has_nft:
        return Choice("nftables", "running as root on a kernel without IPVS")
    if root:
        return Choice("proxy", "running as root, but the kernel has no IPVS and nft is missing")
    return Choice("proxy", "not running as root (the kernel planes need it)")


def make_plane(args: argparse.Namespace) -> DataPlane:
    """The plane `args` asks for (or the chosen one: `args.dataplane` and
    `args.dataplane_reason` say which and why, for the log once it is set up); OSError /
    RuntimeError if it cannot be had, with the reason."""
    requested = args.dataplane
    root = os.geteuid() == 0
    choice = choose(
        requested,
        root=root,
        has_ipvs=requested is None and root and _kernel_has_ipvs(),
        has_nft=requested is None and root and shutil.which("nft") is not None,
    )
    args.dataplane, args.dataplane_reason = choice.name, choice.reason
    if choice.name in ("nftables", "ipvs") and not root:
        raise PermissionError(f"the {choice.name} data plane needs root (use --dataplane proxy)")
    if choice.name == "ipvs":
        from pylvs.dataplane.ipvs import IpvsDataPlane

        return IpvsDataPlane()
    if choice.name == "nftables":
        from pylvs.dataplane.nftables import NftablesDataPlane

        return NftablesDataPlane(ingress=tuple(args.dr_interface))
    from pylvs.dataplane.proxy.plane import ProxyDataPlane

    return ProxyDataPlane()


def _kernel_has_ipvs() -> bool:
    from pylvs.dataplane.ipvs.genl import kernel_has_ipvs

    return kernel_has_ipvs()
