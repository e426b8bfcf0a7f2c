"""haproxy.cfg as a config source: read (reader.py, with `${VAR}` from the environment), then
convert (convert.py) into the neutral `DirectorSpec`.

A text is HAProxy's when config/formats.py reads it so (its lines open HAProxy's sections).
`load_paths` reads several files as one configuration, as `haproxy -f A -f B` does (what
`pylvs haproxy` and the conformance harness start the runtime from).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pylvs.config import formats
from pylvs.config.errors import Kind, Location, Problems, Severity
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.model import HaproxyConfig
from pylvs.config.haproxy.reader import HaproxyResult, load_texts
from pylvs.config.registry import ConfigFormat, ConfigSource, Loaded, LoadOptions
from pylvs.model.director import DirectorSpec
from pylvs.model.proxy_spec import ServerSpec
from pylvs.proto.sample.pattern_ref import ReadFile


def load_paths(paths: Sequence[str], options: LoadOptions | None = None) -> Loaded:
    """Read and convert `paths` as one configuration (never raises on bad input)."""
    options = options or LoadOptions()
    texts: list[tuple[str, str]] = []
    problems = Problems()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                texts.append((f.read(), path))
        except OSError as e:
            problems.error(Location(path, 1, 1), f"cannot read: {e.strerror or e}", Kind.FATAL)
    if problems.has_errors():
        return Loaded(DirectorSpec(), problems)
    result = load_texts(texts, env=os.environ, host=options.host)
    first = paths[0] if paths else ""
    spec = convert(result.config, result.problems, options.host.read_file, first)
    return Loaded(spec, result.problems)


def convert(
    config: HaproxyConfig, problems: Problems, read_file: ReadFile | None, first: str
) -> DirectorSpec:
    """The spec of a read configuration; what the runtime would refuse or leave out is added
    to `problems`.  Never raises on bad input."""
    try:
        return to_spec(config, problems, read_file=read_file)
    except Exception as exc:  # a converter bug must still end as a reported problem
        problems.error(Location(first, 1, 1), f"internal error while converting: {exc!r}")
        return DirectorSpec()


def check(result: HaproxyResult, read_file: ReadFile | None, first: str) -> None:
    """What `pylvs check` and `pylvs haproxy -c` report beyond reading: the conversion's
    problems, as `run` finds them.  Those HAProxy reports too (a rule argument naming a
    backend, server or table that is not there: check_config_validity) stay errors; what
    only pylvs's runtime refuses becomes a warning saying so, so that the verdict stays
    HAProxy's (`--strict` makes it fatal)."""
    found = Problems()
    convert(result.config, found, read_file, first)
    for p in found:
        if p.severity is Severity.ERROR and p.kind is Kind.UNSUPPORTED:
            message = f"{p.message} (`pylvs run` refuses to start with this)"
            result.problems.warning(p.loc, message, Kind.UNSUPPORTED)
        else:
            result.problems.add(p)


class HaproxySource(ConfigSource):
    format = "haproxy"

    def __init__(self, options: LoadOptions) -> None:
        self.options = options

    def load(self, path: str) -> Loaded:
        return load_paths([path], self.options)

    def server_line(self, backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
        from pylvs.config.haproxy.dynamic import dynamic_server

        return dynamic_server(backend, name, words)


def _recognises(text: str) -> bool:
    return formats.detect(text) == "haproxy"


FORMAT = ConfigFormat("haproxy", _recognises, HaproxySource, load_paths)
