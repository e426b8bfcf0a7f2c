"""Where the control socket lives by default.

`--control PATH` wins, then `$PYLVS_CONTROL`; otherwise `/run/pylvs/pylvs.sock` for root and
`$XDG_RUNTIME_DIR/pylvs.sock` for other users (falling back to a private directory under the
temporary directory when XDG_RUNTIME_DIR is unset, as on a bare ssh session).
"""

from __future__ import annotations

import os
import tempfile


def default_control_path(environ: dict[str, str] | None = None, uid: int | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("PYLVS_CONTROL"):
        return env["PYLVS_CONTROL"]
    if (os.geteuid() if uid is None else uid) == 0:
        return "/run/pylvs/pylvs.sock"
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "pylvs.sock")
    return os.path.join(tempfile.gettempdir(), f"pylvs-{os.getuid()}", "pylvs.sock")


def resolve_control_path(explicit: str | None) -> str:
    return explicit if explicit else default_control_path()
