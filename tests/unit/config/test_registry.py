"""The config registry: a file's format told from its content, a source per format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pylvs.config import registry
from pylvs.config.errors import Problems
from pylvs.config.registry import ConfigFormat, ConfigSource, Loaded, LoadOptions
from pylvs.model.director import DirectorSpec, GlobalSpec

KEEPALIVED = (
    "global_defs {\n    router_id A\n}\n"
    "virtual_server 10.0.0.1 80 {\n    protocol TCP\n    real_server 10.0.1.1 80 {\n    }\n}\n"
)


class Marked(ConfigSource):
    """A made-up format: files that start with `#marked`; the router id says it loaded."""

    format = "marked"

    def __init__(self, options: LoadOptions) -> None:
        self.options = options

    def load(self, path: str) -> Loaded:
        return Loaded(DirectorSpec(globals=GlobalSpec(router_id=self.options.config_id)))


@pytest.fixture
def with_marked() -> Iterator[None]:
    registry.register(ConfigFormat("marked", lambda text: text.startswith("#marked"), Marked))
    yield
    registry.unregister("marked")


def test_a_keepalived_file_is_read_as_keepalived(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text(KEEPALIVED)
    source = registry.source_for(str(conf))
    assert source.format == "keepalived"
    loaded = source.load(str(conf))
    assert loaded.ok and loaded.spec.globals.router_id == "A"
    assert [p.id for p in loaded.spec.pools] == ["[10.0.0.1]:tcp:80"]


def test_the_content_chooses_the_format(tmp_path: Path, with_marked: None) -> None:
    marked, plain = tmp_path / "a.cfg", tmp_path / "b.cfg"
    marked.write_text("#marked\nanything\n")
    plain.write_text(KEEPALIVED)
    options = LoadOptions(config_id="node-2")
    assert registry.source_for(str(marked), options).load(str(marked)).spec.globals.router_id == (
        "node-2"
    )
    assert registry.source_for(str(plain)).format == "keepalived"  # nobody else claims it
    assert registry.source_for(str(marked), format="keepalived").format == "keepalived"
    assert registry.names() == ["keepalived", "haproxy", "marked"]


HAPROXY = (
    "global\n    maxconn 100\ndefaults\n    mode tcp\n    timeout connect 1s\n"
    "    timeout client 5s\n    timeout server 5s\n"
    "listen web\n    bind 127.0.0.1:8080\n    server s1 127.0.0.1:80\n"
)


def test_a_haproxy_file_is_read_as_haproxy(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY)
    source = registry.source_for(str(cfg))
    assert source.format == "haproxy"
    loaded = source.load(str(cfg))
    assert loaded.ok, list(loaded.problems)
    assert [f.name for f in loaded.spec.proxies.frontends] == ["web"]
    assert loaded.spec.proxies.maxconn == 100 and loaded.spec.pools == ()


def test_a_format_nothing_runs_is_refused_by_name(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY)
    registry.unregister("haproxy")
    try:
        with pytest.raises(registry.UnknownFormatError, match="reads as a haproxy configuration"):
            registry.source_for(str(cfg))
    finally:
        from pylvs.config.haproxy.source import FORMAT

        registry.register(FORMAT)


def test_an_unknown_format_name_is_refused() -> None:
    with pytest.raises(registry.UnknownFormatError, match="known: keepalived"):
        registry.source_for("/nonexistent", format="nginx")


def test_a_missing_file_loads_as_problems_not_an_exception(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.conf")
    loaded = registry.source_for(path).load(path)
    assert not loaded.ok
    (err,) = loaded.problems.errors
    assert err.loc.file == path and loaded.spec == DirectorSpec()


def test_failed_is_an_empty_director_with_the_reason() -> None:
    loaded = registry.failed("x.conf", "cannot read")
    assert isinstance(loaded.problems, Problems) and not loaded.ok
    assert str(loaded.problems.errors[0]) == "x.conf:1:1: error: cannot read"
