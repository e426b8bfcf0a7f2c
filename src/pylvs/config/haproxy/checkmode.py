"""The exit status of `pylvs check` on a haproxy.cfg: what `haproxy -c` would exit with.

HAProxy 2.6 (src/haproxy.c, `MODE_CHECK`): 1 when an alert made the configuration invalid,
2 when it is valid but has no listener ("Configuration file has no error but will not start
(no listener)"), 0 otherwise; warnings change nothing unless `zero-warning` (`-dW`) makes them
fatal.  `pylvs check --strict` is that zero-warning mode: every warning fails the check but the
deprecations HAProxy accepts silently, and so does pylvs's reading of HAProxy 1.x syntax.
"""

from __future__ import annotations

from collections.abc import Iterable

from pylvs.config.errors import Kind, Problem, Severity
from pylvs.config.haproxy.model import HaproxyConfig

VALID = 0
INVALID = 1
NO_LISTENER = 2


def exit_status(problems: Iterable[Problem], config: HaproxyConfig, *, strict: bool = False) -> int:
    found = list(problems)
    if any(p.severity is Severity.ERROR for p in found):
        return INVALID
    if (strict or config.global_.zero_warning) and any(
        p.severity is Severity.WARNING and p.kind is not Kind.DEPRECATED for p in found
    ):
        return INVALID
    if config.listeners == 0:
        return NO_LISTENER
    return VALID
