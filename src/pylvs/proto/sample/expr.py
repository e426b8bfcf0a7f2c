"""Compiled sample expressions: `fetch(args),conv(args),...` ready to run on a stream.

HAProxy parses an expression once (src/sample.c sample_parse_expr) and resolves its
arguments before it starts (smp_resolve_args: tables, backends, servers, user lists; the
keyword's own `val_args` check compiles regexes, loads maps, parses variable names).  The
config reader (config/haproxy/samples.py) already checked names, argument counts and literal
types with HAProxy's messages; `compile_sample` does the rest and raises `CompileError` with
HAProxy's wording for what it refuses.

Running one (sample.c sample_process): the fetch gives a sample or nothing; each converter
first casts it to its input type (`types.cast`), then transforms it; any step that fails
leaves no sample.  `each()` is the ACL form (SMP_OPT_ITERATE): a multi-valued fetch such as
`hdr(x)` yields every value, and iteration stops at the first value a converter refuses,
as acl_exec_cond does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import VarError, VarName, parse_var_name
from pylvs.proto.stick.spec import TableSpec, parse_time_ms

Arg = Any  # a compiled argument: int, bytes, str, VarName, re.Pattern, a resolved object...
Args = tuple[Arg, ...]
FetchFn = Callable[[Stream, Args], "Smp | Wait | None"]
EachFn = Callable[[Stream, Args], Iterator[Smp]]
ConvFn = Callable[[Stream, Smp, Args], "Smp | Wait | None"]


class CompileError(ValueError):
    """An expression HAProxy refuses once its arguments are resolved (its message)."""


class ResolveError(CompileError):
    """An argument naming a table, proxy or server that is not there (smp_resolve_args,
    check_action_rules): what `haproxy -c` refuses, where the other CompileErrors are what
    pylvs lacks."""


class Wait:
    """A fetch's answer when its data is not all there yet (SMP_F_MAY_CHANGE): the rule may
    be evaluated again once more arrives, unless the stream is final."""


WAIT = Wait()


class FetchSig(Protocol):
    @property
    def args(self) -> tuple[str, ...]: ...

    @property
    def out(self) -> str: ...


class ConvSig(Protocol):
    @property
    def args(self) -> tuple[str, ...]: ...

    @property
    def input(self) -> str: ...

    @property
    def out(self) -> str: ...


@dataclass
class CompileContext:
    """What resolving arguments needs to know of the configuration."""

    proxy: str | None = None  # the proxy the expression is written in
    defaults: bool = False  # it is a defaults section (PR_CAP_DEF): servers need a backend
    proxy_table: str | None = None  # that proxy's own stick table, if it has one
    tables: Mapping[str, TableSpec] = field(default_factory=dict)
    backends: frozenset[str] = frozenset()
    frontends: frozenset[str] = frozenset()
    servers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    userlists: Mapping[str, Any] = field(default_factory=dict)
    patterns: PatternStore = field(default_factory=PatternStore)
    # proc. variables a configuration names exist from the start (vars_check_arg)
    proc_vars: set[str] = field(default_factory=set)
    # The keyword signatures HAProxy declares (config/haproxy/fetches.py, generated from its
    # source): name -> (argument types, output type) for fetches, (argument types, input
    # type, output type) for converters.  The config side passes them in (proto does not
    # import config).
    fetch_sigs: Mapping[str, FetchSig] = field(default_factory=dict)
    conv_sigs: Mapping[str, ConvSig] = field(default_factory=dict)
    # (backend, server) named by a server argument: such a server cannot be deleted at run
    # time (src/sample.c smp_resolve_args sets SRV_F_NON_PURGEABLE).
    pinned: set[tuple[str, str]] = field(default_factory=set)


# A keyword's own argument check (its val_args): gets the compiled args, returns them
# (possibly changed), raises CompileError.
Check = Callable[[Args, CompileContext], Args]


@dataclass(frozen=True, slots=True)
class FetchImpl:
    fn: FetchFn
    each: EachFn | None = None  # multi-valued in ACLs
    check: Check | None = None


@dataclass(frozen=True, slots=True)
class ConvImpl:
    fn: ConvFn
    check: Check | None = None


FETCHES: dict[str, FetchImpl] = {}
CONVERTERS: dict[str, ConvImpl] = {}


def fetch(
    *names: str, each: EachFn | None = None, check: Check | None = None
) -> Callable[[FetchFn], FetchFn]:
    """Register a fetch implementation under its HAProxy names."""

    def register(fn: FetchFn) -> FetchFn:
        for name in names:
            FETCHES[name] = FetchImpl(fn, each, check)
        return fn

    return register


def converter(*names: str, check: Check | None = None) -> Callable[[ConvFn], ConvFn]:
    def register(fn: ConvFn) -> ConvFn:
        for name in names:
            CONVERTERS[name] = ConvImpl(fn, check)
        return fn

    return register


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    fn: ConvFn
    input: int  # SMP_T_* the converter takes
    args: Args


class Expr:
    """A compiled sample expression."""

    __slots__ = ("args", "each_fn", "fetch", "fetch_name", "steps", "text", "type")

    def __init__(
        self,
        fetch_name: str,
        impl: FetchImpl,
        args: Args,
        steps: tuple[Step, ...],
        *,
        text: str,
        out_type: int,
    ) -> None:
        self.fetch_name = fetch_name
        self.fetch = impl.fn
        self.each_fn = impl.each
        self.args = args
        self.steps = steps
        self.text = text
        self.type = out_type

    def raw(self, s: Stream) -> Smp | Wait | None:
        """The fetch and converters, WAIT when the fetch lacks data that may still come."""
        smp = self.fetch(s, self.args)
        if smp is None or isinstance(smp, Wait):
            return smp
        return self.convert(s, smp)

    def convert(self, s: Stream, smp: Smp) -> Smp | Wait | None:
        """The converters on a fetched sample; WAIT when one needs more of the data (the
        FIX and MQTT ones: SMP_F_MAY_CHANGE)."""
        for step in self.steps:
            if smp.type != step.input:
                cast = ty.cast(smp, step.input)
                if cast is None:
                    return None
                smp = cast
            out = step.fn(s, smp, step.args)
            if out is None or isinstance(out, Wait):
                return out
            smp = out
        return smp

    def eval(self, s: Stream) -> Smp | None:
        """sample_process: the sample, or None."""
        smp = self.raw(s)
        return None if isinstance(smp, Wait) else smp

    def eval_as(self, s: Stream, to: int) -> Smp | None:
        """sample_fetch_as_type: the sample cast to `to` (None if it cannot be)."""
        smp = self.eval(s)
        if smp is None or smp.type == to:
            return smp
        return ty.cast(smp, to)

    def each(self, s: Stream) -> Iterator[Smp | Wait]:
        """Every value an ACL tests (SMP_OPT_ITERATE), see the module doc."""
        if self.each_fn is None:
            smp = self.raw(s)
            if smp is not None:
                yield smp
            return
        for value in self.each_fn(s, self.args):
            out = self.convert(s, value)
            if out is None:
                return
            yield out
            if isinstance(out, Wait):
                return

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


# -- compiling ------------------------------------------------------------------------------

# The placeholder for an argument not given (ARGT_STOP).
ABSENT = None


def _mask(text: str, bits: int) -> bytes:
    if ("." if bits == 32 else ":") in text:
        packed = (
            ipaddress.IPv4Address(text).packed if bits == 32 else ipaddress.IPv6Address(text).packed
        )
        return packed
    n = int(text)
    value = ((1 << bits) - 1) ^ ((1 << (bits - n)) - 1) if n else 0
    return value.to_bytes(bits // 8, "big")


def _time_or_size(kind: str, text: str) -> int:
    value = parse_time_ms(text) if kind == "TIME" else int(text)
    if isinstance(value, str):
        raise CompileError(f"failed to parse '{text}' as a delay")
    return value


# The arguments that need no configuration context, by ARGT_* type
_PLAIN: dict[str, Callable[[str], Arg]] = {
    "SINT": lambda text: int(text) if text else 0,
    "STR": lambda text: text.encode("latin-1", "replace"),
    "IPV4": lambda text: ipaddress.IPv4Address(text).packed,
    "IPV6": lambda text: ipaddress.IPv6Address(text).packed,
    "MSK4": lambda text: _mask(text, 32),
    "MSK6": lambda text: _mask(text, 128),
    "TIME": lambda text: _time_or_size("TIME", text),
    "SIZE": lambda text: _time_or_size("SIZE", text),
}


def compile_arg(kind: str, text: str, ctx: CompileContext, pos: int, where: str) -> Arg:
    """One argument of type `kind` (ARGT_*), already checked by the config reader."""
    plain = _PLAIN.get(kind)
    if plain is not None:
        return plain(text)
    if kind == "VAR":
        return compile_var(text, ctx)
    if kind == "REG":
        return compile_regex(text, icase=False, where=f"{where} arg {pos + 1}")
    if kind == "TAB":
        return resolve_table(text, ctx, pos, where)
    if kind in ("BE", "FE"):
        return resolve_proxy(kind, text, ctx, pos, where)
    if kind == "SRV":
        return resolve_server(text, ctx, pos, where)
    if kind == "USR" and text not in ctx.userlists:
        raise ResolveError(
            f"unable to find userlist '{text}' referenced in arg {pos + 1} of {where}"
        )
    return text


def compile_var(text: str, ctx: CompileContext) -> VarName:
    try:
        name = parse_var_name(text)
    except VarError as e:
        raise CompileError(str(e)) from None
    if name.scope == "proc":
        ctx.proc_vars.add(name.name)
    return name


def resolve_table(text: str, ctx: CompileContext, pos: int, where: str) -> str:
    """smp_resolve_args for ARGT_TAB: a named table, or the proxy's own when empty."""
    if not text and ctx.defaults:
        raise ResolveError(f"table name must be set in arg {pos + 1} of {where}")
    name = text or ctx.proxy_table or ctx.proxy or ""
    if name not in ctx.tables:
        if not text and ctx.proxy is not None:
            raise ResolveError(
                f"unable to find table '{ctx.proxy}' referenced in arg {pos + 1} of {where}"
            )
        raise ResolveError(f"unable to find table '{name}' referenced in arg {pos + 1} of {where}")
    return name


def resolve_proxy(kind: str, text: str, ctx: CompileContext, pos: int, where: str) -> str:
    """A backend or frontend named in an argument (the current proxy when empty)."""
    name = text or ctx.proxy or ""
    if not text and ctx.defaults:
        return name  # a defaults section has both capabilities (PR_CAP_DEF|PR_CAP_LISTEN)
    known = ctx.backends if kind == "BE" else ctx.frontends
    if name not in known:
        what = "backend" if kind == "BE" else "frontend"
        raise ResolveError(f"unable to find {what} '{name}' referenced in arg {pos + 1} of {where}")
    return name


def resolve_server(text: str, ctx: CompileContext, pos: int, where: str) -> tuple[str, str]:
    backend, slash, server = text.rpartition("/")
    if not slash:
        if ctx.defaults:
            raise ResolveError(f"backend name must be set in arg {pos + 1} of {where}")
        backend, server = ctx.proxy or "", text
    if server not in ctx.servers.get(backend, frozenset()):
        raise ResolveError(
            f"unable to find server '{server}' in proxy '{backend}', referenced in arg"
            f" {pos + 1} of {where}"
        )
    ctx.pinned.add((backend, server))
    return backend, server


_PCRE_NAMED = re.compile(r"\(\?<(?=[A-Za-z_])")


def compile_regex(text: str, *, icase: bool, where: str = "") -> re.Pattern[bytes]:
    """A PCRE regex as Python's `re` (byte patterns): `(?<name>...)` groups are accepted
    as PCRE writes them."""
    source = _PCRE_NAMED.sub("(?P<", text)
    try:
        return re.compile(source.encode("latin-1", "replace"), re.IGNORECASE if icase else 0)
    except re.error as e:
        raise CompileError(f"regex '{text}' is invalid: {e}") from None


def compile_sample(
    fetch_name: str,
    args: tuple[str, ...],
    converters: tuple[tuple[str, tuple[str, ...]], ...],
    text: str,
    ctx: CompileContext,
) -> Expr:
    """A parsed expression (config/haproxy/model.Sample's parts) compiled for running."""
    impl = FETCHES.get(fetch_name)
    known = ctx.fetch_sigs.get(fetch_name)
    if impl is None and fetch_name.startswith("lua."):  # a Lua script's (the reader checked)
        from pylvs.proto.sample import lua

        impl, known = lua.fetch_impl(fetch_name), lua.SIG
    if impl is None or known is None:
        raise CompileError(f"pylvs does not implement the sample fetch '{fetch_name}'")
    where = f"sample fetch keyword '{fetch_name}'"
    cargs: Args = tuple(
        compile_arg(kind, args[i], ctx, i, where) if i < len(args) else ABSENT
        for i, kind in enumerate(known.args)
    )
    if impl.check is not None:
        cargs = impl.check(cargs, ctx)
    steps: list[Step] = []
    out = ty.BY_NAME[known.out]
    for name, cargs_text in converters:
        cimpl = CONVERTERS.get(name)
        cknown = ctx.conv_sigs.get(name)
        if cimpl is None and name.startswith("lua."):
            from pylvs.proto.sample import lua

            cimpl, cknown = lua.conv_impl(name), lua.SIG
        if cimpl is None or cknown is None:
            raise CompileError(f"pylvs does not implement the converter '{name}'")
        cwhere = f"converter '{name}'"
        conv_args: Args = tuple(
            compile_arg(kind, cargs_text[i], ctx, i, cwhere) if i < len(cargs_text) else ABSENT
            for i, kind in enumerate(cknown.args)
        )
        if cimpl.check is not None:
            try:
                conv_args = cimpl.check(conv_args, ctx)
            except CompileError as e:
                raise CompileError(f"invalid args in converter '{name}' : {e}") from None
        steps.append(Step(name, cimpl.fn, ty.BY_NAME[cknown.input], conv_args))
        out = ty.BY_NAME[cknown.out]
    return Expr(fetch_name, impl, cargs, tuple(steps), text=text, out_type=out)
