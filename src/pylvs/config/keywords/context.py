"""What every keyword handler gets besides its statement: where to report, and host facts.

The readers are pure: facts about the host a configuration is checked on (its interfaces,
users and groups) are gathered by the caller (`cli/check.py`) and passed in as `HostFacts`;
None means "unknown: do not check".
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pylvs.config.errors import Cite, Kind, Location, Problems


@dataclass(frozen=True)
class HostFacts:
    """Facts about the host a configuration is checked on (None: not known, not checked)."""

    interfaces: Container[str] | None = None  # (`in` is all that is asked)
    user_exists: Callable[[str], bool] | None = None
    group_exists: Callable[[str], bool] | None = None
    # Whether a script's command (its argv[0]: a path, or a name searched in PATH) is a file
    # on this host: keepalived disables scripts it cannot find.
    script_found: Callable[[str], bool] | None = None
    # Whether a host name resolves here (HAProxy refuses servers whose name does not).
    resolves: Callable[[str], bool] | None = None
    # The address libc gives a host name here (getaddrinfo's first answer, as HAProxy's
    # str2ip2 takes it), for a family "inet" (any), "ipv4" or "ipv6"; None: not resolved.
    # Without it server names get no address (HAProxy's `init-addr libc`).
    address_of: Callable[[str, str], str | None] | None = None
    # `haproxy -dr`: a server name that does not resolve is put in maintenance, no error
    # (srv_iterate_initaddr appends "none" to every server's init-addr methods).
    resolve_dontfail: bool = False
    # This host's name (HAProxy's default local peer name).
    hostname: str | None = None
    # The content of a file a configuration names (HAProxy's `errorfile`), None when it cannot
    # be read; without it such files are not read.
    read_file: Callable[[str], bytes | None] | None = None
    # Whether a path (a file or a directory) exists here (HAProxy's certificate paths).
    exists: Callable[[str], bool] | None = None
    # Makes what runs HAProxy's `lua-load` files for one read (config/haproxy/lua.py
    # `LuaHost`, engine/lua/loader.py); without it `lua.NAME` keywords are not checked.
    lua: Callable[[], Any] | None = None
    # Whether this host's OpenSSL takes a TLS list ("ciphers", "ciphersuites" or "curves",
    # and the list): HAProxy refuses a list OpenSSL refuses when it prepares its contexts.
    tls_list_ok: Callable[[str, str], bool] | None = None


@dataclass
class Context:
    """What every keyword handler is given: where problems go, and the host's facts."""

    problems: Problems = field(default_factory=Problems)
    host: HostFacts = field(default_factory=HostFacts)
    # The environment as the reader has it (HAProxy's `setenv` changes it while reading):
    # HAProxy expands `$NAME` in addresses once more (src/tools.c env_expand).
    env: Mapping[str, str] = field(default_factory=dict)
    # How HAProxy places the messages of what is being read (a server line: config/errors.py)
    cite: Cite = Cite.PARSING
    # Whether HAProxy stops reading at an error of what is being read (its ERR_ABORT)
    abort: bool = False
    # Directories relative paths are read from, as the reader has set them so far (HAProxy's
    # `ca-base` / `crt-base`: config/haproxy/ssl_global.py): name -> directory; shared by
    # the copies `citing` and `aborting` make.
    paths: dict[str, str] = field(default_factory=dict)

    def citing(self, cite: Cite) -> Context:
        """The same context (the same problems), whose messages HAProxy places as `cite`."""
        return replace(self, cite=cite)

    def aborting(self) -> Context:
        """The same context, whose errors stop HAProxy's reading (config/errors.py Problem)."""
        return replace(self, abort=True)

    def error(
        self,
        loc: Location,
        message: str,
        kind: Kind = Kind.CONFIG,
        cite: Cite | None = None,
        *,
        abort: bool | None = None,
    ) -> None:
        stops = self.abort if abort is None else abort
        self.problems.error(loc, message, kind, cite or self.cite, abort=stops)

    def warning(
        self,
        loc: Location,
        message: str,
        kind: Kind = Kind.CONFIG,
        cite: Cite | None = None,
        *,
        alert: bool = False,
    ) -> None:
        """`alert`: HAProxy prints it as an alert that does not make the file invalid."""
        self.problems.warning(loc, message, kind, cite or self.cite, alert=alert)

    def note(self, loc: Location, message: str) -> None:
        """A warning of pylvs's own: the original tool accepts this silently."""
        self.problems.warning(loc, message, Kind.NOTE)
