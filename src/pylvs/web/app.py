"""The HTTP surface's answers: one request in, one response out (web/server.py drives it).

It reads the director through the `Director` protocol only (a snapshot, the event history,
the connections) and changes it only through `Director.act`, which the engine carries out
through the same code as `pylvs ipvsadm` (engine/web_actions.py), so the keepalived mode and
the HAProxy mode serve the same surface.

Routes: `/metrics` (web/metrics.py); `/api/v1/state`, `services`, `checkers`, `vrrp`,
`events?after=SEQ&limit=N`, `connections?limit=N`, `openapi.json` and `POST /api/v1/actions`
(web/api.py, documented by web/assets/openapi.json); `/` and `/assets/...` (the dashboard,
web/page.py).  Access is checked first (web/auth.py): 401 with a Basic challenge when a
credential is needed; a write needs an admin (401/403), a JSON body (415) and no foreign
Origin (403): a cross-site page can neither send such a request without a CORS preflight,
which this server never grants, nor read any answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qs

from pylvs.control.haproxy.web import PageRequest, PageResponse
from pylvs.model.events import EventLog
from pylvs.model.snapshot import ConnView, DirectorSnapshot
from pylvs.web import api, metrics, page
from pylvs.web.actions import ActionResult, BadActionError, ServerAction, parse_action
from pylvs.web.auth import Access, Role, User, same_origin

REALM = 'Basic realm="pylvs", charset="UTF-8"'
JSON = "application/json"
EVENTS_ON_STATE = 50  # the events /api/v1/state carries (the dashboard's list)
MAX_CONNECTIONS = 10000  # rows /api/v1/connections returns at most (`total` says how many)
METRICS_COST_RATIO = 100  # /metrics is rendered at most once per 100x its rendering time


class Director(Protocol):
    def snapshot(self) -> DirectorSnapshot: ...

    def event_log(self) -> EventLog: ...

    async def connections(self) -> tuple[ConnView, ...]: ...

    async def act(self, action: ServerAction, who: str) -> ActionResult: ...


def response(
    status: int,
    reason: str,
    body: bytes = b"",
    content_type: str = "text/plain; charset=utf-8",
    extra: tuple[tuple[str, str], ...] = (),
) -> PageResponse:
    headers = (
        ("content-type", content_type),
        ("content-length", str(len(body))),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),  # no framing: no clickjacking of the drain buttons
        *extra,
    )
    return PageResponse(status, reason, headers, body)


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           415: "Unsupported Media Type"}  # fmt: skip


def json_response(status: int, doc: Any, extra: tuple[tuple[str, str], ...] = ()) -> PageResponse:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return response(status, REASONS[status], body, JSON, extra)


def error(status: int, message: str, extra: tuple[tuple[str, str], ...] = ()) -> PageResponse:
    return json_response(status, {"error": message}, extra)


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    text = values[-1]
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadActionError(f"{name} must be a whole number in {low}..{high}")
    return int(text)


class App:
    def __init__(
        self,
        director: Director,
        access: Access | None = None,
        *,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        process_metrics: bool = True,
    ) -> None:
        self.director = director
        self.access = access or Access()
        self.wall = wall
        self.registry = metrics.registry_for(director.snapshot, wall, process=process_metrics)
        self.clock = clock
        self._rendered = b""
        self._fresh_until = float("-inf")

    def exposition(self) -> bytes:
        """/metrics, rendered again only once 100 times its last rendering's cost has
        passed: rendering then takes at most ~1 % of the loop that forwards and sends VRRP
        adverts however often it is scraped (bench/web_load_bench.py: 200 scrapes/s cut
        forwarding to 0.02x without this, 0.67x with 20x), and the answers in the meantime
        share one rendering, at most that old (0.1-0.3 s for a small director; Prometheus
        scrapes every 15 s by default)."""
        start = self.clock()
        if start < self._fresh_until:
            return self._rendered
        self._rendered = metrics.exposition(self.registry)
        done = self.clock()
        self._fresh_until = done + METRICS_COST_RATIO * (done - start)
        return self._rendered

    async def handle(self, request: PageRequest) -> PageResponse:
        path, _, query_text = request.target.partition("?")
        user = self.access.who(request.header("authorization"))
        if not self.access.may_read(user):
            return self.challenge()
        if path == "/api/v1/actions":
            return await self.action(request, user)
        if request.method not in ("GET", "HEAD"):
            return error(405, f"{request.method} {path}: not allowed", (("allow", "GET, HEAD"),))
        try:
            answer = await self.read(path, parse_qs(query_text), user)
        except BadActionError as e:
            answer = error(400, str(e))
        if request.method == "HEAD":
            return PageResponse(answer.status, answer.reason, answer.headers, b"", head_only=True)
        return answer

    async def read(self, path: str, query: dict[str, list[str]], user: User | None) -> PageResponse:
        if path == "/metrics":
            return response(200, "OK", self.exposition(), metrics.CONTENT_TYPE)
        if path in ("/", "/index.html"):
            return response(200, "OK", page.index(), "text/html; charset=utf-8", page.HEADERS)
        if path.startswith("/assets/"):
            asset = page.asset(path.removeprefix("/assets/"))
            if asset is None:
                return error(404, f"{path}: no such asset")
            return response(200, "OK", asset[0], asset[1], page.HEADERS)
        log = self.director.event_log()
        match path:
            case "/api/v1/state":
                recent = log.after(0, EVENTS_ON_STATE)
                doc = api.state(self.director.snapshot(), recent, log.last_seq, whoami(user))
            case "/api/v1/services":
                doc = api.services(self.director.snapshot())
            case "/api/v1/checkers":
                doc = api.checkers(self.director.snapshot())
            case "/api/v1/vrrp":
                doc = api.vrrp(self.director.snapshot())
            case "/api/v1/events":
                after = _int(query, "after", 0, 0, 2**63)
                limit = _int(query, "limit", len(log), 0, 100000)
                doc = api.events(log.after(after, limit), log.last_seq)
            case "/api/v1/connections":
                limit = _int(query, "limit", MAX_CONNECTIONS, 0, MAX_CONNECTIONS)
                doc = api.connections(await self.director.connections(), limit)
            case "/api/v1/openapi.json":
                return response(200, "OK", page.openapi(), JSON)
            case _:
                return error(404, f"{path}: no such page")
        return json_response(200, doc)

    async def action(self, request: PageRequest, user: User | None) -> PageResponse:
        if request.method != "POST":
            return error(405, "actions are POSTed", (("allow", "POST"),))
        if user is None and self.access.users:
            return self.challenge()
        if user is None or user.role is not Role.ADMIN:
            why = "an admin credential" if self.access.users else "admin users (--http-users)"
            return error(403, f"read-only: changes need {why}")
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != JSON:
            return error(415, "actions are JSON: Content-Type: application/json")
        if not same_origin(request.header("origin"), request.header("host")):
            return error(403, "cross-origin request refused")
        try:
            action = parse_action(json.loads(request.body or b"null"))
        except (ValueError, UnicodeDecodeError) as e:  # BadActionError, JSON errors
            return error(400, str(e))
        result = await self.director.act(action, user.name)
        if result.status != 200:
            return json_response(
                result.status, {"error": result.message, "command": result.command}
            )
        return json_response(200, {"ok": True, "command": result.command})

    @staticmethod
    def challenge() -> PageResponse:
        return error(401, "credentials needed", (("www-authenticate", REALM),))


def whoami(user: User | None) -> dict[str, Any]:
    return {"name": None if user is None else user.name,
            "admin": user is not None and user.role is Role.ADMIN}  # fmt: skip
