"""A bytecode cache for the methods `dataclasses` writes, so a `pylvs` command starts faster.

pylvs's model is made of frozen slotted dataclasses: `pylvs check` of a keepalived.conf creates
about 170 of them at import.  For each, `dataclasses` writes the source of five or six methods
(`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`) and compiles it
with `exec` [CPython Lib/dataclasses.py `_create_fn`]: 850 compilations, two thirds of the
command's import time and a third of checking a 1 MB file (bench/config_bench.py, issue 18
#10).  Python caches the bytecode of modules (`__pycache__/*.pyc`), not of this source.

`install(name)` makes `dataclasses` look each source text up in a cache first: the same text
gives the same code object, so a class gets exactly the methods it would have had (the text is
the key, not a digest of it: nothing else can be returned).  What was compiled anew is saved by
`save()` (also at exit) in `__pycache__/dataclasses-NAME.TAG.marshal` beside this module, one
file per command (each imports its own classes), under the rules of Python's own bytecode cache:
not written when `sys.dont_write_bytecode` (PYTHONDONTWRITEBYTECODE) or a `pycache_prefix` is
set, nor where it cannot be written; written whole to a temporary file and renamed, so a
concurrent command reads the old file or the new one; tagged with the interpreter's
version, so another Python version ignores it.  Only for the CPython versions whose
`_create_fn` this module reproduces; any other leaves `dataclasses` untouched.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import marshal
import os
import sys
from types import CodeType
from typing import Any

# The first bytes of a cache file: bytecode and marshal formats belong to one interpreter
# version (sys.hexversion changes with every release, alphas and betas included).
HEADER = f"pylvs dataclasses {sys.implementation.cache_tag} {sys.hexversion:x}\n".encode()
# The CPython versions whose dataclasses._create_fn (signature and text) is reproduced below.
_VERSIONS = ((3, 11),)
# Past this many entries a saved file keeps only what the saving process used: dead entries
# (classes since changed) then stop accumulating.
_MAX_ENTRIES = 4000

_codes: dict[str, CodeType] = {}
_used: set[str] = set()
_path: str | None = None
_compiled = 0  # texts compiled by this process, not found in the file


def install(name: str, directory: str | None = None) -> None:
    """Use the cache of command `name` (in `directory`, by default this package's
    `__pycache__`) for every dataclass created from now on."""
    global _path
    if sys.version_info[:2] not in _VERSIONS or _path is not None:
        return
    if not callable(getattr(dataclasses, "_create_fn", None)):
        return
    if directory is None:
        directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    _path = os.path.join(directory, f"dataclasses-{name}.{sys.implementation.cache_tag}.marshal")
    _codes.update(_read(_path))
    dataclasses._create_fn = _create_fn  # type: ignore[attr-defined]
    from pylvs.model import frozen  # its fast_init compiles an __init__ per class too

    frozen.compile_init = _code
    atexit.register(save)


def _read(path: str) -> dict[str, CodeType]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if not data.startswith(HEADER):
        return {}
    try:
        loaded = marshal.loads(data[len(HEADER) :])
    except (EOFError, ValueError, TypeError):  # a damaged file is only a cold start
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, CodeType)}


def save() -> None:
    """Write the cache if this process compiled something it did not find there."""
    global _compiled
    if _path is None or not _compiled or sys.dont_write_bytecode or sys.pycache_prefix:
        return
    _compiled = 0
    keep = _codes if len(_codes) <= _MAX_ENTRIES else {k: _codes[k] for k in _used}
    tmp = f"{_path}.{os.getpid()}.tmp"
    # A directory that cannot be written (an installed tree, another user's) is only slower.
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        try:
            with open(tmp, "wb") as f:
                f.write(HEADER + marshal.dumps(keep))
            os.replace(tmp, _path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _create_fn(
    name: str,
    args: list[str],
    body: list[str],
    *,
    globals: dict[str, Any] | None = None,  # dataclasses passes them by these names
    locals: dict[str, Any] | None = None,
    return_type: Any = dataclasses.MISSING,
) -> Any:
    """CPython 3.11's dataclasses._create_fn, its compilation looked up in the cache first."""
    if locals is None:
        locals = {}
    return_annotation = ""
    if return_type is not dataclasses.MISSING:
        locals["_return_type"] = return_type
        return_annotation = "->_return_type"
    arglist = ",".join(args)
    text = "\n".join(f"  {b}" for b in body)
    txt = f" def {name}({arglist}){return_annotation}:\n{text}"
    local_vars = ", ".join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
    ns: dict[str, Any] = {}
    exec(_code(txt), globals, ns)
    return ns["__create_fn__"](**locals)


def _code(text: str) -> CodeType:
    """The code of module source `text`, from the cache or compiled (and then saved)."""
    global _compiled
    code = _codes.get(text)
    if code is None:
        # dont_inherit: compiled as dataclasses compiles it, not under this module's
        # `from __future__ import annotations` (its annotations would become strings)
        code = _codes[text] = compile(text, "<string>", "exec", dont_inherit=True)
        _compiled += 1
    _used.add(text)
    return code
