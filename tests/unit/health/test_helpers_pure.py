"""Warmup jitter and the status view."""

import ipaddress
import random

from pylvs.control.status import render_health
from pylvs.health.runner import first_delay
from pylvs.model.snapshot import CheckView, DirectorSnapshot, PoolHealth, ServerHealth
from tests.unit.health.health_helpers import spec


def test_warmup_jitter_is_a_share_of_warmup_after_bootstrap() -> None:
    cfg = spec(
        """
        virtual_server 10.0.0.1 80 {
          protocol TCP
          lvs_method NAT
          delay_loop 10
          warmup 4
          real_server 127.0.0.1 80 {
            TCP_CHECK {
              connect_timeout 1
            }
          }
        }
        """
    )
    check = cfg.pools[0].real_servers[0].checks[0]
    share = random.Random(7).random()
    assert first_delay(check, random.Random(7), 1.0) == 1.0 + 4.0 * share


def test_status_render() -> None:
    pool = PoolHealth("[10.0.0.1]:tcp:80", True, False)
    server = ServerHealth(
        "[10.0.0.1]:tcp:80",
        "[127.0.0.1]:tcp:81",
        (ipaddress.ip_address("127.0.0.1"), 81),
        (),
        False,
        0,
        False,
        (CheckView("TCP_CHECK", "127.0.0.1:81", False, False, "connect: refused", None),),
    )
    text = render_health(DirectorSnapshot(pools=(pool,), servers=(server,)))
    assert text == (
        "VS [10.0.0.1]:tcp:80: quorum UP\n"
        "  RS [127.0.0.1]:tcp:81: DOWN, weight 0, not in table\n"
        "    TCP_CHECK 127.0.0.1:81: DOWN, last failure at never: connect: refused\n"
    )
