"""Pure values: virtual services, real servers, live counters, the service table and its diff."""

from typing import TYPE_CHECKING

from pylvs.model.dest import Destination
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    DEFAULT_PERSISTENCE_TIMEOUT,
    DEFAULT_SCHEDULER,
    Address,
    ForwardMethod,
    ModelError,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
    format_addr_port,
)

if TYPE_CHECKING:
    from pylvs.model.table import (
        AddDest,
        AddService,
        Change,
        DeleteDest,
        DeleteService,
        EditDest,
        EditService,
        ServiceEntry,
        ServiceTable,
        diff,
    )


# The service table and its diff (model/table.py) are read on first use (PEP 562): the
# commands that need them (ipvsadm, the daemon) get the same names, and `pylvs check` of a
# keepalived.conf, which imports this package for ServiceKey and Protocol, does not pay for
# the table's dataclasses at start-up (issue 18 #10).
def __getattr__(name: str) -> object:
    if name in __all__:  # only what is not bound yet comes here: the table's names
        from pylvs.model import table

        return getattr(table, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AF_INET",
    "AF_INET6",
    "DEFAULT_PERSISTENCE_TIMEOUT",
    "DEFAULT_SCHEDULER",
    "AddDest",
    "AddService",
    "Address",
    "Change",
    "DeleteDest",
    "DeleteService",
    "Destination",
    "EditDest",
    "EditService",
    "ForwardMethod",
    "ModelError",
    "Protocol",
    "RealServer",
    "ServiceEntry",
    "ServiceFlags",
    "ServiceKey",
    "ServiceTable",
    "TunnelCsum",
    "TunnelParams",
    "TunnelType",
    "VirtualService",
    "diff",
    "format_addr_port",
]
