"""The HTML stats page (`stats enable` + `stats uri`), laid out as HAProxy 2.6 lays it out
(src/stats.c stats_dump_html_head / _info / _px_hdr / _px_end).

The page has the process block (pid, uptime, limits, connections, rates), the legend of row
colours, the display options (scope box, hide DOWN servers, refresh on/off, CSV and JSON
exports) and the result of an admin action; then one table per proxy with HAProxy's columns,
its frontend, listener, server and backend rows (page_rows.py) and, when the page is in
admin mode and the proxy has servers, the form of server actions.  The style sheet is
pylvs's own, in HAProxy's colours and with its class names, so the page looks the same.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass

from pylvs.control.haproxy.page_rows import row_html
from pylvs.control.haproxy.rows import backend_row, frontend_row, listener_row, server_row
from pylvs.control.haproxy.stat import StatOptions, hidden_when_up
from pylvs.model.proxies import ADMF_MAINT, ProxiesSnapshot, ProxyView

PRODUCT_URL = "http://www.haproxy.org/"
STATUS_MESSAGES = {
    "DONE": ("active_up", "Action processed successfully."),
    "NONE": ("active_going_down", "Nothing has changed."),
    "PART": (
        "active_going_down",
        "Action partially processed.<br>Some server names are probably unknown or ambiguous "
        "(duplicated names in the backend).",
    ),
    "ERRP": (
        "active_down",
        "Action not processed because of invalid parameters.<ul><li>The action is maybe "
        "unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name "
        "is probably unknown or ambiguous (duplicated names).</li><li>Some server names are "
        "probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
    ),
    "EXCD": (
        "active_down",
        "<b>Action not processed : the buffer couldn't store all the data.<br>You should "
        "retry with less servers at a time.</b>",
    ),
    "DENY": ("active_down", "<b>Action denied.</b>"),
    "IVAL": (
        "active_down",
        "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
    ),
    "UNKN": ("active_no_check", "Unexpected result."),
}
_ACTIONS = (
    ("", ""),
    ("ready", "Set state to READY"),
    ("drain", "Set state to DRAIN"),
    ("maint", "Set state to MAINT"),
    ("dhlth", "Health: disable checks"),
    ("ehlth", "Health: enable checks"),
    ("hrunn", "Health: force UP"),
    ("hnolb", "Health: force NOLB"),
    ("hdown", "Health: force DOWN"),
    ("dagent", "Agent: disable checks"),
    ("eagent", "Agent: enable checks"),
    ("arunn", "Agent: force UP"),
    ("adown", "Agent: force DOWN"),
    ("shutdown", "Kill Sessions"),
)
_COLUMNS = [
    "Cur",
    "Max",
    "Limit",
    "Cur",
    "Max",
    "Limit",
    "Cur",
    "Max",
    "Limit",
    "Total",
    "LbTot",
    "Last",
    "In",
    "Out",
    "Req",
    "Resp",
    "Req",
    "Conn",
    "Resp",
    "Retr",
    "Redis",
    "Status",
    "LastChk",
    "Wght",
    "Act",
    "Bck",
    "Chk",
    "Dwn",
    "Dwntme",
    "Thrtle",
]
_GROUPS = (
    ("Queue", 3),
    ("Session rate", 3),
    ("Sessions", 6),
    ("Bytes", 2),
    ("Denied", 2),
    ("Errors", 3),
    ("Warnings", 2),
    ("Server", 9),
)
_ROW_COLOURS = (
    ("frontend", "#e8e8d0"),
    ("socket", "#d0d0d0"),
    ("backend", "#e8e8d0"),
    ("active_down", "#ff9090"),
    ("active_going_up", "#ffd020"),
    ("active_going_down", "#ffffa0"),
    ("active_up", "#c0ffc0"),
    ("active_nolb", "#20a0ff"),
    ("active_draining", "#20a0ff"),
    ("active_no_check", "#e0e0e0"),
    ("backup_down", "#ff9090"),
    ("backup_going_up", "#ff80ff"),
    ("backup_going_down", "#c060ff"),
    ("backup_up", "#b0d0ff"),
    ("backup_nolb", "#90b0e0"),
    ("backup_draining", "#cc9900"),
    ("backup_no_check", "#e0e0e0"),
    ("maintain", "#c07820"),
)


@dataclass(frozen=True, slots=True)
class PageView:
    """How one request sees the page: the `stats` settings and the request's own options."""

    uri: str = "/haproxy?stats"  # `stats uri`: the prefix every link starts with
    refresh: int = 0  # `stats refresh`, seconds
    admin: bool = False  # STAT_ADMIN: `stats admin` matched this request
    legends: bool = False  # `stats show-legends`
    hide_version: bool = False
    node: str | None = None  # `stats show-node [name]`: the name shown (None: not shown)
    desc: str | None = None  # `stats show-desc [text]`
    hide_down: bool = False  # ;up
    hide_maint: bool = False  # ;no-maint
    no_refresh: bool = False  # ;norefresh
    scope: str = ""  # ?scope=TEXT (at most 20 characters)
    status: str = ""  # ;st=CODE: the result of the last admin action
    proxies: tuple[str, ...] = ()  # `stats scope`: only these proxies ("." = this one)
    this_proxy: str = ""  # the proxy serving the page (for `stats scope .`)


def _style() -> str:
    colours = "".join(f".{name} {{background: {c};}}\n" for name, c in _ROW_COLOURS)
    return (
        '<style type="text/css"><!--\n'
        "body { font-family: arial, helvetica, sans-serif; font-size: 12px; color: black;"
        " background: white;}\nth,td { font-size: 10px;}\nh1 { font-size: x-large;"
        " margin-bottom: 0.5em;}\nh2 { font-family: helvetica, arial; font-size: x-large;"
        " font-weight: bold; font-style: italic; color: #6020a0; margin: 0;}\n"
        "h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold;"
        " color: #b00040; background: #e8e8d0; margin: 0;}\nli { margin-top: 0.25em;"
        " margin-right: 2em;}\n.hr { margin-top: 0.25em; border-color: black;"
        " border-bottom-style: solid;}\n.titre { background: #20D0D0; color: #000000;"
        " font-weight: bold; text-align: center;}\n" + colours + ".rls { letter-spacing: 0.2em;"
        " margin-right: 1px;}\na.px:link, a.px:visited { color: #ffff40; text-decoration: none;}"
        "\na.px:hover { color: #ffffff; text-decoration: none;}\na.lfsb:link, a.lfsb:visited"
        " { color: #000000; text-decoration: none;}\na.lfsb:hover { color: #505050;"
        " text-decoration: none;}\ntable.tbl { border-collapse: collapse; border-style: none;}\n"
        "table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px;"
        " white-space: nowrap;}\ntable.tbl td.ac { text-align: center;}\n"
        "table.tbl th { border: 1px solid gray;}\ntable.tbl th.pxname { background: #b00040;"
        " color: #ffff40; font-weight: bold; border-style: solid solid none solid;"
        " padding: 2px 3px; white-space: nowrap;}\ntable.tbl th.empty { border-style: none;"
        " empty-cells: hide; background: white;}\ntable.tbl th.desc { background: white;"
        " border-style: solid solid none solid; text-align: left; padding: 2px 3px;}\n"
        "table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none"
        " solid; border-color: black;}\ntable.lgd td { border: 1px solid gray; padding: 2px;}\n"
        "table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}\n"
        "table.det { border-collapse: collapse; border-style: none;}\ntable.det th"
        " { text-align: left; border-width: 0; padding: 0 1px 0 0; font-size: 11px;"
        " font-weight: bold; font-family: sans-serif;}\ntable.det td { text-align: right;"
        " border-width: 0; padding: 0 0 0 4px; white-space: nowrap; font-size: 11px;}\n"
        "u { text-decoration: none; border-bottom: 1px dotted black;}\ndiv.tips { display: block;"
        " visibility: hidden; z-index: 2147483647; position: absolute; padding: 2px 4px 3px;"
        " background: #f0f060; color: #000000; border: 1px solid #7040c0; white-space: nowrap;"
        " font-size: 11px; border-radius: 3px; box-shadow: gray 2px 2px 3px;}\n"
        "u:hover div.tips { visibility: visible;}\n-->\n</style>"
    )


def head(view: PageView) -> str:
    node = f" on {view.node}" if view.node is not None else ""
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"\n'
        '"http://www.w3.org/TR/html4/loose.dtd">\n'
        f"<html><head><title>Statistics Report for HAProxy{node}</title>\n"
        '<link rel="icon" href="data:,">\n'
        '<meta http-equiv="content-type" content="text/html; charset=iso-8859-1">\n'
        + _style()
        + "</head>\n"
    )


def _suffix(view: PageView, up: bool, norefresh: bool) -> str:
    scope = f"?scope={view.scope}" if view.scope else ""
    return view.uri + (";up" if up else "") + (";norefresh" if norefresh else "") + scope


def _legend_table() -> str:
    cells = (
        ("active_up", "active UP ", "backup_up", "backup UP "),
        (
            "active_going_down",
            "active UP, going down ",
            "backup_going_down",
            "backup UP, going down ",
        ),
        ("active_going_up", "active DOWN, going up ", "backup_going_up", "backup DOWN, going up "),
        ("active_down", "active or backup DOWN &nbsp;", "active_no_check", "not checked "),
    )
    rows = []
    for i, (c1, t1, c2, t2) in enumerate(cells):
        pad = "&nbsp;" if i == 0 else ""
        rows.append(
            f'<td class="{c1}">{pad}</td><td class="noborder">{t1}</td>'
            f'<td class="{c2}">{pad}</td><td class="noborder">{t2}</td>'
        )
    rows.append(
        '<td class="maintain"></td><td class="noborder" colspan="3">active or backup DOWN for '
        "maintenance (MAINT) &nbsp;</td>"
    )
    rows.append(
        '<td class="active_draining"></td><td class="noborder" colspan="3">active or backup '
        "SOFT STOPPED for maintenance &nbsp;</td>"
    )
    return '<table class="lgd"><tr>\n' + "</tr><tr>\n".join(rows) + "</tr></table>\n"


def info_block(snapshot: ProxiesSnapshot, view: PageView) -> str:
    """stats_dump_html_info."""
    info = snapshot.info
    up = max(0, int(snapshot.now) - int(info.started))
    bps = info.bytes_out_rate // 32 * 32 * 8 * 1538 // 1448
    scale, unit = (1e9, "G") if bps >= 1e9 else (1e6, "M") if bps >= 1e6 else (1e3, "k")
    version = "" if view.hide_version else f" version {info.version}, released {info.release_date}"
    node = f" on {view.node}" if view.node is not None else ""
    desc = f": {view.desc}" if view.desc is not None else ""
    memmax = f"{info.memmax_mb} MB" if info.memmax_mb else "unlimited"
    out = (
        f'<body><h1><a href="{PRODUCT_URL}" style="text-decoration: none;">HAProxy{version}</a>'
        f"</h1>\n<h2>Statistics Report for pid {info.pid}{node}{desc}</h2>\n"
        '<hr width="100%" class="hr">\n<h3>&gt; General process information</h3>\n'
        '<table border=0><tr><td align="left" nowrap width="1%">\n'
        f"<p><b>pid = </b> {info.pid} (process #1, nbproc = 1, nbthread = {info.nbthread})<br>\n"
        f"<b>uptime = </b> {up // 86400}d {up % 86400 // 3600}h{up % 3600 // 60:02d}m"
        f"{up % 60:02d}s<br>\n"
        f"<b>system limits:</b> memmax = {memmax}; ulimit-n = {info.ulimit_n}<br>\n"
        f"<b>maxsock = </b> {info.maxsock}; <b>maxconn = </b> {info.maxconn}; "
        "<b>maxpipes = </b> 0<br>\n"
        f"current conns = {info.curr_conns}; current pipes = 0/0; conn rate = "
        f"{info.conn_rate}/sec; bit rate = {bps / scale:.3f} {unit}bps<br>\n"
        f"Running tasks: {info.run_queue}/{info.tasks}; idle = {info.idle_pct} %<br>\n"
        '</td><td align="center" nowrap>\n'
        + _legend_table()
        + 'Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.</td>'
        '<td align="left" valign="top" nowrap width="1%"><b>Display option:</b>'
        '<ul style="margin-top: 0.25em;">'
        f'<li><form method="GET">Scope : <input value="{view.scope}" name="scope" size="8" '
        'maxlength="20" tabindex="1"/></form>\n'
    )
    if view.hide_down:
        out += f'<li><a href="{_suffix(view, False, view.no_refresh)}">Show all servers</a><br>\n'
    else:
        out += (
            f"<li><a href=\"{_suffix(view, True, view.no_refresh)}\">Hide 'DOWN' servers</a><br>\n"
        )
    if view.refresh > 0:
        if view.no_refresh:
            out += f'<li><a href="{_suffix(view, view.hide_down, False)}">Enable refresh</a><br>\n'
        else:
            out += f'<li><a href="{_suffix(view, view.hide_down, True)}">Disable refresh</a><br>\n'
    out += f'<li><a href="{_suffix(view, view.hide_down, view.no_refresh)}">Refresh now</a><br>\n'
    scope = f"?scope={view.scope}" if view.scope else ""
    norefresh = ";norefresh" if view.refresh > 0 else ""
    out += (
        f'<li><a href="{view.uri};csv{norefresh}{scope}">CSV export</a><br>\n'
        f'<li><a href="{view.uri};json{norefresh}{scope}">JSON export</a> '
        f'(<a href="{view.uri};json-schema">schema</a>)<br>\n'
        '</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b>'
        '<ul style="margin-top: 0.25em;">\n'
        f'<li><a href="{PRODUCT_URL}">Primary site</a><br>\n'
        f'<li><a href="{PRODUCT_URL}#down">Updates (v2.6)</a><br>\n'
        f'<li><a href="{PRODUCT_URL}#docs">Online manual</a><br>\n'
        "</ul></td></tr></table>\n"
    )
    if view.status:
        cls, text = STATUS_MESSAGES.get(view.status, STATUS_MESSAGES["UNKN"])
        link = _suffix(view, view.hide_down, view.no_refresh)
        out += (
            f'<p><div class={cls}><a class=lfsb href="{link}" title="Remove this message">[X]</a> '
            f"{text}</div>\n<p>\n"
        )
    return out


def proxy_header(px: ProxyView, view: PageView) -> str:
    """stats_dump_html_px_hdr."""
    form = view.admin and px.backend is not None and bool(px.servers)
    u, end = ("<u>", "</u>") if view.legends else ("", "")
    tips = (
        f"<div class=tips>cap: {px.cap}, mode: {px.mode}, id: {px.id}</div>" if view.legends else ""
    )
    desc_cls, desc = ("desc", _html.escape(px.desc)) if px.desc else ("empty", "")
    out = '<form method="post">' if form else ""
    out += (
        '<table class="tbl" width="100%">\n<tr class="titre">'
        f'<th class="pxname" width="10%"><a name="{px.name}"></a>{u}'
        f'<a class=px href="#{px.name}">{px.name}</a>{tips}{end}</th>'
        f'<th class="{desc_cls}" width="90%">{desc}</th></tr>\n</table>\n'
        '<table class="tbl" width="100%">\n<tr class="titre">'
    )
    if view.admin:
        if form:
            out += (
                '<th rowspan=2 width=1><input type="checkbox" onclick="for(c in '
                f"document.getElementsByClassName('{px.name}-checkbox')) "
                f"document.getElementsByClassName('{px.name}-checkbox').item(c).checked = "
                'this.checked"></th>'
            )
        else:
            out += "<th rowspan=2></th>"
    out += "<th rowspan=2></th>" + "".join(f"<th colspan={n}>{g}</th>" for g, n in _GROUPS)
    out += '</tr>\n<tr class="titre">' + "".join(f"<th>{c}</th>" for c in _COLUMNS) + "\n</tr>"
    return out


def proxy_footer(px: ProxyView, view: PageView) -> str:
    """stats_dump_html_px_end."""
    out = "</table>"
    if view.admin and px.backend is not None and px.servers:
        options = "".join(f'<option value="{v}">{t}</option>' for v, t in _ACTIONS)
        out += (
            "Choose the action to perform on the checked servers : "
            f"<select name=action>{options}</select>"
            f'<input type="hidden" name="b" value="#{px.id}">'
            '&nbsp;<input type="submit" value="Apply"></form>'
        )
    return out + "<p>\n"


def shown(px: ProxyView, view: PageView) -> bool:
    """`stats scope` and the page's `scope=` box: is this proxy on the page?"""
    in_scope = px.name in view.proxies or ("." in view.proxies and px.name == view.this_proxy)
    if view.proxies and not in_scope:
        return False
    return not view.scope or view.scope.lower() in px.name.lower()


def proxy_table(px: ProxyView, snapshot: ProxiesSnapshot, view: PageView) -> str:
    now, legends, admin = snapshot.now, view.legends, view.admin
    rows = []
    if px.frontend is not None:
        rows.append(frontend_row(px))
        rows += [listener_row(px, li, legends) for li in px.listeners]
    if px.backend is not None:
        for sv in px.servers:
            if view.hide_maint and sv.admin & ADMF_MAINT:
                continue
            if view.hide_down and hidden_when_up(sv):
                continue
            rows.append(server_row(px, sv, now, legends))
        rows.append(backend_row(px, now, legends, view.hide_down or view.hide_maint))
    body = "".join(row_html(r, admin, legends) for r in rows)
    return proxy_header(px, view) + body + proxy_footer(px, view)


def render_page(snapshot: ProxiesSnapshot, view: PageView) -> str:
    """The whole HTML page."""
    tables = "".join(proxy_table(px, snapshot, view) for px in snapshot.proxies if shown(px, view))
    return head(view) + info_block(snapshot, view) + tables + "</body></html>\n"


def stat_options(view: PageView, fmt: str) -> StatOptions:
    """The CSV / typed / JSON exports of the page (`;csv`): the page's filters and legends."""
    return StatOptions(
        fmt=fmt, hide_maint=view.hide_maint, hide_down=view.hide_down, legends=view.legends
    )
