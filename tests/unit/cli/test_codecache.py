"""cli/codecache.py: dataclasses made through the bytecode cache are the ones dataclasses makes.

The cache is installed by hand into this process (monkeypatched, so the other tests keep the
stock `dataclasses`), with its file in a temporary directory.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pylvs.cli import codecache
from pylvs.model import frozen

STOCK = dataclasses._create_fn  # type: ignore[attr-defined]
METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    if sys.version_info[:2] not in codecache._VERSIONS:
        pytest.skip("the cache reproduces CPython 3.11's dataclasses only")
    for name, value in (("_codes", {}), ("_used", set()), ("_path", None), ("_compiled", 0)):
        monkeypatch.setattr(codecache, name, value)
    monkeypatch.setattr(dataclasses, "_create_fn", STOCK)
    monkeypatch.setattr(frozen, "compile_init", frozen.compile_init)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    codecache.install("test", str(tmp_path))
    yield tmp_path / f"dataclasses-test.{sys.implementation.cache_tag}.marshal"


def make() -> type:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Point:
        x: int
        y: str = "b"
        z: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    return Point


def same_class(a: type, b: type) -> None:
    assert a.__doc__ == b.__doc__  # built from inspect.signature(): annotations included
    for name in METHODS:
        fa: Any = getattr(a, name)
        fb: Any = getattr(b, name)
        assert fa.__code__.co_code == fb.__code__.co_code, name
        assert fa.__code__.co_consts == fb.__code__.co_consts, name
        assert fa.__annotations__ == fb.__annotations__, name
        assert fa.__qualname__ == fb.__qualname__, name


def test_a_class_from_the_cache_is_the_class_dataclasses_makes(cache: Path) -> None:
    cached = make()
    hit = make()  # its methods' code objects now come from the cache
    assert codecache._compiled == len(METHODS)
    codecache.install("other")  # once per process: a second call changes nothing
    dataclasses._create_fn = STOCK  # type: ignore[attr-defined]
    stock = make()
    for cls in (cached, hit):
        same_class(cls, stock)
    p = hit(1, "a", (2,))
    assert p == hit(1, "a", (2,)) and hash(p) == hash(hit(1, "a", (2,)))
    assert repr(p).endswith("Point(x=1, y='a', z=(2,))")
    init: Any = vars(hit)["__init__"]
    assert init.__annotations__["return"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2


def test_what_was_compiled_is_saved_and_read_back(cache: Path) -> None:
    make()
    codecache.save()
    assert cache.exists()
    assert set(codecache._read(str(cache))) == set(codecache._codes)
    mtime = cache.stat().st_mtime_ns
    make()
    codecache.save()  # nothing new compiled: the file is not rewritten
    assert cache.stat().st_mtime_ns == mtime
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temporary left


@pytest.mark.parametrize(
    "content", [b"", b"not marshal", b"\x00\x00\x00\x00{}", b"MAGIC:not marshal"]
)
def test_a_damaged_or_foreign_file_is_a_cold_start(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cache.marshal"
    path.write_bytes(content.replace(b"MAGIC:", codecache.HEADER))
    assert codecache._read(str(path)) == {}
    assert codecache._read(str(tmp_path / "missing")) == {}


def test_nothing_is_written_without_bytecode_writing(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    make()
    codecache.save()
    assert not cache.exists()


def test_an_unwritable_directory_is_only_slower(cache: Path) -> None:
    make()
    os.chmod(cache.parent, 0o500)
    try:
        if os.access(cache.parent, os.W_OK):  # root writes anyway: make it a file instead
            os.chmod(cache.parent, 0o700)
            codecache._path = str(cache.parent / "a-file" / cache.name)
            (cache.parent / "a-file").write_text("")
        codecache.save()  # no exception
    finally:
        os.chmod(cache.parent, 0o700)
    assert not cache.exists()


def test_fast_init_compiles_through_the_cache(cache: Path) -> None:
    def make_fast() -> Any:
        @frozen.fast_init
        @dataclasses.dataclass(frozen=True, slots=True)
        class Fast:
            """A fast_init class (its __init__ is compiled by fast_init, not dataclasses)."""

            a: int
            b: int = 2

        return Fast

    cls = make_fast()
    compiled = codecache._compiled
    again = make_fast()  # the same source: both its methods and its __init__ from the cache
    assert codecache._compiled == compiled
    assert again(1).b == 2 and again(1, 3) == again(1, 3) and cls(1).a == 1
    assert vars(again)["__init__"].__code__ is vars(cls)["__init__"].__code__
