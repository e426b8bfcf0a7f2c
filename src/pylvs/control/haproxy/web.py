"""The stats page's HTTP side, without I/O: which request gets which answer (src/http_ana.c
http_stats_check_uri / http_handle_stats, src/stats.c stats_process_http_post,
stats_send_http_headers / _redirect).

`handle(settings, request, runtime)` answers one parsed request:

* Only GET, HEAD and POST whose path starts with `stats uri` are the page's; anything else
  gets what HAProxy gives a request to a proxy without servers: 503.
* `stats auth`: without valid Basic credentials, 401 and the realm ("HAProxy Statistics").
* The URI's options, anywhere after the prefix: `;up`, `;no-maint`, `;norefresh` (with
  `stats refresh`), `;csv`, `;typed`, `;json`, `;json-schema`, `;st=CODE` and `scope=TEXT`
  (at most 20 characters; a character not allowed in a name drops it).
* `stats admin if|unless COND` (the runtime's predicate) puts the page in admin mode: its
  tables get checkboxes and the action form, and a POST applies the form's action to the
  named servers (the parameters read from last to first, as HAProxy does: `b=#<id>` or a
  backend name, `action=...`, `s=<server>` repeated), then redirects (303) to the page with
  the outcome (`;st=DONE|PART|NONE|ERRP|DENY`).  A POST without admin rights is DENY.
* GET/HEAD: 200, `cache-control: no-cache`, the content type, `refresh: N` unless
  `;norefresh`, chunked for HTTP/1.1 GETs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from pylvs.control.haproxy.admin import Runtime
from pylvs.control.haproxy.lookup import find_backend
from pylvs.control.haproxy.page import PageView, render_page, shown, stat_options
from pylvs.control.haproxy.schema import SCHEMA
from pylvs.control.haproxy.stat import render_stat
from pylvs.model.proxies import ADMF_FDRAIN, ADMF_FMAINT, ProxyView, ServerView

SCOPE_MAX = 20  # STAT_SCOPE_TXT_MAXLEN
DEFAULT_URI = "/haproxy?stats"
DEFAULT_REALM = "HAProxy Statistics"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")
ERROR_503 = (
    b"<html><body><h1>503 Service Unavailable</h1>\n"
    b"No server is available to handle this request.\n</body></html>\n"
)
ERROR_401 = (
    b"<html><body><h1>401 Unauthorized</h1>\n"
    b"You need a valid user and password to access this content.\n</body></html>\n"
)


@dataclass(frozen=True, slots=True)
class PageRequest:
    method: str
    target: str  # the request line's URI as sent
    version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client: str = ""  # the client's address
    wire_size: int = 0  # how many bytes the request took on the wire

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


AdminRule = Callable[[PageRequest], bool]


@dataclass(frozen=True, slots=True)
class StatsSettings:
    """A proxy's `stats` lines (uri_auth)."""

    proxy: str  # the proxy serving the page
    uri: str = DEFAULT_URI
    refresh: int = 0  # seconds
    realm: str | None = None
    auth: tuple[tuple[str, str], ...] = ()  # `stats auth user:password`
    admin: tuple[AdminRule, ...] = ()  # `stats admin if|unless COND`, in order
    hide_version: bool = False
    legends: bool = False
    node: str | None = None  # `stats show-node [NAME]`: the name (global node by default)
    desc: str | None = None  # `stats show-desc [TEXT]`
    scope: tuple[str, ...] = ()  # `stats scope NAME`


@dataclass(frozen=True, slots=True)
class PageResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunked: bool = False
    close: bool = False  # the connection ends after this answer
    head_only: bool = False
    actions: list[str] = field(default_factory=list)  # what a POST did, for the log


def matches(settings: StatsSettings, request: PageRequest) -> bool:
    """http_stats_check_uri."""
    if request.method not in ("GET", "HEAD", "POST"):
        return False
    uri = request.target
    if settings.uri.startswith("/"):
        uri = _path(uri)
    return uri.startswith(settings.uri)


def _path(uri: str) -> str:
    """http_parse_path: the path and what follows it, from an origin or absolute form."""
    if uri.startswith("/") or uri == "*":
        return uri
    _, sep, rest = uri.partition("://")
    if not sep:
        return uri
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else ""


def _authorized(settings: StatsSettings, request: PageRequest) -> bool:
    if not settings.auth:
        return True
    value = request.header("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (user, password) in settings.auth


def _options(settings: StatsSettings, request: PageRequest) -> tuple[PageView, str]:
    # HAProxy looks for the options past the prefix's length from the URI's first byte.
    rest = request.target[len(settings.uri) :]
    fmt = "html"
    if ";csv" in rest:
        fmt = "csv"
    if ";typed" in rest:
        fmt = "typed"
    if ";json" in rest:
        fmt = "json"
    if ";json-schema" in rest:
        fmt = "json-schema"
    status = ""
    at = rest.find(";st=")
    if 0 <= at <= len(rest) - 8:
        code = rest[at + 4 : at + 8]
        status = (
            code if code in ("DENY", "DONE", "ERRP", "EXCD", "NONE", "PART", "IVAL") else "UNKN"
        )
    view = PageView(
        uri=settings.uri,
        refresh=settings.refresh,
        admin=any(rule(request) for rule in settings.admin),
        legends=settings.legends,
        hide_version=settings.hide_version,
        node=settings.node,
        desc=settings.desc,
        hide_down=";up" in rest,
        hide_maint=";no-maint" in rest,
        no_refresh=bool(settings.refresh) and ";norefresh" in rest,
        scope=_scope(rest),
        status=status,
        proxies=settings.scope,
        this_proxy=settings.proxy,
    )
    return view, fmt


def _scope(rest: str) -> str:
    at = rest.find("scope=")
    if at < 0 or at > len(rest) - 8:
        return ""
    text = rest[at + 6 :]
    end = next((i for i, c in enumerate(text) if c in ";& "), len(text))
    text = text[: min(end, SCOPE_MAX)]
    return text if all(c in _NAME_CHARS for c in text) else ""


def handle(settings: StatsSettings, request: PageRequest, runtime: Runtime) -> PageResponse:
    """The answer to one request on a stats page's listener."""
    if not matches(settings, request):
        return _fixed(503, "Service Unavailable", ERROR_503)
    if not _authorized(settings, request):
        realm = settings.realm or DEFAULT_REALM
        return _fixed(
            401, "Unauthorized", ERROR_401, ("www-authenticate", f'Basic realm="{realm}"')
        )
    view, fmt = _options(settings, request)
    if request.method == "POST":
        if not view.admin:
            return _redirect(view, "DENY")
        code, actions = apply_post(runtime, request.body)
        response = _redirect(view, code)
        response.actions.extend(actions)
        return response
    return _page(runtime, view, fmt, request)


def _fixed(status: int, reason: str, body: bytes, *extra: tuple[str, str]) -> PageResponse:
    headers = (
        ("content-length", str(len(body))),
        ("cache-control", "no-cache"),
        ("content-type", "text/html"),
        *extra,
    )
    return PageResponse(status, reason, headers, body, close=True)


def _redirect(view: PageView, code: str) -> PageResponse:
    scope = f"?scope={view.scope}" if view.scope else ""
    location = (
        f"{view.uri};st={code}{';up' if view.hide_down else ''}"
        f"{';norefresh' if view.no_refresh else ''}{scope}"
    )
    headers = (
        ("cache-control", "no-cache"),
        ("content-type", "text/plain"),
        ("content-length", "0"),
        ("location", location),
    )
    return PageResponse(303, "See Other", headers)


def _page(runtime: Runtime, view: PageView, fmt: str, request: PageRequest) -> PageResponse:
    snapshot = runtime.snapshot()
    if fmt == "html":
        body, ctype = render_page(snapshot, view), "text/html"
    elif fmt == "json-schema":
        body, ctype = SCHEMA, "application/json"
    else:
        body = render_stat(snapshot, stat_options(view, fmt), lambda px: shown(px, view))
        ctype = "application/json" if fmt == "json" else "text/plain"
    headers = [("cache-control", "no-cache"), ("content-type", ctype)]
    if view.refresh > 0 and not view.no_refresh:
        headers.append(("refresh", str(view.refresh)))
    head_only = request.method == "HEAD"
    if request.version == "HTTP/1.0":
        headers.append(("connection", "close"))
    if not head_only:
        # HAProxy chunks the page whatever the request's version (its H1 mux does).
        headers.append(("transfer-encoding", "chunked"))
    return PageResponse(
        200,
        "OK",
        tuple(headers),
        b"" if head_only else body.encode(),
        chunked=not head_only,
        close=request.version == "HTTP/1.0",
        head_only=head_only,
    )


def _decode(text: str) -> str | None:
    """url_decode(in_form=1): '+' is a space; None on a bad escape."""
    try:
        return unquote_to_bytes(text.replace("+", " ")).decode("latin-1")
    except ValueError:
        return None


LINESIZE = 2048


def _params(body: bytes) -> list[tuple[str, str]] | str:
    """The form's parameters, last first, up to the first one that does not decode."""
    params: list[tuple[str, str]] = []
    for part in reversed(body.decode("latin-1").split("&")):
        if len(part) >= LINESIZE:
            return "ERRP"
        key, _, value = part.partition("=")
        k, v = _decode(key), _decode(value)
        if k is None or v is None:
            break
        params.append((k, v))
    return params


def apply_post(runtime: Runtime, body: bytes) -> tuple[str, list[str]]:
    """stats_process_http_post: the outcome code and the actions applied."""
    params = _params(body)
    if isinstance(params, str):
        return params, []
    snapshot = runtime.snapshot()
    px: ProxyView | None = None
    action = ""
    for key, value in params:
        if px is None and key == "b":
            px = find_backend(snapshot, value)
            if px is None:
                return "ERRP", []
        elif not action and key == "action":
            if value not in _ACTIONS:
                return "ERRP", []
            action = value
    # Counted: the servers changed, and the names matching no server; a server the action
    # does not apply to (no check to enable...) counts for nothing, as in HAProxy.
    total = altered = 0
    done: list[str] = []
    if px is not None and action:
        for key, name in params:
            if key != "s":
                continue
            sv = next((x for x in px.servers if x.name == name), None)
            if sv is None:
                total += 1
            elif _act(runtime, px, sv, action):
                total += 1
                altered += 1
                done.append(f"{action} {px.name}/{sv.name}")
    if total == 0:
        return "NONE", done
    if altered == 0:
        return "ERRP", done
    return ("DONE" if altered == total else "PART"), done


_ACTIONS = frozenset(
    [
        "ready",
        "drain",
        "maint",
        "shutdown",
        "dhlth",
        "ehlth",
        "hrunn",
        "hnolb",
        "hdown",
        "dagent",
        "eagent",
        "arunn",
        "adown",
        "disable",
        "enable",
        "stop",
        "start",
    ]
)


def _act(runtime: Runtime, px: ProxyView, sv: ServerView, action: str) -> bool:
    """One server's action; False when it does not apply to this server."""
    be, name = px.name, sv.name
    if action in ("ready", "drain", "maint"):
        runtime.set_server_state(be, name, action)
    elif action in ("disable", "enable", "stop", "start"):
        # The old actions change one flag, and only when it is not already as asked.
        flag = ADMF_FMAINT if action in ("disable", "enable") else ADMF_FDRAIN
        if bool(sv.admin & flag) == (action in ("disable", "stop")):
            return False
        state = {"disable": "maint", "enable": "ready", "stop": "drain", "start": "ready"}[action]
        runtime.set_server_state(be, name, state)
    elif action == "shutdown":
        if px.frontend is not None and px.frontend.stopped:
            return False
        runtime.shutdown_server_sessions(be, name)
    elif action in ("dhlth", "ehlth", "dagent", "eagent"):
        agent = action.endswith("agent")
        if not (sv.agent if agent else sv.check).configured:
            return False
        runtime.set_check_enabled(be, name, agent, action[0] == "e")
    elif action in ("hrunn", "hnolb", "hdown"):
        if sv.tracked is not None:
            return False
        runtime.set_server_health(
            be, name, {"hrunn": "up", "hnolb": "stopping"}.get(action, "down")
        )
    else:  # arunn, adown
        if not sv.agent.enabled:
            return False
        runtime.set_server_agent(be, name, "up" if action == "arunn" else "down")
    return True
