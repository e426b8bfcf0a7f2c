"""keepalived.conf as a config source: read (parser.py), then convert (convert.py).

A text is keepalived's when config/formats.py reads it so (its top-level words are
keepalived's, or nothing says otherwise).
"""

from __future__ import annotations

from pylvs.config import formats
from pylvs.config.errors import Location
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.parser import load
from pylvs.config.registry import ConfigFormat, ConfigSource, Loaded, LoadOptions
from pylvs.model.director import DirectorSpec


class KeepalivedSource(ConfigSource):
    format = "keepalived"

    def __init__(self, options: LoadOptions) -> None:
        self.options = options

    def load(self, path: str) -> Loaded:
        result = load(path, config_id=self.options.config_id, host=self.options.host)
        where = Location(path, 1, 1)
        try:
            spec = to_spec(result.config, result.problems, where)
        except Exception as exc:  # a converter bug must still end as a reported problem
            result.problems.error(where, f"internal error while converting: {exc!r}")
            spec = DirectorSpec()
        return Loaded(spec, result.problems)


def _recognises(text: str) -> bool:
    return formats.detect(text) == "keepalived"


FORMAT = ConfigFormat("keepalived", _recognises, KeepalivedSource)
