"""What `pylvs haproxy` prints, worded and laid out as HAProxy 2.6 prints it.

Alerts, warnings and notices go to stderr as `[ALERT]    (PID) : config : message` (src/errors.c
`print_message`: the label padded to nine columns, the process id, the context while the
configuration is read, then the message as written, on as many lines as it has); the first
alert or warning of a run is preceded by two notices naming the version and the executable.
`-q` silences them unless `-V` is also given.  The version block (`-v`, and at the top of the
usage message) goes to stdout, the usage message to stderr: `haproxy -h` is a usage error
(exit 1) as every unknown flag is.  The version names HAProxy's (so tools that parse
"HAProxy version 2.6" accept it) and pylvs's.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from pylvs import __version__
from pylvs.config.haproxy.cond import FEATURES, VERSION

FULL_VERSION = f"{VERSION}-pylvs-{__version__}"

_USAGE = """\
Usage : {name} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections ({maxpconn})
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dL dumps loaded object files after config checks
        -dK{{class[,...]}} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI

"""


def program_name() -> str:
    """The name the usage message shows: how we were started."""
    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "haproxy"
    return "pylvs haproxy" if base in ("pylvs", "__main__.py", "-m", "-c") else base


def version_text() -> str:
    u = os.uname()
    return (
        f"HAProxy version {FULL_VERSION} - pylvs {__version__}\n"
        "Status: pylvs with HAProxy 2.6's command line and configuration"
        " (what it does not do: docs/unsupported-haproxy.md).\n"
        f"Running on: {u.sysname} {u.release} {u.version} {u.machine}\n"
    )


def build_text() -> str:
    """-vv: the version, then what `feature()` finds and the one polling system."""
    known = sorted({*FEATURES, "OPENSSL", "LUA", "QUIC", "SYSTEMD", "THREAD", "ZLIB"})
    features = " ".join(("+" if f in FEATURES else "-") + f for f in known)
    return (
        f"{version_text()}"
        "Build options :\n"
        f"  TARGET  = pylvs (Python {sys.version.split()[0]})\n\n"
        f"Feature list : {features}\n\n"
        "Available polling systems :\n"
        "      epoll : pref=300,  test result OK\n"
        "Total: 1 (1 usable), will use epoll.\n"
    )


def usage(maxpconn: int = 0, out: TextIO | None = None) -> None:
    sys.stdout.write(version_text())
    sys.stdout.flush()
    (out or sys.stderr).write(_USAGE.format(name=program_name(), maxpconn=maxpconn))


class Messages:
    """HAProxy's alert/warning/notice lines for one process."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet and not verbose
        self.context = ""  # "config" while the configuration is read
        self.warned = False  # any warning printed (HAProxy's WARN_ANY)
        self._said_version = False

    def alert(self, message: str) -> None:
        self._first()
        self._print("ALERT", message)

    def warning(self, message: str) -> None:
        self.warned = True
        self._first()
        self._print("WARNING", message)

    def notice(self, message: str) -> None:
        self._print("NOTICE", message)

    def running(self, label: str, message: str) -> None:
        """A message of the running process ("WARNING", "ALERT"): HAProxy names its version
        only while starting (MODE_STARTING), so no notices come first."""
        if label == "WARNING":
            self.warned = True
        self._print(label, message)

    def _first(self) -> None:
        if self._said_version or self.quiet:
            return
        self._said_version = True
        self._print("NOTICE", f"haproxy version is {FULL_VERSION}", context=False)
        self._print("NOTICE", f"path to executable is {_executable()}", context=False)

    def _print(self, label: str, message: str, *, context: bool = True) -> None:
        if self.quiet:
            return
        head = f"{'[' + label + ']':<10} ({os.getpid()}) : "
        if context and self.context:
            head += f"{self.context} : "
        # The message as written, its lines after the first too (print_message prints them as
        # they are: the "   | " some of HAProxy's messages indent them with is in their text);
        # a message is HAProxy's without its last newline.
        text = f"{head}{message}\n"
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except OSError:
            pass  # stderr closed (a daemon's): nowhere to say it


def _executable() -> str:
    path = sys.argv[0] if sys.argv else ""
    return os.path.abspath(path) if path and os.path.exists(path) else sys.executable
