"""Scraping and calling a daemon's HTTP surface from tests."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    user: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample of /metrics by (name, labels), parsed by prometheus_client's parser."""
    status, headers, body = request(port, "GET", "/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    out: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The one sample named `name` whose labels include `labels` (None: none)."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


SPEC_PATH = Path(__file__).parents[3] / "src" / "pylvs" / "web" / "assets" / "openapi.json"


class Spec:
    """The OpenAPI document, validated as OpenAPI 3.1 (openapi-spec-validator), and each
    answer held to the schema it documents for its path, method and status (jsonschema)."""

    def __init__(self) -> None:
        self.doc = json.loads(SPEC_PATH.read_text())
        validate(self.doc)
        self.checked: set[tuple[str, str, int]] = set()

    def check(self, method: str, path: str, status: int, body: bytes) -> Any:
        route = path.split("?", 1)[0]
        operation = self.doc["paths"][route][method.lower()]
        answer = operation["responses"][str(status)]
        schema = answer["content"]["application/json"]["schema"]
        doc = json.loads(body)
        Draft202012Validator({**schema, "components": self.doc["components"]}).validate(doc)
        self.checked.add((route, method.upper(), status))
        return doc

    def call(
        self, port: int, method: str, path: str, body: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        status, headers, raw = request(port, method, path, body, **kw)
        assert headers["content-type"] == "application/json", raw
        return status, self.check(method, path, status, raw)
