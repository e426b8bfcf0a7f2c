"""`fast_init`: the same `__init__` for a frozen slotted dataclass, several times faster.

A frozen dataclass cannot assign its fields the ordinary way (its `__setattr__` raises), so the
`__init__` that `dataclasses` generates stores each one with `object.__setattr__(self, name,
value)` [CPython Lib/dataclasses.py `_field_assign`]: a generic attribute lookup and a wrapper
call per field, about five times the cost of a mutable class's assignment.  A configuration of
tens of thousands of virtual servers makes hundreds of thousands of such values, and their
constructors were a third of `pylvs check`'s time (bench/config_bench.py, issue 18 #10).

`fast_init` replaces that `__init__` with one of the same signature (names, order, defaults,
default factories, keyword-only fields, `init=False` fields, `__post_init__`) that stores the
fields as a mutable class would: for the time of the stores the instance's class is the class's
mutable twin, a subclass that adds no slot and keeps `object`'s own `__setattr__` (so its
`self.name = value` is the interpreter's plain slot store, about ten times cheaper than a
descriptor call), then it is the class again, before `__post_init__` runs; an instance of a
subclass (whose layout may differ), and any instance of a class of fewer than TWIN_FIELDS
fields, has its fields stored through the slots' descriptors.
Nothing else of the class changes: it stays frozen (assignment still raises
`FrozenInstanceError`), and equality, hashing, ordering, `repr`, `replace` and pickling are the
dataclass's own.  (The twin is a subclass: it is in `cls.__subclasses__()`.)  The generated
`__init__` is kept as `__dataclass_init__` so tests compare the two.  A 32-field
VirtualServerConf is built in 4.3 us instead of 7.1 with descriptor calls and 12.9 with
`object.__setattr__` (issue 18 #10).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from types import CodeType
from typing import Any, TypeVar

T = TypeVar("T")

_FACTORY = object()  # the default of a parameter whose field has a default_factory


def _compile(source: str) -> CodeType:
    return compile(source, "<string>", "exec")


# How fast_init compiles an `__init__`'s source: here `compile`; the `pylvs` program puts its
# bytecode cache in its place (cli/codecache.py), as it does for dataclasses' own methods.
compile_init: Callable[[str], CodeType] = _compile
# From this many fields the class switches pay for themselves (two `__class__` assignments cost
# about what five descriptor stores do: bench/config_bench.py, counted in instructions).
TWIN_FIELDS = 6


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
    stores: list[str] = []  # as attribute stores on the twin
    setters: list[str] = []  # through the slots' descriptors (an instance of a subclass)
    fields: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(cls)  # type: ignore[arg-type]
    for i, f in enumerate(fields):
        setter = f"_set{i}"
        namespace[setter] = _slot(cls, f.name).__set__
        has_factory = f.default_factory is not dataclasses.MISSING
        if has_factory:
            namespace[f"_factory{i}"] = f.default_factory
        if not f.init:
            if has_factory:
                value = f"_factory{i}()"
            elif f.default is not dataclasses.MISSING:
                namespace[f"_default{i}"] = f.default
                value = f"_default{i}"
            else:
                continue
        else:
            param = value = f.name
            if has_factory:
                param += "=_FACTORY"
                value = f"_factory{i}() if {f.name} is _FACTORY else {f.name}"
            elif f.default is not dataclasses.MISSING:
                namespace[f"_default{i}"] = f.default
                param += f"=_default{i}"
            (keyword_only if f.kw_only else positional).append(param)
        stores.append(f"self.{f.name} = {value}")
        setters.append(f"{setter}(self, {value})")
    if len(stores) >= TWIN_FIELDS:
        namespace.update(
            _fast_cls_=cls,
            _fast_twin_=_twin(cls),
            _fast_setattr_=object.__setattr__,
            _fast_type_=type,  # `type` may be a field's name
        )
        body = [
            "if _fast_type_(self) is _fast_cls_:",
            "    _fast_setattr_(self, '__class__', _fast_twin_)",
            *(f"    {line}" for line in stores),
            "    _fast_setattr_(self, '__class__', _fast_cls_)",
            "else:",
            *(f"    {line}" for line in setters),
        ]
    else:
        body = setters or ["pass"]
    if post_init is not None:
        body.append("self.__post_init__()")
    args = ["self", *positional, *(["*", *keyword_only] if keyword_only else [])]
    source = f"def __init__({', '.join(args)}):\n    " + "\n    ".join(body)
    exec(compile_init(source), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__dataclass_init__ = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _twin(cls: type) -> type:
    """The mutable twin of `cls` (see the module): its stores are the interpreter's plain
    slot stores."""
    metaclass: Any = type(cls)
    twin: type = metaclass(
        cls.__name__,
        (cls,),
        {
            "__slots__": (),
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__}.<fast_init>",
        },
    )
    return twin


def _slot(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and inspect.ismemberdescriptor(descriptor):
            return descriptor
    raise TypeError(f"{cls.__name__}.{name} is not a slot")
