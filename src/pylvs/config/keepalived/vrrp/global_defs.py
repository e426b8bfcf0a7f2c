"""`global_defs { ... }` and the process-level top-level keywords (reference §3.2, §3.3).

Ranges and fallbacks follow keepalived 2.2.7 core/global_parser.c (e.g. `vrrp_garp_master_repeat
0` -> 1, `vrrp_garp_interval` 0.000001..4294.967295 s, `smtp_connect_timeout` 0..4294,
`max_auto_priority` -1..99).  `vrrp_garp_interval 0` / `vrrp_gna_interval 0` mean "off" (the
default) and are accepted with a warning though keepalived calls them invalid.  Keywords pylvs
does not act on (snmp, dbus, cpu affinity, rlimits, netlink buffers, process names, ...) are
range-checked and kept raw in `GlobalDefs.other`.  The typed record is built by `finish`.
"""

from __future__ import annotations

from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context, parse_decimal, parse_int, parse_ip
from pylvs.config.keepalived.vrrp.common import (
    Draft,
    Handler,
    block_words,
    check_interface,
    first_arg,
    parse_script,
    run_block,
    set_bool,
    set_decimal,
    set_flag,
    set_int,
    set_word,
    user_group,
)
from pylvs.config.keepalived.vrrp.model import (
    FifoSetting,
    LvsSyncDaemon,
    LvsTimeouts,
    SmtpServer,
)
from pylvs.config.keepalived.vrrp.parts import VrrpParts

UINT_MAX = 2**32 - 1
LVS_MAX_TIMEOUT = 86400 * 31  # core/global_parser.c


def _notification_email(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if stmt.block is None:
        ctx.error(stmt.loc, "'notification_email' needs a { ... } block")
        return
    emails = list(draft.get("notification_email", ()))
    emails.extend(w.text for w in block_words(stmt))
    draft["notification_email"] = tuple(emails)


def _smtp_server(stmt: Statement, ctx: Context, draft: Draft) -> None:
    host = first_arg(stmt, ctx)
    if host is None:
        return
    port = 25
    if len(stmt.args) >= 2:
        p = parse_int(stmt.args[1], ctx, 1, 65535, f"Invalid smtp server {host.text} port")
        if p is None:
            return
        port = p
    draft["smtp_server"] = SmtpServer(host.text, port)


def _router_id(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "routerid name missing - ignoring")
        return
    draft["router_id"] = stmt.args[0].text


def _mcast_group(key: str, version: int) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        addr = None if word is None else parse_ip(word, ctx, f"{stmt.name} address")
        if word is None or addr is None:
            return
        if addr.version != version or not addr.is_multicast:
            ctx.error(word.loc, f"{stmt.name} [{word.text}] is not multicast. Skipping")
            return
        draft[key] = addr

    return handler


def _default_interface(stmt: Statement, ctx: Context, draft: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is not None:
        check_interface(word, ctx, "default_interface")
        draft["default_interface"] = word.text


def _lvs_sync_daemon(stmt: Statement, ctx: Context, draft: Draft) -> None:
    """`IF [[inst] VI] [id N] [maxlen L] [port P] [ttl T] [group G]` [global_parser.c]."""
    args = stmt.args
    if not args:
        ctx.error(stmt.loc, "lvs_sync_daemon requires interface")
        return
    check_interface(args[0], ctx, "lvs_sync_daemon")
    opts: dict[str, object] = {}
    ranges = {"id": (0, 255), "maxlen": (1, 65535 - 20 - 8), "port": (1, 65535), "ttl": (1, 255)}
    i = 1
    if i < len(args) and args[i].text == "inst":
        i += 1
    if i < len(args) and args[i].text not in (*ranges, "group"):
        opts["instance"] = args[i].text
        i += 1
    while i < len(args):
        key = args[i].text
        if key not in ranges and key != "group":
            ctx.error(args[i].loc, f"Unknown option {key} specified for lvs_sync_daemon")
            i += 1
            continue
        if i + 1 >= len(args):
            ctx.error(args[i].loc, f"lvs_sync_daemon {key} needs a value")
            break
        v = args[i + 1]
        if key == "group":
            g = parse_ip(v, ctx, "lvs_sync_daemon group")
            if g is not None and not g.is_multicast:
                ctx.error(
                    v.loc, f"lvs_sync_daemon group address {v.text} is not multicast - ignoring"
                )
            elif g is not None:
                opts["group"] = g
        else:
            lo, hi = ranges[key]
            n = parse_int(v, ctx, lo, hi, f"lvs_sync_daemon {key}")
            if n is not None:
                opts["syncid" if key == "id" else key] = n
        i += 2
    draft["_loc_lvs_sync_daemon"] = stmt.loc
    draft["lvs_sync_daemon"] = LvsSyncDaemon(args[0].text, **opts)  # type: ignore[arg-type]


def _lvs_timeouts(stmt: Statement, ctx: Context, draft: Draft) -> None:
    old = draft.get("lvs_timeouts", LvsTimeouts())
    values = {"tcp": old.tcp, "tcpfin": old.tcpfin, "udp": old.udp}
    args = stmt.args
    i = 0
    while i < len(args):
        key = args[i].text
        if key not in values:
            ctx.error(args[i].loc, f"Unknown option {key} specified for lvs_timeouts")
            i += 1
            continue
        if i + 1 >= len(args):
            ctx.error(args[i].loc, f"No value specified for lvs_timeout {key} - ignoring")
            break
        n = parse_int(args[i + 1], ctx, 0, LVS_MAX_TIMEOUT, f"lvs_timeout {key}")
        if n is not None:
            values[key] = n
        i += 2
    draft["lvs_timeouts"] = LvsTimeouts(**values)


def _lvs_flush_on_stop(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if stmt.name == "lvs_flush_onstop":
        ctx.warning(stmt.loc, "'lvs_flush_onstop' is deprecated - please use 'lvs_flush_on_stop'")
    if not stmt.args:
        draft["lvs_flush_on_stop"] = "all"
    elif stmt.args[0].text == "VS":
        draft["lvs_flush_on_stop"] = "vs"
    else:
        ctx.error(stmt.args[0].loc, f"Unknown lvs_flush_on_stop type {stmt.args[0].text}")


def _repeat(key: str) -> Handler:
    """garp repeats: 0 is reported and replaced by 1 ("must be greater than 0, setting to 1")."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        n = None if word is None else parse_int(word, ctx, 0, UINT_MAX, stmt.name)
        if word is None or n is None:
            return
        if n == 0:
            ctx.error(word.loc, f"{stmt.name} must be greater than 0, setting to 1")
            n = 1
        draft[key] = n

    return handler


def _pacing(key: str) -> Handler:
    """vrrp_garp_interval / vrrp_gna_interval: decimal seconds; 0 = off, accepted with a warning."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is None:
            return
        value = parse_decimal(word, ctx, 0, 4294.967295, stmt.name)
        if value is None:
            return
        if value == 0:
            ctx.warning(word.loc, f"{stmt.name} 0 means no pacing (keepalived reports it invalid)")
        draft[key] = value

    return handler


def _extra_if(key: str, key_all: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        if stmt.name in ("vrrp_vmac_garp_intvl", "vmac_garp_intvl"):
            new = "vrrp_garp_extra_if" if stmt.name.startswith("vrrp_") else "garp_extra_if"
            ctx.warning(stmt.loc, f"'{stmt.name}' is deprecated - please use '{new}'")
        args = list(stmt.args)
        every = bool(args) and args[0].text == "all"
        if every:
            args.pop(0)
        if not args:
            ctx.error(stmt.loc, f"{stmt.name} specified without time - ignoring")
            return
        n = parse_int(args[0], ctx, 1, 86400, stmt.name)
        if n is not None:
            draft[key] = float(n)
            draft[key_all] = every

    return handler


def _script_user(parts: VrrpParts) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        if not stmt.args:
            ctx.error(stmt.loc, "No script username specified")
            return
        before = len(ctx.problems)
        user, group = user_group(list(stmt.args), ctx)
        if len(ctx.problems) > before:
            parts.script_user_missing = True  # keepalived: "Error setting global script uid/gid"
        draft["script_user"] = user
        draft["script_group"] = group

    return handler


def _fifo(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is None:
            return
        user, group = user_group(list(stmt.args[1:]), ctx)
        old = draft.get(key)
        script = old.script if old is not None else None
        draft[key] = FifoSetting(word.text, user, group, script)

    return handler


def _fifo_script(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        script = parse_script(stmt, ctx)
        if script is None:
            return
        old = draft.get(key)
        if old is None:
            # keepalived keeps the script and complains only when the fifo itself is missing
            draft[key + "_pending_script"] = script
        else:
            draft[key] = FifoSetting(old.path, old.user, old.group, script)

    return handler


def _max_auto_priority(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if not stmt.args:
        draft["max_auto_priority"] = 99
        return
    n = parse_int(stmt.args[0], ctx, -1, 99, "max_auto_priority")
    if n is not None:
        draft["max_auto_priority"] = n


def _nft_table(key: str, default: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        draft[key] = stmt.args[0].text if stmt.args else default

    return handler


def _raw(
    parts: VrrpParts, lo: int | None = None, hi: int | None = None, alias: str | None = None
) -> Handler:
    """A keyword pylvs does not act on: optionally range-check its number, keep it as written."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        if alias is not None:
            ctx.warning(stmt.loc, f"'{stmt.name}' is deprecated - please use '{alias}'")
        if lo is not None and hi is not None:
            word = first_arg(stmt, ctx)
            if word is None or parse_int(word, ctx, lo, hi, stmt.name) is None:
                return
        parts.global_other.append((stmt.name, tuple(w.text for w in stmt.args)))

    return handler


def _raw_keywords(parts: VrrpParts) -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    plain = (
        "process_names process_name vrrp_process_name checker_process_name bfd_process_name "
        "use_symlink_paths set_supplementary_groups dynamic_interfaces disable_local_igmp "
        "vrrp_iptables vrrp_ipsets vrrp_no_swap checker_no_swap bfd_no_swap vrrp_cpu_affinity "
        "checker_cpu_affinity bfd_cpu_affinity snmp_socket enable_traps enable_snmp_vrrp "
        "enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker enable_dbus "
        "dbus_service_name dbus_no_interface_name rs_init_notifies no_checker_emails "
        "vrrp_rx_bufs_policy log_unknown_vrids vmac_addr_prefix umask reload_check_config "
        "reload_time_file reload_repeat reload_file include_check config_save_dir "
        "tmp_config_directory data_use_instance fifo_write_vrrp_states_on_reload state_dump_file "
        "stats_dump_file json_dump_file iproute_usr_dir iproute_etc_dir vrrp_owner_ignore_adverts "
        "vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs_force "
        "process_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs_force "
        "lvs_netlink_monitor_rcv_bufs_force"
    )
    for name in plain.split():
        table[name] = _raw(parts)
    for name in ("vrrp_priority", "checker_priority", "bfd_priority"):
        table[name] = _raw(parts, -20, 19)
    for name in ("vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority"):
        table[name] = _raw(parts, 1, 99)
    for proc in ("vrrp", "checker", "bfd"):
        table[f"{proc}_rlimit_rttime"] = _raw(parts, 1, UINT_MAX)
        table[f"{proc}_rlimit_rtime"] = _raw(parts, 1, UINT_MAX, f"{proc}_rlimit_rttime")
    for name in (
        "vrrp_netlink_cmd_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs",
        "process_monitor_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs",
        "snmp_vs_stats_update_interval",
        "snmp_rs_stats_update_interval",
    ):
        table[name] = _raw(parts, 0, UINT_MAX)
    table["vrrp_rx_bufs_multiplier"] = _raw(parts, 1, UINT_MAX)
    table["json_version"] = _raw(parts, 1, 2)
    table["lvs_process_name"] = _raw(parts, alias="checker_process_name")
    table["enable_snmp_keepalived"] = _raw(parts, alias="enable_snmp_vrrp")
    return table


def global_keywords(parts: VrrpParts) -> dict[str, Handler]:
    table = _raw_keywords(parts)
    table.update(
        {
            "notification_email": _notification_email,
            "notification_email_from": set_word("notification_email_from"),
            "smtp_server": _smtp_server,
            "smtp_helo_name": set_word("smtp_helo_name"),
            "smtp_connect_timeout": set_int("smtp_connect_timeout", 0, 4294),
            "smtp_alert": set_bool("smtp_alert"),
            "smtp_alert_vrrp": set_bool("smtp_alert_vrrp"),
            "smtp_alert_checker": set_bool("smtp_alert_checker"),
            "no_email_faults": set_flag("no_email_faults"),
            "checker_log_all_failures": set_bool("checker_log_all_failures"),
            "router_id": _router_id,
            "vrrp_mcast_group4": _mcast_group("vrrp_mcast_group4", 4),
            "vrrp_mcast_group6": _mcast_group("vrrp_mcast_group6", 6),
            "default_interface": _default_interface,
            "lvs_sync_daemon": _lvs_sync_daemon,
            "lvs_timeouts": _lvs_timeouts,
            "lvs_flush": set_flag("lvs_flush"),
            "lvs_flush_on_stop": _lvs_flush_on_stop,
            "lvs_flush_onstop": _lvs_flush_on_stop,
            "vrrp_garp_master_delay": set_int("vrrp_garp_master_delay", 0, 4294),
            "vrrp_garp_master_repeat": _repeat("vrrp_garp_master_repeat"),
            "vrrp_garp_master_refresh": set_int("vrrp_garp_master_refresh", 0, UINT_MAX),
            "vrrp_garp_master_refresh_repeat": _repeat("vrrp_garp_master_refresh_repeat"),
            "vrrp_garp_lower_prio_delay": set_int("vrrp_garp_lower_prio_delay", 0, 4294),
            "vrrp_garp_lower_prio_repeat": set_int("vrrp_garp_lower_prio_repeat", 0, 2**31 - 1),
            "vrrp_garp_interval": _pacing("vrrp_garp_interval"),
            "vrrp_gna_interval": _pacing("vrrp_gna_interval"),
            "vrrp_min_garp": set_bool("vrrp_min_garp"),
            "vrrp_garp_extra_if": _extra_if("vrrp_garp_extra_if", "vrrp_garp_extra_if_all"),
            "vrrp_vmac_garp_intvl": _extra_if("vrrp_garp_extra_if", "vrrp_garp_extra_if_all"),
            "vrrp_down_timer_adverts": set_int("vrrp_down_timer_adverts", 1, 100),
            "vrrp_lower_prio_no_advert": set_bool("vrrp_lower_prio_no_advert"),
            "vrrp_higher_prio_send_advert": set_bool("vrrp_higher_prio_send_advert"),
            "vrrp_version": set_int("vrrp_version", 2, 3, "vrrp_version"),
            "v3_checksum_as_v2": set_bool("v3_checksum_as_v2"),
            "vrrp_check_unicast_src": set_flag("vrrp_check_unicast_src"),
            "vrrp_skip_check_adv_addr": set_flag("vrrp_skip_check_adv_addr"),
            "vrrp_strict": set_flag("vrrp_strict"),
            "vrrp_notify_priority_changes": set_bool("vrrp_notify_priority_changes"),
            "vrrp_startup_delay": set_decimal("vrrp_startup_delay", 0.001, 4294.967295),
            "vrrp_delay_after_boot": set_decimal("vrrp_startup_delay", 0.001, 4294.967295),
            "script_user": _script_user(parts),
            "enable_script_security": set_flag("enable_script_security"),
            "notify_fifo": _fifo("notify_fifo"),
            "notify_fifo_script": _fifo_script("notify_fifo"),
            "vrrp_notify_fifo": _fifo("vrrp_notify_fifo"),
            "vrrp_notify_fifo_script": _fifo_script("vrrp_notify_fifo"),
            "lvs_notify_fifo": _fifo("lvs_notify_fifo"),
            "lvs_notify_fifo_script": _fifo_script("lvs_notify_fifo"),
            "max_auto_priority": _max_auto_priority,
            "min_auto_priority_delay": set_int("min_auto_priority_delay", 1, 10_000_000),
            "random_seed": set_int("random_seed", 0, UINT_MAX),
            "nftables": _nft_table("nftables", "keepalived"),
            "nftables_priority": set_int("nftables_priority", -(2**31), 2**31 - 1),
            "nftables_counters": set_flag("nftables_counters"),
            "nftables_ifindex": set_flag("nftables_ifindex"),
            "nftables_ipvs": _nft_table("nftables_ipvs", "keepalived_ipvs"),
            "nftables_ipvs_priority": set_int("nftables_ipvs_priority", -(2**31), 2**31 - 1),
            "nftables_ipvs_start_fwmark": set_int("nftables_ipvs_start_fwmark", 1, UINT_MAX),
            "vmac_prefix": set_word("vmac_prefix"),
            "startup_script": _startup_script("startup_script"),
            "shutdown_script": _startup_script("shutdown_script"),
            "startup_script_timeout": set_int("startup_script_timeout", 1, 1000),
            "shutdown_script_timeout": set_int("shutdown_script_timeout", 1, 1000),
        }
    )
    return table


def _startup_script(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        script = parse_script(stmt, ctx)
        if script is not None:
            draft[key] = script

    return handler


def global_defs(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if stmt.block is None:
        ctx.error(stmt.loc, "'global_defs' needs a { ... } block")
        return
    run_block(stmt, ctx, global_keywords(parts), parts.global_draft)


def _linkbeat_polling(stmt: Statement, ctx: Context, draft: Draft) -> None:
    draft["linkbeat_use_polling"] = True


PROCESS_KEYWORDS: dict[str, Handler] = {
    "net_namespace": set_word("net_namespace"),
    "net_namespace_ipvs": set_word("net_namespace_ipvs"),
    "namespace_with_ipsets": set_flag("namespace_with_ipsets"),
    "instance": set_word("instance"),
    "use_pid_dir": set_flag("use_pid_dir"),
    "linkbeat_use_polling": _linkbeat_polling,
    "child_wait_time": set_int("child_wait_time", 0, UINT_MAX),
}
