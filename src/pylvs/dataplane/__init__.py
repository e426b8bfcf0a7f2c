"""Data planes: the interface the engine drives (base), the in-memory fake and the proxy.

`base.DataPlane` is the interface, `service.ServiceRuntime` one service at run time,
`fake.FakeDataPlane` the fake, `proxy.ProxyDataPlane` the asyncio user-space proxy.
"""

from pylvs.dataplane.base import DataPlane, DataPlaneError, DataPlaneState
from pylvs.dataplane.service import ServiceRuntime

__all__ = ["DataPlane", "DataPlaneError", "DataPlaneState", "ServiceRuntime"]
