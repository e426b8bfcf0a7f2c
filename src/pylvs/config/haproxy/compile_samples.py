"""Parsed samples, ACLs and conditions of a haproxy.cfg compiled into what the rules engine
runs (proto/sample's `Expr`, proto/rules' `Cond`), with the checks HAProxy makes once the
whole file is read (src/sample.c smp_resolve_args, the keywords' `val_args`, src/acl.c).

The reader (samples.py) already refused unknown names and malformed literals; here
arguments are resolved (tables, backends, variables, regexes, map and pattern files) and
the engine's objects built.  Errors are `CompileError` with HAProxy's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pylvs.config.errors import Location
from pylvs.config.haproxy.fetches import CONVERTERS, FETCHES
from pylvs.config.haproxy.model import Acl, Condition, Sample
from pylvs.config.haproxy.samples import parse_acl
from pylvs.config.tree import Word
from pylvs.proto.rules.acl import PREDEFINED, VOLATILE, AclExpr, CompiledAcl, Cond
from pylvs.proto.sample import expr as sample_expr
from pylvs.proto.sample.expr import CompileContext, CompileError, Expr
from pylvs.proto.sample.pattern import Matcher, PatternError
from pylvs.proto.sample.pattern_ref import PatternFileError

_OPERATORS = {"eq", "gt", "ge", "lt", "le"}
_BUILTIN = Location("<acl.c default_acl_list>", 0, 0)


def context(**fields: object) -> CompileContext:
    """A CompileContext that knows HAProxy's keyword signatures."""
    ctx = CompileContext(**fields)  # type: ignore[arg-type]
    ctx.fetch_sigs = FETCHES
    ctx.conv_sigs = CONVERTERS
    return ctx


def compile_expr(sample: Sample, ctx: CompileContext) -> Expr:
    """A parsed sample expression, compiled (an ACL keyword compiles to its fetch)."""
    return sample_expr.compile_sample(
        sample.fetch, sample.args, sample.converters, sample.text, ctx
    )


def _ranges(acl: Acl) -> tuple[list[tuple[int | None, int | None]], list[bytes]]:
    """acl.c parse_acl_expr: `eq|gt|ge|lt|le N` turned into ranges for int/len matching;
    other patterns are left for the matcher to parse."""
    if acl.method not in ("int", "len"):
        return [], [p.encode("latin-1", "replace") for p in acl.patterns]
    parsed: list[tuple[int | None, int | None]] = []
    raw: list[bytes] = []
    op = "eq"
    for text in acl.patterns:
        if text in _OPERATORS:
            op = text
            continue
        if op == "eq" or ":" in text or "-" in text:
            raw.append(text.encode("latin-1"))
            continue
        n = int(text)
        ranges = {"gt": (n + 1, None), "ge": (n, None), "lt": (None, n - 1), "le": (None, n)}
        parsed.append(ranges[op])
    return parsed, raw


def compile_acl(acl: Acl, ctx: CompileContext) -> AclExpr:
    """One `acl` line (or anonymous ACL): its expression, inline patterns and -f files."""
    expr = compile_expr(acl.sample, ctx)
    parsed, raw = _ranges(acl)
    where = f"file '{acl.loc.file}' line {acl.loc.line}"
    try:
        # acl.c parse_acl_expr: the -f files' references first, then the inline patterns'
        # ("acl '<keyword>' file ... line ..."), as `show acl` lists them
        files = [
            ctx.patterns.file(
                path,
                is_map="-M" in acl.flags,
                display=f"pattern loaded from file '{path}' used by acl at {where}",
            )
            for path in acl.files
        ]
        keyword = (acl.sample.text or acl.sample.fetch).split("(", 1)[0].split(",", 1)[0]
        refs = [ctx.patterns.inline(raw, f"acl '{keyword}' {where}"), *files]
        matcher = Matcher(acl.method, refs, icase="-i" in acl.flags, extra=parsed)
    except (PatternFileError, PatternError) as e:
        raise CompileError(str(e)) from None
    return AclExpr(expr, matcher, acl.sample.fetch in VOLATILE)


def compile_acls(acls: Sequence[Acl], ctx: CompileContext) -> dict[str, CompiledAcl]:
    """A proxy's named ACLs: every line of a name adds an expression to that ACL."""
    grouped: dict[str, list[AclExpr]] = {}
    for acl in acls:
        if acl.name is not None:
            grouped.setdefault(acl.name, []).append(compile_acl(acl, ctx))
    return {name: CompiledAcl(name, tuple(exprs)) for name, exprs in grouped.items()}


def predefined(name: str, ctx: CompileContext) -> CompiledAcl:
    """One of acl.c's default_acl_list, compiled from its definition."""
    words = [Word(w, _BUILTIN) for w in PREDEFINED[name]]
    return CompiledAcl(name, (compile_acl(parse_acl(words, name), ctx),))


def compile_condition(
    cond: Condition, acls: Mapping[str, CompiledAcl], ctx: CompileContext
) -> Cond:
    """A parsed condition with its ACLs resolved (named, anonymous or predefined)."""
    suites = []
    for alternative in cond.alternatives:
        suite = []
        for term in alternative:
            if term.anonymous is not None:
                acl = CompiledAcl("", (compile_acl(term.anonymous, ctx),))
            elif term.acl is not None and term.acl in acls:
                acl = acls[term.acl]
            elif term.acl is not None and term.acl in PREDEFINED:
                acl = predefined(term.acl, ctx)
            else:
                raise CompileError(f"no such ACL : '{term.acl}'")
            suite.append((term.negate, acl))
        suites.append(tuple(suite))
    return Cond(cond.unless, tuple(suites))
