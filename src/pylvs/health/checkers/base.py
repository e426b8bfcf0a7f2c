"""The interface every health checker driver implements, and the registry by checker kind.

A driver turns one checker's configuration into probes: `await probe(url)` does one check
(for HTTP_GET / SSL_GET the URL with that index) and returns a `ProbeResult`; it never raises
for a failed check, and bounds its own I/O with `asyncio.timeout` so that a timed-out probe is
cancelled (keepalived's per-operation `connect_timeout`, check/check_api.c).  The retry
logic lives in the pure machines of health/machine.py, not here.
"""

from __future__ import annotations

import abc
import random
import ssl as ssl_mod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pylvs.config.keepalived.lvs.checks import Checker
from pylvs.config.keepalived.lvs.model import SslConf


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    reason: str
    status: int | None = None  # MISC_CHECK exit status (misc_dynamic weights)


@dataclass(slots=True)
class ProbeContext:
    """What drivers share: randomness (DNS ids, UDP payloads), the SSL block, script runner."""

    rng: random.Random = field(default_factory=random.Random)
    ssl: SslConf | None = None
    run_script: Any = None  # health.notify.ScriptRunner (typed loosely: avoids an import cycle)


class Driver(abc.ABC):
    KIND: ClassVar[str]

    def __init__(self, check: Any, ctx: ProbeContext) -> None:
        self.check = check
        self.ctx = ctx

    @abc.abstractmethod
    async def probe(self, url: int = 0) -> ProbeResult:
        """One check; `url` is the URL index for HTTP checkers."""

    def describe(self) -> str:
        """Where the checker connects, for the status view."""
        conn = getattr(self.check, "conn", None)
        if conn is None:
            return ""
        host = f"[{conn.ip}]" if conn.ip.version == 6 else str(conn.ip)
        return f"{host}:{conn.port}"


_REGISTRY: dict[str, Callable[[Any, ProbeContext], Driver]] = {}


def register(kind: str) -> Callable[[type[Driver]], type[Driver]]:
    def deco(cls: type[Driver]) -> type[Driver]:
        _REGISTRY[kind] = cls
        return cls

    return deco


def kind_of(check: Checker) -> str:
    kind = getattr(check, "kind", None)
    return kind if isinstance(kind, str) else check.KIND


def create(check: Checker, ctx: ProbeContext) -> Driver:
    """The driver of `check` (KeyError for kinds pylvs does not probe: FILE_CHECK, BFD_CHECK)."""
    from pylvs.health import checkers  # noqa: F401  (registers every driver module)

    return _REGISTRY[kind_of(check)](check, ctx)


def kinds() -> list[str]:
    from pylvs.health import checkers  # noqa: F401

    return sorted(_REGISTRY)


def client_ssl_context(conf: SslConf | None, *, strict_eof: bool) -> ssl_mod.SSLContext:
    """SSL_GET's context: keepalived does not verify the server unless a CA is given
    (check/check_ssl.c `build_ssl_ctx`); a client certificate is presented when configured.
    Without `tls_compliant`, a server closing without close_notify is accepted."""
    ctx = ssl_mod.SSLContext(ssl_mod.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if conf is not None and conf.ca:
        ctx.load_verify_locations(conf.ca)
        ctx.verify_mode = ssl_mod.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl_mod.CERT_NONE
    if conf is not None and conf.certificate:
        ctx.load_cert_chain(conf.certificate, conf.key, conf.password)
    if not strict_eof:
        ctx.options |= getattr(ssl_mod, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return ctx
