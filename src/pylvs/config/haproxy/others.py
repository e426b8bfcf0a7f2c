"""The sections beside global and the proxies: `peers`, `userlist`, `http-errors`, and those
pylvs reads and does not act on (HAProxy 2.6 configuration §3).

A peers section lists its peers, where the local one listens and its stick tables (the
protocol: proto/peers, run by dataplane/haproxy/peers.py); a userlist has `user NAME
[password|insecure-password PASS] [groups G,...]` and `group NAME [users U,...]`.
"""

from __future__ import annotations

from pylvs.config.errors import Cite, Kind, Location
from pylvs.config.haproxy.addresses import read_bind, server_target
from pylvs.config.haproxy.model import (
    Bind,
    ErrorFile,
    HttpErrors,
    KeptSection,
    Peer,
    Peers,
    Userlist,
)
from pylvs.config.haproxy.replies import ERROR_CODES, ReplyError, load_errorfile
from pylvs.config.haproxy.unsupported import SECTIONS, message
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement
from pylvs.proto.stick.spec import SpecError, TableSpec, parse_stick_table
from pylvs.sched.haproxy.cnum import atoi


def read_peers(st: Statement, ctx: Context) -> Peers | None:
    """A peers section (src/cfgparse.c `cfg_parse_peers`): its peers (`peer NAME ADDR:PORT`,
    or `server NAME [ADDR:PORT]` with `bind` for the local one), its stick tables (`table NAME
    ...`, known to proxies as `SECTION/NAME`), `disabled` / `enabled`."""
    if not st.args:
        ctx.error(st.loc, "missing name for peers section.")
        return None
    name = st.args[0].text
    peers: list[Peer] = []
    tables: list[tuple[TableSpec, Location]] = []
    others: list[tuple[str, tuple[str, ...]]] = []
    disabled = False
    bind: Bind | None = None
    for line in st.block or ():
        if line.name in ("peer", "server"):
            peer = _peer(line, name, ctx)
            if peer is not None:
                peers.append(peer)
        elif line.name in ("disabled", "enabled"):
            disabled = line.name == "disabled"
        elif line.name == "table":
            table = _table(line, name, ctx)
            if table is not None:
                tables.append((table, line.loc))
        elif line.name == "bind":
            bind = _bind(line, ctx, bind)
        elif line.name in ("default-server", "default-bind", "log", "shards"):
            if line.name != "default-bind" and line.args:
                why = "pylvs's peers connections are plain TCP, not logged"
                ctx.warning(line.loc, message(f"{line.name} in peers", why), Kind.UNSUPPORTED)
            others.append((line.name, tuple(w.text for w in line.args)))
        else:
            ctx.error(line.loc, f"unknown keyword '{line.name}' in 'peers' section")
    return Peers(st.loc, name, tuple(peers), disabled, tuple(tables), tuple(others), bind)


def _bind(line: Statement, ctx: Context, before: Bind | None) -> Bind | None:
    """`bind ADDR`: where the local peer listens (one listener per section)."""
    if before is not None:
        ctx.error(
            line.loc,
            'One listener per "peers" section is authorized but another is already configured'
            f" at [{before.loc.file}:{before.loc.line}].",
        )
        return before
    return read_bind(line, ctx, "bind")


def _peer(line: Statement, section: str, ctx: Context) -> Peer | None:
    """A peer's address is read as a server's (HAProxy's parse_server): a missing port is
    port 0, and an address left empty (`${UNSET}:${UNSET}`) is 0.0.0.0:0 -- a peer no
    connection reaches, which HAProxy keeps retrying, as vtest's unstarted peers are."""
    if not line.args:  # haproxy 2.6.12 says nothing of a nameless one: nothing to keep
        ctx.note(line.loc, f"'{line.name}' without a name is left out.")
        return None
    pname = line.args[0].text
    if len(line.args) < 2:  # `server NAME` / `peer NAME`: no address of its own (`bind`)
        return Peer(pname, None, line.loc)
    # parse_server reads it, in a server's context with no proxy yet: HAProxy names it
    # 'server (null)/NAME' in its complaints
    where = ctx.citing(Cite.SERVER)
    target = server_target(line.args[1], where, f"server (null)/{pname}")
    if target is None:
        return None
    if len(line.args) > 2:  # server options (ssl, ...): pylvs's peer connections have none
        words = " ".join(w.text for w in line.args[2:])
        why = "pylvs's peers connections are plain TCP"
        ctx.warning(line.args[2].loc, message(f"'{words}' on a peer", why), Kind.UNSUPPORTED)
    return Peer(pname, target, line.loc)


def _table(line: Statement, section: str, ctx: Context) -> TableSpec | None:
    if not line.args:
        ctx.error(line.loc, "'table' expects <name> as argument.")
        return None
    words = [w.text for w in line.args[1:]]
    try:
        # a section's table is shared with its peers without saying so (said first: what
        # the line lacks at its end stays missing)
        return parse_stick_table(f"{section}/{line.args[0].text}", ["peers", section, *words])
    except SpecError as e:  # stick_table.c names the keyword it parses: `table` here
        ctx.error(line.loc, str(e).replace("stick-table", "table", 1))
        return None


def read_userlist(st: Statement, ctx: Context) -> Userlist | None:
    """A `userlist` section (cfgparse.c `cfg_parse_users`): a user or group named twice is
    ignored with a warning; the names a user's `groups` and a group's `users` list must be
    there, which auth.c `userlist_postinit` checks after reading (its first complaint)."""
    if not st.args:
        ctx.error(st.loc, "'userlist' expects <name> as argument.")
        return None
    name = st.args[0].text
    users: list[tuple[str, str, bool]] = []
    user_groups: list[tuple[str, list[str]]] = []
    groups: list[tuple[str, tuple[str, ...]]] = []
    for line in st.block or ():
        args = [w.text for w in line.args]
        if line.name in ("user", "group") and args:
            seen = users if line.name == "user" else groups
            if any(x[0] == args[0] for x in seen):
                ctx.warning(
                    line.loc,
                    f"ignoring duplicated {line.name} '{args[0]}' in userlist '{name}'.",
                    cite=Cite.TIGHT,
                )
                continue
        if line.name == "user" and args:
            password, insecure, member_of = "", False, []
            for key, value in zip(args[1::2], args[2::2], strict=False):
                if key in ("password", "insecure-password"):
                    password, insecure = value, key == "insecure-password"
                elif key == "groups":
                    member_of = [g for g in value.split(",") if g]
                else:
                    ctx.error(
                        line.loc,
                        "'user' expects 'password', 'insecure-password' or 'groups'"
                        f" (got '{key}').",
                    )
            users.append((args[0], password, insecure))
            user_groups.append((args[0], member_of))
        elif line.name == "group" and args:
            members = tuple(args[2].split(",")) if len(args) >= 3 and args[1] == "users" else ()
            groups.append((args[0], members))
        else:
            ctx.error(line.loc, f"unknown keyword '{line.name}' in 'userlist' section")
    unknown = _postinit(name, user_groups, groups)
    if unknown is not None:
        ctx.error(st.loc, unknown, cite=Cite.NONE)
    return Userlist(st.loc, name, tuple(users), tuple(groups))


def _postinit(
    name: str, user_groups: list[tuple[str, list[str]]], groups: list[tuple[str, tuple[str, ...]]]
) -> str | None:
    """auth.c userlist_postinit's first complaint: it walks its lists newest first."""
    group_names = {g for g, _ in groups}
    users = {u for u, _ in user_groups}
    for user, member_of in reversed(user_groups):
        for g in member_of:
            if g not in group_names:
                return f"userlist '{name}': no such group '{g}' specified in user '{user}'"
    for group, members in reversed(groups):
        for u in members:
            if u and u not in users:
                return f"userlist '{name}': no such user '{u}' specified in group '{group}'"
    return None


def read_http_errors(st: Statement, ctx: Context, known: list[HttpErrors]) -> HttpErrors | None:
    """`http-errors NAME` with `errorfile CODE FILE` lines (src/http_htx.c
    `cfg_parse_http_errors`)."""
    if not st.args:
        ctx.error(st.loc, "missing name for http-errors section.")
        return None
    name = st.args[0].text
    for other in known:
        if other.name == name:
            ctx.error(
                st.loc,
                f"http-errors section '{name}' already exists (declared at"
                f" {other.loc.file}:{other.loc.line}).",
            )
            return None
    files: list[ErrorFile] = []
    for line in st.block or ():
        if line.name != "errorfile":
            ctx.error(line.loc, f"unknown keyword '{line.name}' in 'http-errors' section")
            continue
        if len(line.args) < 2:
            ctx.error(line.loc, "errorfile: expects <status_code> and <file> as arguments.")
            continue
        code = atoi(line.args[0].text)
        if code not in ERROR_CODES:
            ctx.error(line.loc, f"errorfile : status code '{line.args[0].text}' not handled.")
            continue
        try:
            body = load_errorfile(line.args[1].text, ctx.host)
        except ReplyError as e:
            ctx.error(line.loc, f"errorfile : {e}")
            continue
        files.append(ErrorFile(code, line.args[1].text, body))
    return HttpErrors(st.loc, name, tuple(files))


# The keywords of the sections pylvs reads and does not act on (HAProxy 2.6 configuration §3.6
# mailers, §3.8 program (src/mworker-prog.c), §3.9 ring (src/sink.c), §3.10 log-forward
# (src/log.c), §10.1 fcgi-app (src/fcgi-app.c)).
SECTION_KEYWORDS: dict[str, frozenset[str]] = {
    "mailers": frozenset({"mailer", "timeout"}),
    "program": frozenset({"command", "user", "group", "option", "no"}),
    "ring": frozenset({"description", "format", "maxlen", "size", "timeout", "server"}),
    "log-forward": frozenset({"bind", "dgram-bind", "log", "maxconn", "backlog", "timeout"}),
    "fcgi-app": frozenset(
        {"docroot", "index", "path-info", "log-stderr", "pass-header", "set-param", "option",
         "no", "acl"}
    ),
}  # fmt: skip


def read_kept_section(st: Statement, ctx: Context) -> KeptSection | None:
    """A section of config/haproxy/unsupported.py's list: one warning, its keywords checked
    against the section's, its lines kept as written."""
    kind = st.name
    if not st.args:
        ctx.error(st.loc, f"missing name for {kind} section.")
        return None
    name = st.args[0].text
    ctx.warning(st.loc, message(f"{kind} {name}", SECTIONS[kind]), Kind.UNSUPPORTED)
    allowed = SECTION_KEYWORDS[kind]
    lines: list[tuple[str, tuple[str, ...]]] = []
    for line in st.block or ():
        if line.name not in allowed:
            ctx.error(line.loc, f"unknown keyword '{line.name}' in '{kind}' section")
            continue
        lines.append((line.name, tuple(w.text for w in line.args)))
    return KeptSection(st.loc, kind, name, tuple(lines))
