"""The parameters of one VRRP instance state machine.

They are values of the director model (model/vrrp.py), so that every config format can build
them and the runtime can hold them without knowing the format; this module names them for the
protocol code.
"""

from pylvs.model.vrrp import TIMER_HZ, InstanceParams, Notifies

__all__ = ["TIMER_HZ", "InstanceParams", "Notifies"]
