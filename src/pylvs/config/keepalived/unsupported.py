"""The keepalived.conf keywords pylvs reads and does not act on: the one list (issue 18 #5).

keepalived 2.2.7 acts on every keyword here; pylvs checks its value where it has one, keeps it
in the model, warns "pylvs does not do ..." (problem kind UNSUPPORTED: `pylvs check --strict`
fails on it) and runs without it.  `docs/unsupported.md` is generated from this list
(`python -m pylvs.config.keepalived.unsupported > docs/unsupported.md`; a test keeps them equal),
so the operator's guide can quote it.  A keyword leaves the list when the runtime starts
acting on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.keywords.unsupported import markdown as unsupported_markdown


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A keyword pylvs reads but does not act on, and why."""

    section: str  # where the keyword is written: a block name, or "top level"
    keyword: str
    why: str  # what keepalived would do that pylvs does not


_SNMP = "SNMP (keepalived's AgentX subagent) is not implemented"
_DBUS = "there is no D-Bus interface"
_TUNING = "process scheduling and memory tuning are left to the service manager"
_BUFS = "socket buffer sizes are the kernel's defaults"
_NAMES = "pylvs runs as one process named pylvs"
_VMAC = "VRRP runs on the interface itself: no macvlan/ipvlan (VMAC) interfaces"
_BFD = "BFD is not implemented"
_PROCESS = "process tracking is not implemented"
_STATIC = "pylvs adds and watches only the VRRP instances' addresses"
_RELOAD = "reloads are SIGHUP or `pylvs reload`; no reload file is watched"
_NFT = "pylvs installs no firewall rules for VIPs"
_DUMPS = "pylvs's data and statistics dumps have their own files and format"

_GLOBAL: dict[str, str] = {
    **dict.fromkeys(
        [
            "snmp_socket",
            "enable_traps",
            "enable_snmp_vrrp",
            "enable_snmp_keepalived",
            "enable_snmp_rfc",
            "enable_snmp_rfcv2",
            "enable_snmp_rfcv3",
            "enable_snmp_checker",
            "snmp_vs_stats_update_interval",
            "snmp_rs_stats_update_interval",
        ],
        _SNMP,
    ),
    **dict.fromkeys(["enable_dbus", "dbus_service_name", "dbus_no_interface_name"], _DBUS),
    **dict.fromkeys(
        [
            "vrrp_no_swap",
            "checker_no_swap",
            "bfd_no_swap",
            "vrrp_cpu_affinity",
            "checker_cpu_affinity",
            "bfd_cpu_affinity",
            "vrrp_priority",
            "checker_priority",
            "bfd_priority",
            "vrrp_rt_priority",
            "checker_rt_priority",
            "bfd_rt_priority",
            "vrrp_rlimit_rttime",
            "checker_rlimit_rttime",
            "bfd_rlimit_rttime",
            "vrrp_rlimit_rtime",
            "checker_rlimit_rtime",
            "bfd_rlimit_rtime",
            "max_auto_priority",
            "min_auto_priority_delay",
        ],
        _TUNING,
    ),
    **dict.fromkeys(
        [
            "vrrp_rx_bufs_policy",
            "vrrp_rx_bufs_multiplier",
            "vrrp_netlink_cmd_rcv_bufs",
            "vrrp_netlink_cmd_rcv_bufs_force",
            "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force",
            "process_monitor_rcv_bufs",
            "process_monitor_rcv_bufs_force",
            "lvs_netlink_cmd_rcv_bufs",
            "lvs_netlink_cmd_rcv_bufs_force",
            "lvs_netlink_monitor_rcv_bufs",
            "lvs_netlink_monitor_rcv_bufs_force",
        ],
        _BUFS,
    ),
    **dict.fromkeys(
        [
            "process_names",
            "process_name",
            "vrrp_process_name",
            "checker_process_name",
            "bfd_process_name",
            "lvs_process_name",
        ],
        _NAMES,
    ),
    **dict.fromkeys(
        ["reload_check_config", "reload_time_file", "reload_repeat", "reload_file"], _RELOAD
    ),
    **dict.fromkeys(
        [
            "nftables",
            "nftables_priority",
            "nftables_counters",
            "nftables_ifindex",
            "nftables_ipvs",
            "nftables_ipvs_priority",
            "nftables_ipvs_start_fwmark",
            "vrrp_iptables",
            "vrrp_ipsets",
        ],
        _NFT,
    ),
    **dict.fromkeys(
        ["state_dump_file", "stats_dump_file", "json_dump_file", "json_version"], _DUMPS
    ),
    "vmac_prefix": _VMAC,
    "vmac_addr_prefix": _VMAC,
    "startup_script": "startup and shutdown scripts are not run",
    "startup_script_timeout": "startup and shutdown scripts are not run",
    "shutdown_script": "startup and shutdown scripts are not run",
    "shutdown_script_timeout": "startup and shutdown scripts are not run",
    "random_seed": "pylvs seeds its random numbers from the system",
    "use_symlink_paths": "script paths are used as written",
    "set_supplementary_groups": "scripts run with the user's primary group only",
    "dynamic_interfaces": "interfaces must exist when pylvs starts",
    "disable_local_igmp": "IGMP reports are the kernel's",
    "rs_init_notifies": "real servers' initial states are not notified",
    "log_unknown_vrids": "adverts for unknown VRIDs are counted, not logged",
    "umask": "files are created with the process umask",
    "config_save_dir": "configurations are not saved",
    "tmp_config_directory": "configurations are not copied",
    "data_use_instance": "dump files do not carry the instance name",
    "fifo_write_vrrp_states_on_reload": "FIFOs are written on state changes only",
    "iproute_usr_dir": "route tables and protocols are numbers or the kernel's names",
    "iproute_etc_dir": "route tables and protocols are numbers or the kernel's names",
}

_TOP: dict[str, str] = {
    "net_namespace": "pylvs runs in the network namespace it is started in",
    "net_namespace_ipvs": "pylvs runs in the network namespace it is started in",
    "namespace_with_ipsets": "pylvs runs in the network namespace it is started in",
    "instance": "pid files and dumps do not carry an instance name",
    "use_pid_dir": "the pid file is the one given on the command line",
    "linkbeat_use_polling": "link state comes from netlink",
    "child_wait_time": "there are no child processes to wait for",
    "bfd_instance": _BFD,
    "vrrp_track_process": _PROCESS,
    "static_ipaddress": _STATIC,
    "static_routes": _STATIC,
    "static_rules": _STATIC,
    "track_group": _STATIC,
    "linkbeat_interfaces": "link state comes from netlink",
    "interface_up_down_delays": "interface changes are acted on at once",
}

_INSTANCE: dict[str, str] = {
    "use_vmac": _VMAC,
    "use_vmac_addr": _VMAC,
    "vmac_xmit_base": _VMAC,
    "use_ipvlan": _VMAC,
    "vrf": "VRFs are not supported",
    "track_bfd": _BFD,
    "track_process": _PROCESS,
    "unicast_fault_no_peer": "an instance with no unicast peer is not put in FAULT",
    "garp_extra_if": "gratuitous ARPs go to the instance's interface only",
    "vmac_garp_intvl": "gratuitous ARPs go to the instance's interface only",
    "timer_expired_backup": "a BACKUP's master-down timer does not change its priority",
    "thread_timer_expired": "a BACKUP's master-down timer does not change its priority",
    "promote_secondaries": "the interface's promote_secondaries setting is left as it is",
    "notify_deleted": "instances are not notified as deleted on reload",
    "kernel_rx_buf_size": _BUFS,
    "debug": "per-instance debug levels are not kept; use the daemon's log level",
}

_SYNC_GROUP: dict[str, str] = {"track_bfd": _BFD, "track_process": _PROCESS}

_CHECKERS: dict[str, str] = {"BFD_CHECK": _BFD}

UNSUPPORTED: tuple[Unsupported, ...] = (
    *(Unsupported("global_defs", k, w) for k, w in _GLOBAL.items()),
    *(Unsupported("top level", k, w) for k, w in _TOP.items()),
    *(Unsupported("vrrp_instance", k, w) for k, w in _INSTANCE.items()),
    *(Unsupported("vrrp_sync_group", k, w) for k, w in _SYNC_GROUP.items()),
    *(Unsupported("real_server", k, w) for k, w in _CHECKERS.items()),
    Unsupported("virtual_server", "snmp_name", _SNMP),
    Unsupported("real_server", "snmp_name", _SNMP),
    Unsupported("url", "regex_stack", "regexes are Python's re, which has no PCRE stack to size"),
)


def reasons(section: str) -> dict[str, str]:
    """keyword -> why, for the keywords of `section` pylvs does not act on."""
    return {u.keyword: u.why for u in UNSUPPORTED if u.section == section}


def markdown() -> str:
    return unsupported_markdown(
        "keepalived.conf keywords pylvs reads but does not act on",
        "Generated from `src/pylvs/config/keepalived/unsupported.py`. `pylvs check` warns on\n"
        'each of these ("pylvs does not do ..."); with `--strict` it fails. pylvs then runs\n'
        "without what the keyword asks for.",
        ((u.section, u.keyword, u.why) for u in UNSUPPORTED),
    )


if __name__ == "__main__":
    print(markdown(), end="")
