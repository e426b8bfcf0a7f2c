"""HAProxy's health checks on real sockets: the asyncio driver of proto/check.

driver.py   CheckDriver: the timer, each run's commands, the effects delivered
links.py    one run's TCP connection (connect, quick-ack, PROXY preface, reset/FIN)
"""

from pylvs.health.haproxy.driver import CheckDriver, EffectSink

__all__ = ["CheckDriver", "EffectSink"]
