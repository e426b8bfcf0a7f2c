"""What reading a keepalived.conf imports: the VRRP side's instance and tracker modules only
for a file that has such blocks (vrrp/global_model.py and vrrp/__init__.py `_later` say why).

Each case runs in a fresh interpreter (this one has imported everything already) and prints
which of the modules it watches were imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

WATCHED = (
    "pylvs.config.keepalived.vrrp.model",
    "pylvs.config.keepalived.vrrp.drafts",
    "pylvs.config.keepalived.vrrp.instance",
    "pylvs.config.keepalived.vrrp.post",
)

LVS_ONLY = """
global_defs {
    router_id LVS1
    notification_email { ops@example.com }
    lvs_timeouts tcp 900 tcpfin 120 udp 300
}
virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 {
        TCP_CHECK { connect_timeout 3 }
    }
}
"""

WITH_INSTANCE = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress { 10.0.0.1/24 }
}
"""


def imported(text: str) -> tuple[set[str], str]:
    code = textwrap.dedent(
        f"""
        import sys
        from pylvs.config.keepalived.parser import load_text
        r = load_text({text!r}, "k.conf", config_id="node")
        print(len(r.config.virtual_servers), len(r.config.vrrp.instances))
        print(" ".join(m for m in {WATCHED!r} if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return set(out[1].split()), out[0]


def test_a_file_of_virtual_servers_imports_no_vrrp_instance_module() -> None:
    modules, counts = imported(LVS_ONLY)
    assert counts == "1 0"
    assert modules == set()


def test_a_file_with_an_instance_imports_them() -> None:
    modules, counts = imported(LVS_ONLY + WITH_INSTANCE)
    assert counts == "1 1"
    assert modules == set(WATCHED)
