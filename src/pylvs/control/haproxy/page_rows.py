"""The stats page's table rows: one `<tr>` per frontend, listener, server and backend, built
from the same `show stat` fields as the CSV (src/stats.c stats_dump_fields_html).

Each row has HAProxy's 29 columns (plus the admin checkbox column): queue, session rate,
sessions (with the hover boxes of rates, HTTP responses, timings), bytes, denied, errors,
warnings, then the server block (status with the time since the last change, last check,
weight, active/backup, check failures, down transitions, downtime, throttle).  A server's
row class says its state the way the page's legend does (`active_up`, `backup_going_down`,
`maintain`...).
"""

from __future__ import annotations

import html as _html

from pylvs.control.haproxy.fields import Field, Row, thousands
from pylvs.control.haproxy.names import STAT_INDEX
from pylvs.control.haproxy.rows import TYPE_BE, TYPE_FE, TYPE_SO, TYPE_SV
from pylvs.control.haproxy.streams import human_time


class _F:
    """Field access by name on a row."""

    def __init__(self, row: Row) -> None:
        self.row = row

    def get(self, name: str) -> Field | None:
        return self.row[STAT_INDEX[name]]

    def num(self, name: str) -> int:
        f = self.get(name)
        return int(f.value) if f is not None and f.kind != "str" else 0

    def text(self, name: str) -> str:
        f = self.get(name)
        return str(f.value) if f is not None and f.kind == "str" else ""

    def h(self, name: str) -> str:
        """U2H."""
        return thousands(self.num(name) & ((1 << 64) - 1))

    def lim(self, name: str) -> str:
        """LIM2A(value, "-")."""
        n = self.num(name)
        return str(n) if n else "-"

    def has(self, name: str) -> bool:
        return self.get(name) is not None


def _pct(part: int, whole: int) -> int:
    return 100 * part // whole if whole else 0


def _tips(rows: list[str]) -> str:
    return "<div class=tips><table class=det>" + "".join(rows) + "</table></div>"


def _tr(label: str, value: str, extra: str | None = None) -> str:
    tail = f"<td>{extra}</td>" if extra is not None else ""
    return f"<tr><th>{label}</th><td>{value}</td>{tail}</tr>"


def _responses(f: _F) -> list[str]:
    """The HTTP part of a frontend's or backend's sessions box (one line per status class)."""
    r2 = f.num("hrsp_2xx")
    return [
        _tr("Cum. HTTP requests:", f.h("req_tot")),
        _tr("- HTTP 1xx responses:", f.h("hrsp_1xx")),
        _tr("- HTTP 2xx responses:", f.h("hrsp_2xx")),
        _tr("&nbsp;&nbsp;Compressed 2xx:", f.h("comp_rsp"), f"({_pct(f.num('comp_rsp'), r2)}%)"),
        _tr("- HTTP 3xx responses:", f.h("hrsp_3xx")),
        _tr("- HTTP 4xx responses:", f.h("hrsp_4xx")),
        _tr("- HTTP 5xx responses:", f.h("hrsp_5xx")),
        _tr("- other responses:", f.h("hrsp_other")),
    ]


def _cache(f: _F) -> list[str]:
    lookups = f.num("cache_lookups")
    return [
        _tr("Cache lookups:", f.h("cache_lookups")),
        _tr("Cache hits:", f.h("cache_hits"), f"({_pct(f.num('cache_hits'), lookups)}%)"),
        _tr("Failed hdr rewrites:", f.h("wrew")),
        _tr("Internal errors:", f.h("eint")),
    ]


def _bytes_out(f: _F) -> str:
    comp_in, comp_out, byp = f.num("comp_in"), f.num("comp_out"), f.num("comp_byp")
    u = comp_in or byp
    saved = (comp_in - comp_out) & ((1 << 64) - 1)
    box = _tips(
        [
            _tr("Response bytes in:", f.h("bout")),
            _tr("Compression in:", f.h("comp_in")),
            _tr("Compression out:", f.h("comp_out"), f"({_pct(comp_out, comp_in)}%)"),
            _tr("Compression bypass:", f.h("comp_byp")),
            _tr("Total bytes saved:", thousands(saved), f"({_pct(saved, f.num('bout'))}%)"),
        ]
    )
    return f"<td>{'<u>' if u else ''}{f.h('bout')}{box}{'</u>' if u else ''}</td>"


def _timings(f: _F, http: bool) -> list[str]:
    rows = ["<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>"]
    pairs = [("Queue", "qtime"), ("Connect", "ctime")]
    if http:
        pairs.append(("Responses", "rtime"))
    pairs.append(("Total", "ttime"))
    for label, name in pairs:
        rows.append(
            f"<tr><th>- {label} time:</th><td>{f.h(name + '_max')} / {f.h(name)}</td>"
            "<td>ms</td></tr>"
        )
    return rows


def frontend_html(f: _F, admin: bool) -> str:
    px, http = f.text("pxname"), f.text("mode") == "http"
    cur = [_tr("Current connection rate:", f.h("conn_rate") + "/s")]
    cur.append(_tr("Current session rate:", f.h("rate") + "/s"))
    peak = [_tr("Max connection rate:", f.h("conn_rate_max") + "/s")]
    peak.append(_tr("Max session rate:", f.h("rate_max") + "/s"))
    if http:
        cur.append(_tr("Current request rate:", f.h("req_rate") + "/s"))
        peak.append(_tr("Max request rate:", f.h("req_rate_max") + "/s"))
    totals = [_tr("Cum. connections:", f.h("conn_tot")), _tr("Cum. sessions:", f.h("stot"))]
    if http:
        totals += _responses(f)
        totals += [_tr("Intercepted requests:", f.h("intercepted")), *_cache(f)]
    return (
        '<tr class="frontend">'
        + ("<td></td>" if admin else "")
        + f'<td class=ac><a name="{px}/Frontend"></a>'
        f'<a class=lfsb href="#{px}/Frontend">Frontend</a></td><td colspan=3></td>'
        f"<td><u>{f.h('rate')}{_tips(cur)}</u></td>"
        f"<td><u>{f.h('rate_max')}{_tips(peak)}</u></td><td>{f.lim('rate_lim')}</td>"
        f"<td>{f.h('scur')}</td><td>{f.h('smax')}</td><td>{f.h('slim')}</td>"
        f"<td><u>{f.h('stot')}{_tips(totals)}</u></td><td></td><td></td>"
        f"<td>{f.h('bin')}</td>{_bytes_out(f)}"
        f"<td>{f.h('dreq')}</td><td>{f.h('dresp')}</td><td>{f.h('ereq')}</td><td></td><td></td>"
        f"<td></td><td></td><td class=ac>{f.text('status')}</td><td class=ac colspan=8></td>"
        "</tr>"
    )


def _legend(f: _F, legends: bool, cookie: bool) -> str:
    """The hover box under a listener's or server's name: address, id, cookie."""
    if not legends:
        return ""
    addr = f.text("addr")
    out = "<div class=tips>"
    if addr[:1].isdigit():
        out += f"IPv4: {addr}, "
    elif addr.startswith("["):
        out += f"IPv6: {addr}, "
    elif addr:
        out += f"{addr}, "
    out += f"id: {f.num('sid')}"
    if cookie and f.has("cookie"):
        out += f", cookie: '{_html.escape(f.text('cookie'), quote=False)}'"
    return out + "</div>"


def listener_html(f: _F, admin: bool, legends: bool) -> str:
    px, name = f.text("pxname"), f.text("svname")
    u, end = ("<u>", "</u>") if legends else ("", "")
    return (
        "<tr class=socket>"
        + ("<td></td>" if admin else "")
        + f'<td class=ac><a name="{px}/+{name}"></a>{u}'
        f'<a class=lfsb href="#{px}/+{name}">{name}</a>{_legend(f, legends, False)}{end}</td>'
        "<td colspan=3></td><td colspan=3>&nbsp;</td>"
        f"<td>{f.h('scur')}</td><td>{f.h('smax')}</td><td>{f.h('slim')}</td>"
        f"<td>{f.h('stot')}</td><td>&nbsp;</td><td>&nbsp;</td>"
        f"<td>{f.h('bin')}</td><td>{f.h('bout')}</td>"
        f"<td>{f.h('dreq')}</td><td>{f.h('dresp')}</td><td>{f.h('ereq')}</td><td></td><td></td>"
        f"<td></td><td></td><td class=ac>{f.text('status')}</td><td class=ac colspan=8></td>"
        "</tr>"
    )


def server_style(f: _F) -> str:
    status = f.text("status")
    if status in ("DOWN", "DOWN (agent)"):
        return "down"
    if status.startswith("DOWN "):
        return "going_up"
    if status == "DRAIN":
        return "draining"
    if status.startswith("NOLB "):
        return "going_down"
    if status == "NOLB":
        return "nolb"
    if status == "no check":
        return "no_check"
    full = f.num("check_rise") + f.num("check_fall") - 1
    if not f.has("chkfail") or f.num("check_health") == full:
        return "up" if f.num("weight") else "draining"
    return "going_down"


def _server_status(f: _F) -> str:
    status, age = f.text("status"), human_time(f.num("lastchg"))
    if status.startswith("MAINT"):
        out = f"{age} MAINT"
    elif status == "no check":
        out = "<i>no check</i>"
    else:
        out = f"{age} {status}"
        if status.startswith("DOWN"):
            out += " &uarr;" if f.num("check_health") else ""
        elif f.num("check_health") < f.num("check_rise") + f.num("check_fall") - 1:
            out += " &darr;"
    agent_down = f.has("agent_status") and not f.num("agent_health")
    if status.startswith("DOWN") and agent_down:
        return out + _check_cell(f, "agent", "last_agt")
    if f.has("check_status"):
        return out + _check_cell(f, "check", "last_chk")
    return out + "</td><td>"


def _check_cell(f: _F, prefix: str, last: str) -> str:
    out = f"</td><td class=ac><u> {f.text(prefix + '_status')}"
    if f.has(prefix + "_code"):
        out += f"/{f.num(prefix + '_code')}"
    if f.has(prefix + "_duration"):
        out += f" in {f.num(prefix + '_duration')}ms"
    out += f"<div class=tips>{f.text(prefix + '_desc')}"
    if f.text(last):
        out += ": " + _html.escape(f.text(last), quote=False)
    return out + "</div></u>"


def _server_checks(f: _F) -> str:
    status = f.text("status")
    if status == "MAINT (resolution)":
        return "<td class=ac colspan=3>resolution</td>"
    if f.has("chkfail"):
        hana = f"/{f.num('hanafail')}" if f.has("hanafail") else ""
        what = "/Health Analyses" if f.has("hanafail") else ""
        return (
            f"<td><u>{f.num('chkfail')}{hana}<div class=tips>Failed Health Checks{what}</div>"
            f"</u></td><td>{f.num('chkdown')}</td><td>{human_time(f.num('downtime'))}</td>"
        )
    if status != "MAINT" and f.has("tracked"):
        via = f.text("tracked")
        return f'<td class=ac colspan=3><a class=lfsb href="#{via}">via {via}</a></td>'
    return "<td colspan=3></td>"


def _server_sessions(f: _F, http: bool) -> str:
    conns = _tips(
        [
            _tr("Current active connections:", f.h("scur")),
            _tr("Current used connections:", f.h("used_conn_cur")),
            _tr("Current idle connections:", f.h("srv_icur")),
            _tr("- unsafe:", f.h("idle_conn_cur")),
            _tr("- safe:", f.h("safe_conn_cur")),
            _tr("Estimated need of connections:", f.h("need_conn_est")),
            _tr("Active connections limit:", f.lim("slim")),
            _tr("Idle connections limit:", f.h("src_ilim") if f.has("src_ilim") else "-"),
        ]
    )
    totals = [_tr("Cum. sessions:", f.h("stot"))]
    if http:
        req = f.num("req_tot")
        conn, reuse = f.num("connect"), f.num("reuse")
        totals += [
            _tr("New connections:", f.h("connect")),
            _tr("Reused connections:", f.h("reuse"), f"({_pct(reuse, conn + reuse)}%)"),
            _tr("Cum. HTTP requests:", f.h("req_tot")),
        ]
        for label, name in (
            ("1xx", "hrsp_1xx"),
            ("2xx", "hrsp_2xx"),
            ("3xx", "hrsp_3xx"),
            ("4xx", "hrsp_4xx"),
            ("5xx", "hrsp_5xx"),
        ):
            totals.append(
                _tr(f"- HTTP {label} responses:", f.h(name), f"({_pct(f.num(name), req)}%)")
            )
        totals.append(
            _tr("- other responses:", f.h("hrsp_other"), f"({_pct(f.num('hrsp_other'), req)}%)")
        )
        totals += [_tr("Failed hdr rewrites:", f.h("wrew")), _tr("Internal error:", f.h("eint"))]
    totals += _timings(f, http)
    return (
        f"<td><u>{f.h('scur')}{conns}</u></td><td>{f.h('smax')}</td><td>{f.lim('slim')}</td>"
        f"<td><u>{f.h('stot')}{_tips(totals)}</u></td>"
    )


def _errors_block(f: _F) -> str:
    return (
        f"<td><u>{f.h('eresp')}<div class=tips>Connection resets during transfers: "
        f"{f.num('cli_abrt')} client, {f.num('srv_abrt')} server</div></u></td>"
        f"<td>{f.num('wretr')}</td><td>{f.num('wredis')}</td>"
    )


def server_html(f: _F, admin: bool, legends: bool) -> str:
    px, name = f.text("pxname"), f.text("svname")
    backup = bool(f.num("bck"))
    cls = (
        "maintain"
        if f.text("status").startswith("MAINT")
        else f"{'backup' if backup else 'active'}_{server_style(f)}"
    )
    u, end = ("<u>", "</u>") if legends else ("", "")
    check = f'<td><input class=\'{px}-checkbox\' type="checkbox" name="s" value="{name}"></td>'
    throttle = f.get("throttle")
    return (
        f'<tr class="{cls}">'
        + (check if admin else "")
        + f'<td class=ac><a name="{px}/{name}"></a>{u}'
        f'<a class=lfsb href="#{px}/{name}">{name}</a>{_legend(f, legends, True)}{end}</td>'
        f"<td>{f.h('qcur')}</td><td>{f.h('qmax')}</td><td>{f.lim('qlimit')}</td>"
        f"<td>{f.h('rate')}</td><td>{f.h('rate_max')}</td><td></td>"
        + _server_sessions(f, f.text("mode") == "http")
        + f"<td>{f.h('lbtot')}</td><td>{human_time(f.num('lastsess'))}</td>"
        f"<td>{f.h('bin')}</td><td>{f.h('bout')}</td><td></td><td>{f.h('dresp')}</td>"
        f"<td></td><td>{f.h('econ')}</td>"
        + _errors_block(f)
        + f"<td class=ac>{_server_status(f)}</td>"
        f"<td class=ac>{f.num('weight')}/{f.num('uweight')}</td>"
        f"<td class=ac>{'-' if backup else 'Y'}</td><td class=ac>{'Y' if backup else '-'}</td>"
        + _server_checks(f)
        + (
            f"<td class=ac>{throttle.value} %</td>\n"
            if throttle is not None
            else "<td class=ac>-</td>"
        )
        + "</tr>\n"
    )


def _backend_sessions(f: _F, http: bool) -> str:
    totals = [_tr("Cum. sessions:", f.h("stot"))]
    if http:
        conn, reuse = f.num("connect"), f.num("reuse")
        totals += [
            _tr("New connections:", f.h("connect")),
            _tr("Reused connections:", f.h("reuse"), f"({_pct(reuse, conn + reuse)}%)"),
            *_responses(f),
            *_cache(f),
        ]
    totals += _timings(f, http)
    return (
        f"<td>{f.h('scur')}</td><td>{f.h('smax')}</td><td>{f.h('slim')}</td>"
        f"<td><u>{f.h('stot')}{_tips(totals)}</u></td>"
    )


def backend_html(f: _F, admin: bool, legends: bool) -> str:
    px = f.text("pxname")
    u, end = ("<u>", "</u>") if legends else ("", "")
    tips = ""
    if legends:
        tips = f"<div class=tips>balancing: {f.text('algo')}"
        if f.has("cookie"):
            tips += f", cookie: '{_html.escape(f.text('cookie'), quote=False)}'"
        tips += "</div>"
    status = f.text("status")
    shown = '<font color="red"><b>DOWN</b></font>' if status == "DOWN" else status
    downtime = human_time(f.num("downtime")) if f.has("downtime") else "&nbsp;"
    return (
        '<tr class="backend">'
        + ("<td></td>" if admin else "")
        + f'<td class=ac>{u}<a name="{px}/Backend"></a>'
        f'<a class=lfsb href="#{px}/Backend">Backend</a>{tips}{end}</td>'
        f"<td>{f.h('qcur')}</td><td>{f.h('qmax')}</td><td></td>"
        f"<td>{f.h('rate')}</td><td>{f.h('rate_max')}</td><td></td>"
        + _backend_sessions(f, f.text("mode") == "http")
        + f"<td>{f.h('lbtot')}</td><td>{human_time(f.num('lastsess'))}</td>"
        f"<td>{f.h('bin')}</td>{_bytes_out(f)}"
        f"<td>{f.h('dreq')}</td><td>{f.h('dresp')}</td><td></td><td>{f.h('econ')}</td>"
        + _errors_block(f)
        + f"<td class=ac>{human_time(f.num('lastchg'))} {shown}</td><td class=ac>&nbsp;</td>"
        f"<td class=ac>{f.num('weight')}/{f.num('uweight')}</td>"
        f"<td class=ac>{f.num('act')}</td><td class=ac>{f.num('bck')}</td>"
        f"<td class=ac>&nbsp;</td><td>{f.num('chkdown')}</td><td>{downtime}</td><td></td>"
        "</tr>"
    )


def row_html(row: Row, admin: bool, legends: bool) -> str:
    f = _F(row)
    kind = f.num("type")
    if kind == TYPE_FE:
        return frontend_html(f, admin)
    if kind == TYPE_SO:
        return listener_html(f, admin, legends)
    if kind == TYPE_SV:
        return server_html(f, admin, legends)
    assert kind == TYPE_BE
    return backend_html(f, admin, legends)
