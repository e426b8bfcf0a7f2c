"""The facts of this host a configuration reader asks about (config/keywords.py `HostFacts`):
interfaces, users, groups, scripts, names that resolve, files.  Gathered here, outside the pure
parsers, by `pylvs check`, `pylvs run` and `pylvs haproxy`; a module of its own so that
`pylvs haproxy -c` does not import the keepalived reader with `pylvs check`'s code.
"""

from __future__ import annotations

from pylvs.config.keywords import HostFacts


class HostInterfaces:
    """This host's interface names, read on the first look-up (`socket` is a fiftieth of a
    second to import, and most files name no interface); a name is taken as present when they
    cannot be read (an unknown host fact is not checked)."""

    def __init__(self) -> None:
        self._names: frozenset[str] | None = None
        self._read = False

    def __contains__(self, name: object) -> bool:
        if not self._read:
            import socket

            self._read = True
            try:
                self._names = frozenset(n for _, n in socket.if_nameindex())
            except OSError:
                self._names = None
        return self._names is None or name in self._names


def host_facts(*, quiet_lua: bool = False) -> HostFacts:
    """Interfaces, users and groups of this host (taken as present where they cannot be read).
    What is costly to import or to ask (`socket`, `shutil`, Lua) waits for a file that needs
    it.  `quiet_lua`: what `lua-load` scripts log while the file is read is not printed (the
    daemon's runtime loads them again and prints it then)."""
    import grp
    import os
    import pwd

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
        import socket

        try:
            socket.getaddrinfo(name, None)
        except (OSError, UnicodeError):
            return False
        return True

    def address_of(name: str, family: str) -> str | None:
        import socket

        # str2ip2: getaddrinfo with SOCK_DGRAM and the address's family, the first answer
        af = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}.get(family, socket.AF_UNSPEC)
        try:
            got = socket.getaddrinfo(name, None, af, socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            return None
        for fam, _, _, _, sockaddr in got:
            if fam in (socket.AF_INET, socket.AF_INET6):
                return str(sockaddr[0])
        return None

    def read_file(path: str) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read(1 << 20)
        except (OSError, ValueError):
            return None

    def script_found(command: str) -> bool:
        import shutil

        if "/" in command:
            return os.path.exists(command)
        return shutil.which(command) is not None

    return HostFacts(
        interfaces=HostInterfaces(),
        user_exists=user_exists,
        group_exists=group_exists,
        script_found=script_found,
        resolves=resolves,
        address_of=address_of,
        hostname=os.uname().nodename,  # what gethostname(2) returns on Linux
        read_file=read_file,
        exists=os.path.exists,
        lua=lambda: _lua_loader(quiet_lua),
        tls_list_ok=tls_list_ok,
    )


def tls_list_ok(kind: str, value: str) -> bool:
    """Whether OpenSSL here takes `value` as a list of `kind` (as the runtime sets them:
    dataplane/haproxy/tls_native.py); True when that cannot be told."""
    import ssl

    from pylvs.dataplane.haproxy import tls_native

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        if kind == "ciphers":
            ctx.set_ciphers(value)
        elif kind == "ciphersuites":
            return tls_native.set_ciphersuites(ctx, value)
        elif kind == "curves":
            return tls_native.set_groups(ctx, value)
    except ssl.SSLError:
        return False
    except tls_native.NativeUnavailableError:
        return True
    return True


def _lua_loader(quiet: bool) -> object:
    from pylvs.engine.lua.loader import LuaLoader

    return LuaLoader(quiet=quiet)
