"""`global_defs { ... }` and the process-level top-level keywords (reference §3.2, §3.3).

Ranges and fallbacks follow keepalived 2.2.7 core/global_parser.c (e.g. `vrrp_garp_master_repeat
0` -> 1, `vrrp_garp_interval` 0.000001..4294.967295 s, `smtp_connect_timeout` 0..4294,
`max_auto_priority` -1..99).  `vrrp_garp_interval 0` / `vrrp_gna_interval 0` mean "off" (the
default) and are accepted with a warning though keepalived calls them invalid.  Keywords whose
values pylvs keeps only as written (snmp, dbus, cpu affinity, rlimits, netlink buffers, process
names, ...) are range-checked and kept raw in `GlobalDefs.other`; those pylvs does not act on
are listed in `unsupported.py`.  The typed record is built by `resolve.finish`.
"""

from __future__ import annotations

from pylvs.config.errors import Kind
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.vrrp.common import (
    block_words,
    check_interface,
    parse_script,
    set_bool,
    set_decimal,
    set_flag,
    set_int,
    set_word,
    user_group,
)
from pylvs.config.keepalived.vrrp.global_drafts import GlobalDraft, ProcessDraft
from pylvs.config.keepalived.vrrp.global_model import (
    FifoSetting,
    LvsSyncDaemon,
    LvsTimeouts,
    SmtpServer,
)
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import address, integer, seconds
from pylvs.config.listen import parse_listen
from pylvs.config.tree import Statement

UINT_MAX = 2**32 - 1
LVS_MAX_TIMEOUT = 86400 * 31  # core/global_parser.c
G = Keyword[GlobalDraft]


def _notification_email(stmt: Statement, _ctx: Context, d: GlobalDraft) -> None:
    d.notification_email = (*d.notification_email, *(w.text for w in block_words(stmt)))


def _smtp_server(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    host = stmt.args[0]
    port = 25
    if len(stmt.args) >= 2:
        p = integer(stmt.args[1], ctx, 1, 65535, f"Invalid smtp server {host.text} port")
        if p is None:
            return
        port = p
    d.smtp_server = SmtpServer(host.text, port)


def _router_id(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "routerid name missing - ignoring")
        return
    d.router_id = stmt.args[0].text


def _pylvs_http(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    """pylvs's own keyword: where the HTTP surface listens, `pylvs_http ADDR:PORT`
    (docs/web.md).  Said, as `listen NAME ADDR:PORT` is for HAProxy: a file with it fails
    `keepalived -t` (and `pylvs check --strict`), which stops at it.  The address is checked
    as the listener reads it (config/listen.py)."""
    ctx.warning(
        stmt.loc,
        "pylvs_http is pylvs's own keyword (docs/web.md); keepalived 2.2.7 refuses it: "
        "Unknown keyword 'pylvs_http'",
        Kind.EXTENSION,
    )
    word = stmt.args[0]
    try:
        parse_listen(word.text)
    except ValueError:
        ctx.error(word.loc, f"pylvs_http {word.text}: expected ADDR:PORT ([ADDR]:PORT for IPv6)")
        return
    d.pylvs_http = word.text


def _mcast_group4(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    word = stmt.args[0]
    addr = address(word, ctx, f"{stmt.name} address")
    if addr is None:
        return
    if addr.version != 4 or not addr.is_multicast:
        ctx.error(word.loc, f"{stmt.name} [{word.text}] is not multicast. Skipping")
        return
    d.vrrp_mcast_group4 = addr


def _mcast_group6(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    word = stmt.args[0]
    addr = address(word, ctx, f"{stmt.name} address")
    if addr is None:
        return
    if addr.version != 6 or not addr.is_multicast:
        ctx.error(word.loc, f"{stmt.name} [{word.text}] is not multicast. Skipping")
        return
    d.vrrp_mcast_group6 = addr


def _default_interface(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    check_interface(stmt.args[0], ctx, "default_interface")
    d.default_interface = stmt.args[0].text


_SYNCD_RANGES = {"id": (0, 255), "maxlen": (1, 65535 - 20 - 8), "port": (1, 65535), "ttl": (1, 255)}


def _lvs_sync_daemon(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    """`IF [[inst] VI] [id N] [maxlen L] [port P] [ttl T] [group G]` [global_parser.c]."""
    args = stmt.args
    check_interface(args[0], ctx, "lvs_sync_daemon")
    numbers: dict[str, int] = {}
    instance = None
    group = None
    i = 1
    if i < len(args) and args[i].text == "inst":
        i += 1
    if i < len(args) and args[i].text not in (*_SYNCD_RANGES, "group"):
        instance = args[i].text
        i += 1
    while i < len(args):
        key = args[i].text
        if key not in _SYNCD_RANGES and key != "group":
            ctx.error(args[i].loc, f"Unknown option {key} specified for lvs_sync_daemon")
            i += 1
            continue
        if i + 1 >= len(args):
            ctx.error(args[i].loc, f"lvs_sync_daemon {key} needs a value")
            break
        v = args[i + 1]
        if key == "group":
            g = address(v, ctx, "lvs_sync_daemon group")
            if g is not None and not g.is_multicast:
                ctx.error(
                    v.loc, f"lvs_sync_daemon group address {v.text} is not multicast - ignoring"
                )
            elif g is not None:
                group = g
        else:
            lo, hi = _SYNCD_RANGES[key]
            n = integer(v, ctx, lo, hi, f"lvs_sync_daemon {key}")
            if n is not None:
                numbers[key] = n
        i += 2
    d.lvs_sync_daemon_loc = stmt.loc
    d.lvs_sync_daemon = LvsSyncDaemon(
        args[0].text,
        instance=instance,
        syncid=numbers.get("id"),
        maxlen=numbers.get("maxlen"),
        port=numbers.get("port"),
        ttl=numbers.get("ttl"),
        group=group,
    )


def _lvs_timeouts(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    old = d.lvs_timeouts
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
        n = integer(args[i + 1], ctx, 0, LVS_MAX_TIMEOUT, f"lvs_timeout {key}")
        if n is not None:
            values[key] = n
        i += 2
    d.lvs_timeouts = LvsTimeouts(values["tcp"], values["tcpfin"], values["udp"])


def _lvs_flush_on_stop(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    if not stmt.args:
        d.lvs_flush_on_stop = "all"
    elif stmt.args[0].text == "VS":
        d.lvs_flush_on_stop = "vs"
    else:
        ctx.error(stmt.args[0].loc, f"Unknown lvs_flush_on_stop type {stmt.args[0].text}")


def repeat(attr: str) -> Keyword[object]:
    """garp repeats: 0 is reported and replaced by 1 ("must be greater than 0, setting to 1")."""

    def handler(stmt: Statement, ctx: Context, d: object) -> None:
        word = stmt.args[0]
        n = integer(word, ctx, 0, UINT_MAX, stmt.name)
        if n is None:
            return
        if n == 0:
            ctx.error(word.loc, f"{stmt.name} must be greater than 0, setting to 1")
            n = 1
        setattr(d, attr, n)

    return Keyword(handler, 1)


def _pacing(attr: str) -> G:
    """vrrp_garp_interval / vrrp_gna_interval: decimal seconds; 0 = off, accepted with a warning."""

    def handler(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
        word = stmt.args[0]
        value = seconds(word, ctx, stmt.name, 0, 4294.967295)
        if value is None:
            return
        if value == 0:
            ctx.warning(word.loc, f"{stmt.name} 0 means no pacing (keepalived reports it invalid)")
        setattr(d, attr, value)

    return Keyword(handler, 1)


def extra_if(attr: str, attr_all: str) -> Keyword[object]:
    """`garp_extra_if [all] SECONDS` (global and per instance)."""

    def handler(stmt: Statement, ctx: Context, d: object) -> None:
        args = list(stmt.args)
        every = bool(args) and args[0].text == "all"
        if every:
            args.pop(0)
        if not args:
            ctx.error(stmt.loc, f"{stmt.name} specified without time - ignoring")
            return
        n = integer(args[0], ctx, 1, 86400, stmt.name)
        if n is not None:
            setattr(d, attr, float(n))
            setattr(d, attr_all, every)

    return Keyword(handler)


def _script_user(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    before = len(ctx.problems)
    user, group = user_group(list(stmt.args), ctx)
    if len(ctx.problems) > before:
        d.script_user_missing = True  # keepalived: "Error setting global script uid/gid"
    d.script_user = user
    d.script_group = group


def _fifo(attr: str) -> G:
    def handler(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
        user, group = user_group(list(stmt.args[1:]), ctx)
        old: FifoSetting | None = getattr(d, attr)
        script = old.script if old is not None else d.pending_fifo_scripts.pop(attr, None)
        setattr(d, attr, FifoSetting(stmt.args[0].text, user, group, script))

    return Keyword(handler, 1)


def _fifo_script(attr: str) -> G:
    def handler(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
        script = parse_script(stmt, ctx)
        if script is None:
            return
        old: FifoSetting | None = getattr(d, attr)
        if old is None:
            # keepalived keeps the script and complains only when the fifo itself is missing
            d.pending_fifo_scripts[attr] = script
        else:
            setattr(d, attr, FifoSetting(old.path, old.user, old.group, script))

    return Keyword(handler)


def _max_auto_priority(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
    if not stmt.args:
        d.max_auto_priority = 99
        return
    n = integer(stmt.args[0], ctx, -1, 99, "max_auto_priority")
    if n is not None:
        d.max_auto_priority = n


def _nft_table(attr: str, default: str) -> G:
    def handler(stmt: Statement, _ctx: Context, d: GlobalDraft) -> None:
        setattr(d, attr, stmt.args[0].text if stmt.args else default)

    return Keyword(handler)


def _startup_script(attr: str) -> G:
    def handler(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
        script = parse_script(stmt, ctx)
        if script is not None:
            setattr(d, attr, script)

    return Keyword(handler)


# Keywords of keepalived 2.3 (or of builds with SNMP, D-Bus, ipsets) that the keepalived 2.2.7
# of Debian 12 calls unknown (syntax.not_in_227).
NOT_IN_227 = frozenset(
    [
        "state_dump_file",
        "stats_dump_file",
        "json_dump_file",
        "json_version",
        "vrrp_owner_ignore_adverts",
        "iproute_usr_dir",
        "iproute_etc_dir",
        "use_symlink_paths",
        "set_supplementary_groups",
        "vrrp_ipsets",
        "dbus_no_interface_name",
        "snmp_vs_stats_update_interval",
        "snmp_rs_stats_update_interval",
        "v3_checksum_as_v2",
        "vrrp_delay_after_boot",
    ]
)


def _raw(lo: int | None = None, hi: int | None = None, use: str | None = None) -> G:
    """A keyword whose value pylvs keeps as written (optionally range-checked)."""

    def handler(stmt: Statement, ctx: Context, d: GlobalDraft) -> None:
        if lo is not None and hi is not None:
            if not stmt.args:
                ctx.error(stmt.loc, f"'{stmt.name}' needs a value")
                return
            if integer(stmt.args[0], ctx, lo, hi, stmt.name) is None:
                return
        d.other.append((stmt.name, tuple(w.text for w in stmt.args)))

    return Keyword(handler, use_instead=use)


def _raw_keywords() -> dict[str, G]:
    keywords: dict[str, G] = {}
    plain = (
        "process_names process_name vrrp_process_name checker_process_name bfd_process_name "
        "use_symlink_paths set_supplementary_groups dynamic_interfaces disable_local_igmp "
        "vrrp_iptables vrrp_ipsets vrrp_no_swap checker_no_swap bfd_no_swap vrrp_cpu_affinity "
        "checker_cpu_affinity bfd_cpu_affinity snmp_socket enable_traps enable_snmp_vrrp "
        "enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker enable_dbus "
        "dbus_service_name dbus_no_interface_name rs_init_notifies no_checker_emails "
        "vrrp_rx_bufs_policy log_unknown_vrids vmac_addr_prefix umask reload_check_config "
        "reload_time_file reload_repeat reload_file include_check config_save_dir "
        "tmp_config_directory data_use_instance fifo_write_vrrp_states_on_reload "
        "iproute_usr_dir iproute_etc_dir vrrp_owner_ignore_adverts "
        "vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs_force "
        "process_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs_force "
        "lvs_netlink_monitor_rcv_bufs_force"
    )
    for name in plain.split():
        keywords[name] = _raw()
    for name in ("vrrp_priority", "checker_priority", "bfd_priority"):
        keywords[name] = _raw(-20, 19)
    for name in ("vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority"):
        keywords[name] = _raw(1, 99)
    for proc in ("vrrp", "checker", "bfd"):
        keywords[f"{proc}_rlimit_rttime"] = _raw(1, UINT_MAX)
        keywords[f"{proc}_rlimit_rtime"] = _raw(1, UINT_MAX, f"{proc}_rlimit_rttime")
    for name in (
        "vrrp_netlink_cmd_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs",
        "process_monitor_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs",
        "snmp_vs_stats_update_interval",
        "snmp_rs_stats_update_interval",
    ):
        keywords[name] = _raw(0, UINT_MAX)
    keywords["vrrp_rx_bufs_multiplier"] = _raw(1, UINT_MAX)
    for name in ("state_dump_file", "stats_dump_file", "json_dump_file"):
        keywords[name] = _raw()
    keywords["json_version"] = _raw(1, 2)
    keywords["lvs_process_name"] = _raw(use="checker_process_name")
    keywords["enable_snmp_keepalived"] = _raw(use="enable_snmp_vrrp")
    return keywords


GLOBAL_TABLE: Table[GlobalDraft] = table(
    "global_defs",
    {
        **_raw_keywords(),
        "notification_email": Keyword(_notification_email, block=Block.REQUIRED),
        "notification_email_from": set_word("notification_email_from"),
        "smtp_server": Keyword(_smtp_server, 1),
        "smtp_helo_name": set_word("smtp_helo_name"),
        "smtp_connect_timeout": set_int("smtp_connect_timeout", 0, 4294),
        "smtp_alert": set_bool("smtp_alert"),
        "smtp_alert_vrrp": set_bool("smtp_alert_vrrp"),
        "smtp_alert_checker": set_bool("smtp_alert_checker"),
        "no_email_faults": set_flag("no_email_faults"),
        "checker_log_all_failures": set_bool("checker_log_all_failures"),
        "router_id": Keyword(_router_id),
        "pylvs_http": Keyword(_pylvs_http, 1),
        "vrrp_mcast_group4": Keyword(_mcast_group4, 1),
        "vrrp_mcast_group6": Keyword(_mcast_group6, 1),
        "default_interface": Keyword(_default_interface, 1),
        "lvs_sync_daemon": Keyword(_lvs_sync_daemon, 1),
        "lvs_timeouts": Keyword(_lvs_timeouts),
        "lvs_flush": set_flag("lvs_flush"),
        "lvs_flush_on_stop": Keyword(_lvs_flush_on_stop),
        "lvs_flush_onstop": Keyword(_lvs_flush_on_stop, use_instead="lvs_flush_on_stop"),
        "vrrp_garp_master_delay": set_int("vrrp_garp_master_delay", 0, 4294),
        "vrrp_garp_master_repeat": repeat("vrrp_garp_master_repeat"),
        "vrrp_garp_master_refresh": set_int("vrrp_garp_master_refresh", 0, UINT_MAX),
        "vrrp_garp_master_refresh_repeat": repeat("vrrp_garp_master_refresh_repeat"),
        "vrrp_garp_lower_prio_delay": set_int("vrrp_garp_lower_prio_delay", 0, 4294),
        "vrrp_garp_lower_prio_repeat": set_int("vrrp_garp_lower_prio_repeat", 0, 2**31 - 1),
        "vrrp_garp_interval": _pacing("vrrp_garp_interval"),
        "vrrp_gna_interval": _pacing("vrrp_gna_interval"),
        "vrrp_min_garp": set_bool("vrrp_min_garp"),
        "vrrp_garp_extra_if": extra_if("vrrp_garp_extra_if", "vrrp_garp_extra_if_all"),
        "vrrp_vmac_garp_intvl": Keyword(
            extra_if("vrrp_garp_extra_if", "vrrp_garp_extra_if_all").handler,
            use_instead="vrrp_garp_extra_if",
            deprecation=Kind.CONFIG,
        ),
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
        "script_user": Keyword(_script_user, 1),
        "enable_script_security": set_flag("enable_script_security"),
        "notify_fifo": _fifo("notify_fifo"),
        "notify_fifo_script": _fifo_script("notify_fifo"),
        "vrrp_notify_fifo": _fifo("vrrp_notify_fifo"),
        "vrrp_notify_fifo_script": _fifo_script("vrrp_notify_fifo"),
        "lvs_notify_fifo": _fifo("lvs_notify_fifo"),
        "lvs_notify_fifo_script": _fifo_script("lvs_notify_fifo"),
        "max_auto_priority": Keyword(_max_auto_priority),
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
    },
    draft=GlobalDraft,
    newer=NOT_IN_227,
)

PROCESS_KEYWORDS: dict[str, Keyword[ProcessDraft]] = {
    "net_namespace": set_word("net_namespace"),
    "net_namespace_ipvs": set_word("net_namespace_ipvs"),
    "namespace_with_ipsets": set_flag("namespace_with_ipsets"),
    "instance": set_word("instance"),
    "use_pid_dir": set_flag("use_pid_dir"),
    "linkbeat_use_polling": set_flag("linkbeat_use_polling"),
    "child_wait_time": set_int("child_wait_time", 0, UINT_MAX),
}
