"""`show sess`, `shutdown session` and `show errors` (src/stream.c, src/proxy.c, src/tools.c).

HAProxy names a stream by its address in memory; pylvs prints a stable made-up address for a
`SessionView.id` (`session_pointer`) and reads it back for `show sess <ptr>` and `shutdown
session <ptr>`.  The stream flags HAProxy prints (buffer flags, analysers, connector states)
are its internals: pylvs prints those of an established stream with nothing being analysed,
and the values it does know (addresses, proxies, server, age, buffered bytes, timers, file
descriptors) from the snapshot.
"""

from __future__ import annotations

from datetime import datetime

from pylvs.control.haproxy.context import Context, Reply, err
from pylvs.model.proxies import ErrorCapture, SessionView
from pylvs.proto.stick import Level
from pylvs.sched.haproxy.cnum import strtol

SESSION_BASE = 0x55D05E550000
SESSION_STEP = 0x400
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def session_pointer(session_id: int) -> int:
    return SESSION_BASE + session_id * SESSION_STEP


def session_id(pointer: int) -> int | None:
    offset = pointer - SESSION_BASE
    if offset < 0 or offset % SESSION_STEP:
        return None
    return offset // SESSION_STEP


def human_time(seconds: int) -> str:
    """tools.c human_time: at most two units of d/h/m/s, "0s" for zero, "?" if negative."""
    if seconds < 0:
        return "?"
    out, left = "", 2
    for size, span, unit in ((86400, 1 << 62, "d"), (3600, 86400, "h"), (60, 3600, "m")):
        value = seconds % span // size
        if left and value:
            out += f"{value}{unit}"
            left -= 1
    if (left and seconds % 60) or not seconds:
        out += f"{seconds % 60}s"
    return out


def _timer(ms: int | None) -> str:
    return "" if ms is None else human_time(ms // 1000)


def session_line(s: SessionView, now: float) -> str:
    """One line of `show sess` (cli_io_handler_dump_sess)."""
    line = f"0x{session_pointer(s.id):x}: proto={s.proto}"
    be = s.backend if s.backend is not None else "<NONE>"
    srv = s.server if s.server is not None else "<none>"
    if s.proto == "unix_stream":
        line += f" src=unix:{s.src_port} fe={s.frontend} be={be} srv={srv}"
    elif s.src:
        line += f" src={s.src}:{s.src_port} fe={s.frontend} be={be} srv={srv}"
    epoch = f"{s.epoch:#x}" if s.epoch else "0"
    line += (
        f" ts=00 epoch={epoch} age={human_time(int(now - s.accepted))} calls={s.calls}"
        f" rate=0 cpu=0 lat=0"
        f" rq[f=848202h,i={s.req_bytes},an=00h,rx={_timer(s.expire_ms)},wx=,ax=]"
        f" rp[f=80048202h,i={s.res_bytes},an=00h,rx={_timer(s.expire_ms)},wx=,ax=]"
        f" scf=[8,1h,fd={s.client_fd}] scb=[8,{'11' if s.server_fd >= 0 else '1'}h,"
        f"fd={s.server_fd}] exp={_timer(s.expire_ms)} rc={s.retries} c_exp="
    )
    return line + "\n"


def _sessions(ctx: Context) -> list[SessionView]:
    found = list(ctx.runtime.sessions())
    if ctx.cli_sessions is not None:
        found += ctx.cli_sessions()
    return found


def show_sess(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`show sess [id|all]`: all streams, one line each (`all` and a pointer: the same line,
    pylvs keeps no per-stream detail dump)."""
    denied = ctx.denied(Level.OPERATOR)
    if denied is not None:
        return denied
    now = ctx.runtime.snapshot().now
    sessions = _sessions(ctx)
    arg = words[2] if len(words) > 2 else ""
    if arg and arg != "all":
        wanted = session_id(strtol(arg, 0)[0])
        sessions = [s for s in sessions if s.id == wanted]
        if not sessions:
            return Reply("Session not found.\n")
    return Reply("".join(session_line(s, now) for s in sessions))


def shutdown_session(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    pointer = strtol(words[2] if len(words) > 2 else "", 0)[0]
    if not pointer:
        return err("Session pointer expected (use 'show sess').\n")
    wanted = session_id(pointer)
    if wanted is None or not ctx.runtime.shutdown_session(wanted):
        return err("No such session (use 'show sess').\n")
    return Reply("")


def _date(when: float) -> str:
    tm = datetime.fromtimestamp(when)  # HAProxy prints local time (get_localtime)
    return (
        f"{tm.day:02d}/{_MONTHS[tm.month - 1]}/{tm.year:04d}:"
        f"{tm.hour:02d}:{tm.minute:02d}:{tm.second:02d}.{tm.microsecond // 1000:03d}"
    )


def _piece(c: int) -> str:
    if 32 <= c < 127 and c != 0x5C:
        return chr(c)
    if c in _ESCAPES:
        return "\\" + _ESCAPES[c]
    return f"\\x{c:02X}"


_ESCAPES = {9: "t", 10: "n", 13: "r", 27: "e", 0x5C: "\\"}


def text_lines(data: bytes, bufsize: int = 16384) -> str:
    """dump_text_line over a captured buffer: `  00000  GET / HTTP/1.1\\r\\n` lines of at
    most 80 columns, `+` after the offset marking a line continued from the previous one."""
    out, ptr, bol = [], 0, 0
    while ptr < min(len(data), bufsize):
        row = f"  {ptr:05d}{' ' if ptr == bol else '+'} "
        while ptr < len(data):
            piece = _piece(data[ptr])
            if len(row) > 80 - 1 - len(piece):
                break
            row += piece
            ptr += 1
            if data[ptr - 1] == 10:
                bol = ptr
                break
        out.append(row + "\n")
    return "".join(out)


def error_block(es: ErrorCapture, bufsize: int = 16384) -> str:
    """One capture of `show errors`."""
    if not es.response:
        head = (
            f" frontend {es.proxy} (#{es.proxy_id}): invalid request\n"
            f"  backend {es.other or '<NONE>'} (#{es.other_id if es.other else -1})"
        )
    else:
        head = (
            f" backend {es.proxy} (#{es.proxy_id}): invalid response\n"
            f"  frontend {es.other or '<NONE>'} (#{es.other_id if es.other else -1})"
        )
    free = bufsize - es.buf_out - len(es.data)
    return (
        f" \n[{_date(es.when)}]{head}, server {es.server or '<NONE>'} "
        f"(#{es.server_id if es.server else -1}), event #{es.event}, src {es.src}:{es.src_port}\n"
        f"  buffer starts at {es.buf_ofs} (including {es.buf_out} out), {free} free,\n"
        f"  len {len(es.data)}, wraps at {es.buf_wrap}, error at position {es.error_at}\n"
        f"{es.extra}  \n{text_lines(es.data, bufsize)}"
    )


def show_errors(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_show_errors / cli_io_handler_show_errors."""
    denied = ctx.denied(Level.OPERATOR)
    if denied is not None:
        return denied
    snapshot = ctx.runtime.snapshot()
    iid = -1
    if len(words) > 2 and words[2]:
        px = next((p for p in snapshot.proxies if p.name == words[2]), None)
        iid = px.id if px is not None else strtol(words[2])[0]
        if not iid:
            return err("No such proxy.\n")
    which = words[3] if len(words) > 3 else ""
    log = ctx.runtime.errors()
    out = f"Total events captured on [{_date(snapshot.now)}] : {log.total}\n"
    for px in snapshot.proxies:
        for response in (False, True):
            if (which == "request" and response) or (which == "response" and not response):
                continue
            for es in log.captures:
                if es.proxy_id != px.id or es.response != response:
                    continue
                if iid >= 0 and iid not in (px.id, es.other_id):
                    continue
                out += error_block(es)
    return Reply(out)
