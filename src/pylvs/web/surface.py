"""The HTTP surface as the engine holds it: the listener, its app and its users, in one piece.

`WebSurface(director, "ADDR:PORT", users_file=...)` reads the users file (web/auth.py) and
the address at construction, so a bad one is refused before anything listens: `ValueError`
with `FILE:LINE: message` or the address's problem.
"""

from __future__ import annotations

from pylvs.config.listen import parse_listen
from pylvs.web.app import App, Director
from pylvs.web.auth import Access, User, parse_users
from pylvs.web.server import Limits, WebServer


class WebSurface:
    def __init__(
        self,
        director: Director,
        listen: str,
        *,
        users_file: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.listen = listen
        host, port = parse_listen(listen)
        users: tuple[User, ...] = ()
        if users_file is not None:
            try:
                with open(users_file, encoding="utf-8") as f:
                    users = parse_users(f.read(), users_file)
            except OSError as e:
                raise ValueError(f"{users_file}: {e.strerror}") from None
        self.app = App(director, Access(users))
        self.server = WebServer(self.app, host, port, limits)

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> None:
        await self.server.start()

    async def close(self) -> None:
        await self.server.close()
