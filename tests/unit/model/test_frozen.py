"""fast_init gives a frozen slotted dataclass the very `__init__` dataclasses generates (same
signature, defaults, factories, keyword-only and init=False fields, __post_init__), only faster;
the classes it is applied to build the same values both ways."""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest

from pylvs.config.errors import Location, Problem, Severity
from pylvs.config.keepalived.lvs import checks, model
from pylvs.model import service
from pylvs.model.frozen import TWIN_FIELDS, fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class _Sample:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)
    d: int = field(default=7, init=False)
    e: tuple[int, ...] = field(default_factory=tuple, init=False)
    f: int = field(default=0, kw_only=True)
    g: int = field(kw_only=True, default=1)

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")
        object.__setattr__(self, "d", self.d + self.a)


def _shape(fn: object) -> list[tuple[str, object, bool]]:
    """A signature's parameters: name, kind, and whether it has a default."""
    params = inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in params]


def test_same_signature_as_the_dataclass_init() -> None:
    original = _Sample.__dataclass_init__  # type: ignore[attr-defined]
    assert _shape(_Sample.__init__) == _shape(original)
    assert _Sample.__init__ is not original


def test_same_values_defaults_factories_and_post_init() -> None:
    x = _Sample(3, "x", [1], f=2)
    assert (x.a, x.b, x.c, x.d, x.e, x.f, x.g) == (3, "x", [1], 10, (), 2, 1)
    y, z = _Sample(1), _Sample(1)
    assert y.c == [] and y.c is not z.c  # a fresh list per instance, as default_factory
    assert y == z
    with pytest.raises(ValueError, match="negative"):
        _Sample(-1)
    with pytest.raises(TypeError):
        _Sample(1, "b", [], 0)  # type: ignore[call-arg]  # f is keyword-only


def test_still_frozen() -> None:
    x = _Sample(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.a = 2  # type: ignore[misc]
    assert dataclasses.replace(x, a=5).d == 12


def test_refuses_what_it_cannot_keep_equal() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        b: dataclasses.InitVar[int]

        def __post_init__(self, b: int) -> None:
            del b

    @dataclass(frozen=True, slots=True)
    class PostInitWithArgs:
        a: int

        def __post_init__(self, *rest: object) -> None:
            del rest

    for cls in (Mutable, NoSlots, WithInitVar, PostInitWithArgs):
        with pytest.raises(TypeError):
            fast_init(cls)


ADDRESS = ipaddress.ip_address("10.0.0.1")
LOC = Location("k.conf", 3, 5)
TIMING = checks.CheckTiming(1, 1.0, 6.0, 6.0, alpha=False, log_all_failures=False)
CONN = checks.Connection(ADDRESS, 80, 3.0)
SERVER = service.RealServer(ADDRESS, 80, 2, service.ForwardMethod.MASQ)
KEY = service.ServiceKey(protocol=service.Protocol.TCP, address=ADDRESS, port=80)
VALUES: list[tuple[type, tuple[object, ...], dict[str, object]]] = [
    (Problem, (LOC, Severity.WARNING, "m"), {}),
    (service.ServiceKey, (), {"protocol": service.Protocol.TCP, "address": ADDRESS, "port": 80}),
    (service.ServiceKey, (), {"fwmark": 7, "af": service.AF_INET6}),
    (service.RealServer, (ADDRESS, 80, 2, service.ForwardMethod.MASQ), {}),
    (service.VirtualService, (KEY, "wrr"), {}),
    (checks.CheckTiming, (1, 1.0, 6.0, 6.0), {"alpha": False, "log_all_failures": True}),
    (checks.Connection, (ADDRESS, 80, 3.0), {"bind_port": 9}),
    (checks.TcpCheck, (LOC, TIMING, CONN), {}),
    (model.RealServerConf, (LOC, SERVER), {"retry": 3}),
    (model.VirtualServerConf, (LOC,), {"address": ADDRESS, "port": 80, "quorum": 2}),
]


@pytest.mark.parametrize("cls,args,kwargs", VALUES, ids=lambda v: getattr(v, "__name__", ""))
def test_model_classes_build_the_same_values_both_ways(
    cls: Any, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    assert _shape(cls.__init__) == _shape(cls.__dataclass_init__)
    fast = cls(*args, **kwargs)
    slow = object.__new__(cls)
    cls.__dataclass_init__(slow, *args, **kwargs)
    assert fast == slow
    assert [getattr(fast, f.name) for f in dataclasses.fields(cls)] == [
        getattr(slow, f.name) for f in dataclasses.fields(cls)
    ]


def test_model_validation_still_runs() -> None:
    with pytest.raises(service.ModelError):
        service.RealServer(ADDRESS, 70000)
    with pytest.raises(service.ModelError):
        service.RealServer(ADDRESS, 80, u_threshold=-1)
    with pytest.raises(service.ModelError):
        service.ServiceKey(protocol=service.Protocol.TCP, address=None)


def test_an_instance_is_of_its_class_once_built_also_in_post_init() -> None:
    seen: list[type] = []

    @fast_init
    @dataclass(frozen=True, slots=True)
    class Watched:  # fields enough for the mutable twin (frozen.TWIN_FIELDS)
        a: int
        b: int = 2
        c: int = 3
        d: int = 4
        e: int = 5
        type: int = 6  # shadows the builtin inside __init__

        def __post_init__(self) -> None:
            seen.append(type(self))

    assert len(dataclasses.fields(Watched)) >= TWIN_FIELDS
    x = Watched(1)
    assert type(x) is Watched and seen == [Watched]  # not the mutable twin
    assert (x.a, x.e, x.type) == (1, 5, 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del x.a
    other: object = _Sample(1)
    assert x == Watched(1) and hash(x) == hash(Watched(1)) and x != other


def test_a_subclass_inheriting_the_init_keeps_its_class_and_its_slots() -> None:
    class Sub(_Sample):  # its own slot: a layout the mutable twin does not share
        __slots__ = ("extra",)

    x = Sub(3, "x")
    assert type(x) is Sub
    assert (x.a, x.b, x.c, x.d, x.f, x.g) == (3, "x", [], 10, 0, 1)
    object.__setattr__(x, "extra", 1)
    assert getattr(x, "extra") == 1  # noqa: B009 (a slot mypy does not see)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.a = 2  # type: ignore[misc]


def test_a_failing_factory_or_post_init_leaves_no_half_built_value() -> None:
    def boom() -> list[int]:
        raise RuntimeError("factory")

    @fast_init
    @dataclass(frozen=True, slots=True)
    class Failing:
        a: list[int] = field(default_factory=boom)

    with pytest.raises(RuntimeError, match="factory"):
        Failing()
    assert Failing([1]).a == [1] and type(Failing([1])) is Failing
