"""The kernel's IPVS as a data plane: `plane.IpvsDataPlane` programs it over generic netlink
(`genl`, `kernel`) and fills the shared runtimes from what it reads (`runtime`)."""

from pylvs.dataplane.ipvs.genl import IpvsUnavailableError, KernelError
from pylvs.dataplane.ipvs.plane import IpvsDataPlane

__all__ = ["IpvsDataPlane", "IpvsUnavailableError", "KernelError"]
