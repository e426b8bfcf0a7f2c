"""haproxy.cfg's `global` / `pylvs-http ADDR:PORT`: where the HTTP surface listens (docs/web.md),
pylvs's own keyword, said as such; a bad address is an error at its column."""

from __future__ import annotations

from pylvs.config.errors import Kind, Severity
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.director import DirectorSpec

REST = (
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
)


def load(line: str) -> tuple[DirectorSpec, list[tuple[Severity, Kind, int, int, str]]]:
    result = load_text(f"global\n    {line}\n{REST}", "h.cfg")
    spec = to_spec(result.config, result.problems)
    said = [(p.severity, p.kind, p.loc.line, p.loc.col, p.message) for p in result.problems]
    return spec, said


def test_pylvs_http_sets_the_surface_and_is_said_to_be_pylvs_own() -> None:
    spec, said = load("pylvs-http 127.0.0.1:9180")
    assert spec.globals.http == "127.0.0.1:9180"
    ((severity, kind, line, col, message),) = said
    assert (severity, kind, line, col) == (Severity.WARNING, Kind.EXTENSION, 2, 5)
    # What `haproxy -c` says of it (cfgparse-global.c), so a user knows HAProxy stops there.
    assert "unknown keyword 'pylvs-http' in 'global' section" in message
    assert load("pylvs-http [::1]:9180")[0].globals.http == "[::1]:9180"
    assert (
        to_spec(load_text(REST, "h.cfg").config, load_text(REST, "h.cfg").problems).globals.http
        is None
    )


def test_pylvs_http_refuses_what_the_listener_cannot_bind() -> None:
    for bad in ("9180", "localhost:9180", "::1:9180", "127.0.0.1:70000", "1.2.3.4:²"):
        spec, said = load(f"pylvs-http {bad}")
        errors = [s for s in said if s[0] is Severity.ERROR]
        assert len(errors) == 1, bad
        assert errors[0][2:4] == (2, 16)
        assert errors[0][4].startswith(f"pylvs-http {bad}: expected ADDR:PORT")
        assert spec.globals.http is None
