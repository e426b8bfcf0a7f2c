"""The dashboard's files come from the package and only by their names (web/page.py)."""

from __future__ import annotations

import json

from pylvs.web import page


def test_assets_by_name_only() -> None:
    js = page.asset("dashboard.js")
    assert js is not None and js[1].startswith("text/javascript") and b"/api/v1/state" in js[0]
    assert page.asset("../page.py") is None and page.asset("index.html") is None
    assert b'<script src="/assets/dashboard.js"' in page.index()
    assert json.loads(page.openapi())["openapi"] == "3.1.0"


def test_the_page_loads_nothing_from_elsewhere() -> None:
    csp = dict(page.HEADERS)["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "http" not in csp
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        text = (page.index() if name == "index.html" else page.asset(name)[0]).decode()  # type: ignore[index]
        assert "https://" not in text and "http://" not in text.replace(
            "http://www.w3.org/2000/svg", ""
        )
