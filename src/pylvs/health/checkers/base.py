"""The interface every health checker driver implements, and the registry by checker kind.

A driver turns one check spec (model/checks.py) into probes: `await probe(url)` does one check
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
from typing import ClassVar

from pylvs.model.checks import CheckSpec, CheckTarget, TlsClientSpec
from pylvs.notify.scripts import ScriptRunner


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    reason: str
    status: int | None = None  # MISC_CHECK exit status (misc_dynamic weights)


@dataclass(slots=True)
class ProbeContext:
    """What drivers share: randomness (DNS ids, UDP payloads), the TLS client settings, the
    script runner."""

    rng: random.Random = field(default_factory=random.Random)
    ssl: TlsClientSpec | None = None
    run_script: ScriptRunner | None = None


class Driver(abc.ABC):
    KIND: ClassVar[str]

    def __init__(self, check: CheckSpec, ctx: ProbeContext) -> None:
        self.check = check
        self.ctx = ctx

    @property
    def target(self) -> CheckTarget:
        """Where the check connects (every driver but MISC_CHECK's has one)."""
        if self.check.target is None:
            raise ValueError(f"{self.check.kind} check without a target")
        return self.check.target

    @abc.abstractmethod
    async def probe(self, url: int = 0) -> ProbeResult:
        """One check; `url` is the URL index for HTTP checkers."""

    def describe(self) -> str:
        """Where the checker connects, for the status view."""
        t = self.check.target
        if t is None:
            return ""
        host = f"[{t.address}]" if t.address.version == 6 else str(t.address)
        return f"{host}:{t.port}"


_REGISTRY: dict[str, Callable[[CheckSpec, ProbeContext], Driver]] = {}


def register(kind: str) -> Callable[[type[Driver]], type[Driver]]:
    def deco(cls: type[Driver]) -> type[Driver]:
        _REGISTRY[kind] = cls
        return cls

    return deco


def kind_of(check: CheckSpec) -> str:
    return check.kind


def create(check: CheckSpec, ctx: ProbeContext) -> Driver:
    """The driver of `check` (KeyError for kinds pylvs does not probe: FILE_CHECK, BFD_CHECK)."""
    from pylvs.health import checkers  # noqa: F401  (registers every driver module)

    return _REGISTRY[kind_of(check)](check, ctx)


def kinds() -> list[str]:
    from pylvs.health import checkers  # noqa: F401

    return sorted(_REGISTRY)


def client_ssl_context(conf: TlsClientSpec | None, *, strict_eof: bool) -> ssl_mod.SSLContext:
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
