"""An in-memory `HostEffects` that records what was done, for tests without root.

It behaves like the kernel where the contract says so (an address is listed once, adding it
again or removing a missing one changes nothing, a route/rule is matched on all its fields)
and keeps every call in `calls` so tests can assert the order of side effects, and every frame
in `frames` as (dev, bytes).  `set_link` changes an interface as a cable pull would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pylvs.system.effects import (
    AddressSpec,
    HostEffects,
    HostError,
    Interface,
    IPAddress,
    LinkInfo,
    RouteSpec,
    RuleSpec,
)


@dataclass
class FakeHost(HostEffects):
    links: dict[str, LinkInfo] = field(default_factory=dict)
    addrs: dict[str, list[AddressSpec]] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    rules: list[RuleSpec] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    calls: list[tuple[str, object]] = field(default_factory=list)
    dropped: frozenset[IPAddress] = frozenset()

    def add_link(
        self,
        name: str,
        mac: bytes = b"\x02\x00\x00\x00\x00\x01",
        *,
        addresses: Iterable[Interface] = (),
        up: bool = True,
    ) -> LinkInfo:
        info = LinkInfo(name, len(self.links) + 2, mac, up)
        self.links[name] = info
        self.addrs[name] = [AddressSpec(a, name) for a in addresses]
        return info

    def set_link(self, name: str, *, up: bool) -> None:
        old = self.links[name]
        self.links[name] = LinkInfo(
            old.name, old.index, old.mac, up, old.noarp, old.ipv6_forwarding
        )

    # --- reading ---------------------------------------------------------------------------

    def link(self, name: str) -> LinkInfo | None:
        return self.links.get(name)

    def addresses(self, dev: str) -> tuple[Interface, ...]:
        return tuple(s.address for s in self.addrs.get(dev, ()))

    def has_route(self, route: RouteSpec) -> bool:
        return route in self.routes

    def has_rule(self, rule: RuleSpec) -> bool:
        return rule in self.rules

    def sysctl(self, key: str) -> str | None:
        return self.sysctls.get(key)

    def blocked(self) -> frozenset[IPAddress]:
        return self.dropped

    # --- changing --------------------------------------------------------------------------

    def _dev(self, dev: str | None) -> None:
        if dev is not None and dev not in self.links:
            raise HostError(f"Cannot find device {dev!r}")

    def add_address(self, spec: AddressSpec) -> None:
        self.calls.append(("add_address", spec))
        self._dev(spec.dev)
        if not self.has_address(spec):
            self.addrs[spec.dev].append(spec)

    def remove_address(self, spec: AddressSpec) -> None:
        self.calls.append(("remove_address", spec))
        self._dev(spec.dev)
        self.addrs[spec.dev] = [s for s in self.addrs[spec.dev] if s.address != spec.address]

    def add_route(self, route: RouteSpec) -> None:
        self.calls.append(("add_route", route))
        self._dev(route.dev)
        if route not in self.routes:
            self.routes.append(route)

    def remove_route(self, route: RouteSpec) -> None:
        self.calls.append(("remove_route", route))
        self.routes = [r for r in self.routes if r != route]

    def add_rule(self, rule: RuleSpec) -> None:
        self.calls.append(("add_rule", rule))
        if rule not in self.rules:
            self.rules.append(rule)

    def remove_rule(self, rule: RuleSpec) -> None:
        self.calls.append(("remove_rule", rule))
        self.rules = [r for r in self.rules if r != rule]

    def prepare_address(self, spec: AddressSpec) -> Callable[[], None] | None:
        self.calls.append(("prepare_address", spec))
        return functools.partial(self.add_address, spec)

    def prepare_frames(self, dev: str) -> Callable[[bytes], None]:
        self.calls.append(("prepare_frames", dev))
        return functools.partial(self.send_frame, dev)

    def send_frame(self, dev: str, frame: bytes) -> None:
        self.calls.append(("send_frame", (dev, frame)))
        self._dev(dev)
        if len(frame) < 14:
            raise HostError("an Ethernet frame has at least a 14-byte header")
        self.frames.append((dev, frame))

    def set_sysctl(self, key: str, value: str) -> None:
        self.calls.append(("set_sysctl", (key, value)))
        self.sysctls[key] = value

    def set_blocked(self, addresses: Iterable[IPAddress]) -> None:
        new = frozenset(addresses)
        if new != self.dropped:
            self.calls.append(("set_blocked", new))
        self.dropped = new
