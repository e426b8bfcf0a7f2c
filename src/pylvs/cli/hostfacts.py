"""The facts of this host a configuration reader asks about (config/keywords.py `HostFacts`):
interfaces, users, groups, scripts, names that resolve, files.  Gathered here, outside the pure
parsers, by `pylvs check`, `pylvs run` and `pylvs haproxy`; a module of its own so that
`pylvs haproxy -c` does not import the keepalived reader with `pylvs check`'s code.
"""

from __future__ import annotations

from pylvs.config.keywords import HostFacts


def host_facts() -> HostFacts:
    """Interfaces, users and groups of this host (None where they cannot be read)."""
    import grp
    import os
    import pwd
    import shutil
    import socket

    try:
        interfaces: frozenset[str] | None = frozenset(n for _, n in socket.if_nameindex())
    except OSError:
        interfaces = None

    def user_exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return name.isdigit()
        return True

    def group_exists(name: str) -> bool:
        try:
            grp.getgrnam(name)
        except KeyError:
            return name.isdigit()
        return True

    def resolves(name: str) -> bool:
        try:
            socket.getaddrinfo(name, None)
        except (OSError, UnicodeError):
            return False
        return True

    def read_file(path: str) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read(1 << 20)
        except (OSError, ValueError):
            return None

    def script_found(command: str) -> bool:
        if "/" in command:
            return os.path.exists(command)
        return shutil.which(command) is not None

    return HostFacts(
        interfaces=interfaces,
        user_exists=user_exists,
        group_exists=group_exists,
        script_found=script_found,
        resolves=resolves,
        hostname=socket.gethostname(),
        read_file=read_file,
        exists=os.path.exists,
    )
