"""The dashboard's files and the OpenAPI document, shipped in the package (web/assets/).

No build step and no CDN: `index.html`, `dashboard.js` and `dashboard.css` are served as
they are, read once from the package; the Content-Security-Policy lets the page load nothing
else and run no inline code, and no other site may frame it.
"""

from __future__ import annotations

import functools
from importlib import resources

TYPES = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
HEADERS = (
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("referrer-policy", "no-referrer"),
)


@functools.cache
def _read(name: str) -> bytes:
    return resources.files("pylvs.web").joinpath("assets", name).read_bytes()


def index() -> bytes:
    return _read("index.html")


def openapi() -> bytes:
    return _read("openapi.json")


def asset(name: str) -> tuple[bytes, str] | None:
    """A dashboard file by name (only those listed: no path is ever looked up)."""
    kind = TYPES.get(name)
    return None if kind is None else (_read(name), kind)
