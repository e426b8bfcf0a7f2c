"""Config formats: tell a file's format from its content, and load it as a `DirectorSpec`.

Each format registers a `ConfigFormat`: its name, a test that recognises its text, and how to
build its `ConfigSource` (load a path -> spec + problems).  `source_for` picks the format of a
file — the first whose test accepts the file's opening text, else the one config/formats.py
reads it as (what `pylvs check` goes by too; keepalived when nothing says otherwise) — or the
one forced by name.  A file of a format nothing can load yet is an `UnknownFormatError`.  The
engine holds a `ConfigSource` and knows no format; only config/ and cli/ import a format's
package.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from pylvs.config import formats as reading
from pylvs.config.errors import Location, Problems
from pylvs.config.keywords import HostFacts
from pylvs.model.director import DirectorSpec, GlobalSpec
from pylvs.model.proxy_spec import ServerSpec

T = TypeVar("T", DirectorSpec, GlobalSpec)

HEAD_BYTES = 65536  # how much of a file format tests look at


@dataclass(frozen=True)
class Loaded:
    """A loaded configuration: the director it describes and every problem found."""

    spec: DirectorSpec
    problems: Problems = field(default_factory=Problems)

    @property
    def ok(self) -> bool:
        return not self.problems.has_errors()


@dataclass(frozen=True)
class LoadOptions:
    """What a reader needs besides the path: keepalived's config id (`-i`, for `@ID` lines)
    and the host facts the config is checked against."""

    config_id: str | None = None
    host: HostFacts = field(default_factory=HostFacts)


class ConfigSource(abc.ABC):
    """Loads one format.  `load` never raises on bad input: problems come back located."""

    format: str

    @abc.abstractmethod
    def load(self, path: str) -> Loaded: ...

    def server_line(self, backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
        """The runtime API's `add server` words (address, options) as a server of
        `backend`, or the refusal to answer; only formats with dynamic servers have them."""
        return "dynamic servers need a haproxy.cfg.\n"


@dataclass(frozen=True)
class ConfigFormat:
    name: str
    recognises: Callable[[str], bool]  # the file's opening text -> is it this format?
    source: Callable[[LoadOptions], ConfigSource]
    # Several files of this format read as one configuration (haproxy -f A -f B); None: one
    # file at most (keepalived takes one -f).
    load_many: Callable[[Sequence[str], LoadOptions], Loaded] | None = None


class UnknownFormatError(ValueError):
    pass


_FORMATS: list[ConfigFormat] = []


def register(fmt: ConfigFormat) -> None:
    """Add a format (a later registration of the same name replaces the earlier one)."""
    _FORMATS[:] = [f for f in _FORMATS if f.name != fmt.name] + [fmt]


def unregister(name: str) -> None:
    """Remove a format (a test's made-up one, a plug-in unloaded)."""
    _FORMATS[:] = [f for f in _FORMATS if f.name != name]


def _builtin() -> None:
    """Register the formats pylvs ships (imported here: the registry is the one place that
    names them)."""
    if _FORMATS:
        return
    from pylvs.config.haproxy.source import FORMAT as HAPROXY
    from pylvs.config.keepalived.source import FORMAT as KEEPALIVED

    register(KEEPALIVED)
    register(HAPROXY)


def formats() -> list[ConfigFormat]:
    _builtin()
    return list(_FORMATS)


def by_name(name: str) -> ConfigFormat:
    for f in formats():
        if f.name == name:
            return f
    raise UnknownFormatError(f"unknown config format {name!r} (known: {', '.join(names())})")


def names() -> list[str]:
    return [f.name for f in formats()]


def detect(text: str) -> ConfigFormat:
    """The format whose test accepts `text` (the latest registered first: a plug-in knows its
    files better than the built-in formats' broader tests), else the one config/formats.py
    reads it as."""
    for f in reversed(formats()):
        if f.recognises(text):
            return f
    name = reading.detect(text)
    if name not in names():
        raise UnknownFormatError(
            f"the file reads as a {name} configuration, which pylvs cannot run yet "
            f"(it runs: {', '.join(names())}; `pylvs check` reads it)"
        )
    return by_name(name)


def read_head(path: str) -> str:
    """The opening text of `path` ("" when it cannot be read: the reader reports that)."""
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def source_for(
    path: str, options: LoadOptions | None = None, *, format: str | None = None
) -> ConfigSource:
    """The source that reads `path`: the named format, or the one its content shows."""
    fmt = by_name(format) if format is not None else detect(read_head(path))
    return fmt.source(options or LoadOptions())


def failed(path: str, message: str) -> Loaded:
    """A load that could not even start (an empty director and the reason)."""
    problems = Problems()
    problems.error(Location(path, 1, 1), message)
    return Loaded(DirectorSpec(), problems)


def source_for_all(paths: Sequence[str], options: LoadOptions | None = None) -> ConfigSource:
    """The source of one director run from `paths` (`pylvs run -f A -f B`): one file is its
    format's source; several are read each by its format and merged (`CombinedSource`)."""
    if len(paths) == 1:
        return source_for(paths[0], options)
    return CombinedSource(tuple(paths), options or LoadOptions())


class CombinedSource(ConfigSource):
    """A keepalived.conf and haproxy.cfg files run by one daemon: VRRP, the virtual servers
    and the notification settings from the keepalived.conf, the frontends and backends from
    the haproxy.cfg files (read together, as `haproxy -f A -f B`); `load`'s argument is the
    first path (the daemon's name for its configuration)."""

    format = "combined"

    def __init__(self, paths: tuple[str, ...], options: LoadOptions) -> None:
        self.paths = paths
        self.options = options

    def load(self, path: str) -> Loaded:
        groups: dict[str, tuple[ConfigFormat, list[str]]] = {}
        for p in self.paths:
            try:
                fmt = detect(read_head(p))
            except UnknownFormatError as e:
                return failed(p, str(e))
            groups.setdefault(fmt.name, (fmt, []))[1].append(p)
        loads: list[Loaded] = []
        problems = Problems()
        for fmt, group in groups.values():
            if fmt.load_many is not None:
                loads.append(fmt.load_many(group, self.options))
                continue
            for extra in group[1:]:
                problems.error(
                    Location(extra, 1, 1),
                    f"a second {fmt.name} configuration ({group[0]} is one): one daemon runs "
                    f"one, as {fmt.name} does",
                )
            loads.append(fmt.source(self.options).load(group[0]))
        for loaded in loads:
            problems.extend(loaded.problems)
        return Loaded(bind_vips_freely(merge([x.spec for x in loads])), problems)

    def server_line(self, backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
        return by_name("haproxy").source(self.options).server_line(backend, name, words)


def merge(specs: Sequence[DirectorSpec]) -> DirectorSpec:
    """One director from the specs of several configurations: lists (pools, track files)
    are joined in order; every other part is taken from the one spec that sets it (the
    first that does, when several do: each format sets its own parts).  The globals are
    merged field by field: keepalived.conf's router_id and haproxy.cfg's `pylvs-http`
    both count."""
    merged = DirectorSpec()
    for spec in specs:
        merged = _merged(merged, spec)
    return merged


def _merged(mine: T, theirs: T) -> T:
    empty = type(mine)()
    changes: dict[str, Any] = {}  # each field's own type, checked by the dataclass
    for f in fields(mine):
        a: Any = getattr(mine, f.name)
        b: Any = getattr(theirs, f.name)
        if isinstance(a, tuple):
            changes[f.name] = (*a, *b)
        elif isinstance(a, GlobalSpec):
            changes[f.name] = _merged(a, b)
        elif a == getattr(empty, f.name):
            changes[f.name] = b
    return replace(mine, **changes)


def bind_vips_freely(spec: DirectorSpec) -> DirectorSpec:
    """Frontends bound to one of the director's own VIPs bind as `transparent` (IP_FREEBIND):
    on a backup the VIP is not there yet, and the bind must not fail for it; the frontend
    serves once VRRP brings the VIP, as the keepalived mode's virtual servers do (HAProxy
    beside keepalived needs `transparent` or net.ipv4.ip_nonlocal_bind=1 for the same)."""
    vips = {a.address.ip for i in spec.vrrp.instances for a in i.addresses}
    if not vips:
        return spec
    frontends = tuple(
        replace(
            fe,
            binds=tuple(
                replace(b, transparent=True) if any(a.host in vips for a in b.addresses) else b
                for b in fe.binds
            ),
        )
        for fe in spec.proxies.frontends
    )
    return replace(spec, proxies=replace(spec.proxies, frontends=frontends))
