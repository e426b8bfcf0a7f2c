"""`fast_init`: the same `__init__` for a frozen slotted dataclass, several times faster.

A frozen dataclass cannot assign its fields the ordinary way (its `__setattr__` raises), so the
`__init__` that `dataclasses` generates stores each one with `object.__setattr__(self, name,
value)` [CPython Lib/dataclasses.py `_field_assign`]: a generic attribute lookup and a wrapper
call per field, about five times the cost of a mutable class's assignment.  A configuration of
tens of thousands of virtual servers makes hundreds of thousands of such values, and their
constructors were a third of `pylvs check`'s time (bench/config_bench.py, issue 18 #10).

`fast_init` replaces that `__init__` with one of the same signature (names, order, defaults,
default factories, keyword-only fields, `init=False` fields, `__post_init__`) that stores each
field through its slot's member descriptor, which is where `object.__setattr__` ends up anyway.
Nothing else of the class changes: it stays frozen (assignment still raises
`FrozenInstanceError`), and equality, hashing, ordering, `repr`, `replace` and pickling are the
dataclass's own.  The generated `__init__` is kept as `__dataclass_init__` so tests compare
the two.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T")

_FACTORY = object()  # the default of a parameter whose field has a default_factory


def fast_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted dataclass `cls` the faster `__init__` (see the module)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init is for frozen slotted dataclasses")
    post_init = getattr(cls, "__post_init__", None)
    if post_init is not None and len(inspect.signature(post_init).parameters) > 1:
        raise TypeError(f"{cls.__name__}: InitVar fields are not supported")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    positional: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    fields: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(cls)  # type: ignore[arg-type]
    for i, f in enumerate(fields):
        setter = f"_set{i}"
        namespace[setter] = _slot(cls, f.name).__set__
        has_factory = f.default_factory is not dataclasses.MISSING
        if has_factory:
            namespace[f"_factory{i}"] = f.default_factory
        if not f.init:
            if has_factory:
                body.append(f"{setter}(self, _factory{i}())")
            elif f.default is not dataclasses.MISSING:
                namespace[f"_default{i}"] = f.default
                body.append(f"{setter}(self, _default{i})")
            continue
        param = f.name
        if has_factory:
            param += "=_FACTORY"
            body.append(f"{setter}(self, _factory{i}() if {f.name} is _FACTORY else {f.name})")
        else:
            if f.default is not dataclasses.MISSING:
                namespace[f"_default{i}"] = f.default
                param += f"=_default{i}"
            body.append(f"{setter}(self, {f.name})")
        (keyword_only if f.kw_only else positional).append(param)
    if post_init is not None:
        body.append("self.__post_init__()")
    args = ["self", *positional, *(["*", *keyword_only] if keyword_only else [])]
    source = f"def __init__({', '.join(args)}):\n    " + ("\n    ".join(body) or "pass")
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__dataclass_init__ = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _slot(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and inspect.ismemberdescriptor(descriptor):
            return descriptor
    raise TypeError(f"{cls.__name__}.{name} is not a slot")
