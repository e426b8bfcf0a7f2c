"""Who may read and who may change things over HTTP: basic auth, roles, CSRF-safe writes.

Without a users file the surface is read-only for everyone who can reach the address it is
bound to, and refuses every write.  A users file (`--http-users FILE`) has one user a line,
`ROLE NAME SECRET`, ROLE `read` or `admin`, SECRET the password or `sha256:HEX` of it; `#`
starts a comment.  Once a `read` user is listed, reading needs a credential too.  Writes need
an `admin` credential (RFC 7617 Basic) *and* a request a browser will not send across sites
without the page's consent: a POST whose `Content-Type` is `application/json` (not a "simple"
request, so a cross-site form or fetch needs a CORS preflight this server never grants) and,
when the browser names an `Origin`, the same host as `Host` (OWASP's CSRF cheat sheet: custom
request headers plus origin verification).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit


class Role(Enum):
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    secret: str  # the password, or "sha256:HEX"

    def accepts(self, password: str) -> bool:
        if self.secret.startswith("sha256:"):
            digest = hashlib.sha256(password.encode()).hexdigest()
            return hmac.compare_digest(digest, self.secret[7:].lower())
        return hmac.compare_digest(password.encode(), self.secret.encode())


class UsersFileError(ValueError):
    """A users file line that cannot be read: `FILE:LINE: message`."""


def parse_users(text: str, path: str = "<users>") -> tuple[User, ...]:
    users: list[User] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if len(words) != 3:
            raise UsersFileError(f"{path}:{n}: expected ROLE NAME SECRET, got {len(words)} word(s)")
        role, name, secret = words
        if role not in ("read", "admin"):
            raise UsersFileError(f"{path}:{n}: unknown role {role!r} (read or admin)")
        if secret.startswith("sha256:") and len(secret) != 7 + 64:
            raise UsersFileError(f"{path}:{n}: sha256: needs 64 hexadecimal digits")
        users.append(User(name, Role(role), secret))
    return tuple(users)


@dataclass(frozen=True, slots=True)
class Access:
    users: tuple[User, ...] = ()

    @property
    def reads_need_auth(self) -> bool:
        return any(u.role is Role.READ for u in self.users)

    def who(self, authorization: str | None) -> User | None:
        """The user a Basic `Authorization` header names, when its password is right."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        if not sep:
            return None
        for user in self.users:
            if user.name == name and user.accepts(password):
                return user
        return None

    def may_read(self, user: User | None) -> bool:
        return user is not None or not self.reads_need_auth


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when no Origin was sent (not a browser's cross-site request) or it names the
    host the request was sent to."""
    if origin is None:
        return True
    if host is None or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host.strip().lower()
