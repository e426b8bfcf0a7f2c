"""Sample expressions, ACLs and conditions of haproxy.cfg (HAProxy 2.6 configuration §7).

A sample expression is `fetch[(args)][,conv[(args)]]...`; the fetch and every converter must
be names HAProxy knows (`fetches.py`).  An ACL is `acl NAME criterion [-i|-f FILE|-m METHOD|
-n|-M|-u ID|--]... [values...]`, the criterion being a fetch or an ACL keyword (`path_beg`,
`hdr_sub(host)`).  A condition is `if|unless` then ACL names, each possibly `!`-negated or an
anonymous `{ criterion values }`, `or`/`||` separating alternatives (src/acl.c
`build_acl_cond`).  Named ACLs must be declared before they are used, or be one of HAProxy's
predefined ones; errors carry HAProxy's wording.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from pylvs.config.errors import Cite
from pylvs.config.haproxy import lua
from pylvs.config.haproxy.arglist import ARG_TYPE_NAMES as ARG_TYPE_NAMES
from pylvs.config.haproxy.arglist import SampleError as SampleError
from pylvs.config.haproxy.arglist import make_arg_list
from pylvs.config.haproxy.fetches import ACL_KEYWORDS, CONVERTERS, FETCHES, Converter, Fetch
from pylvs.config.haproxy.model import Acl, Condition, Sample, Term
from pylvs.config.keywords import Context, HostFacts
from pylvs.config.tree import Word
from pylvs.sched.haproxy.cnum import strl2llrc

# acl.c default_acl_list: the predefined ACLs and the fetch each one reads
PREDEFINED = {
    "TRUE": "always_true", "FALSE": "always_false", "LOCALHOST": "src", "HTTP": "req.proto_http",
    "HTTP_1.0": "req.ver", "HTTP_1.1": "req.ver", "HTTP_2.0": "req.ver",
    "METH_CONNECT": "method", "METH_DELETE": "method", "METH_GET": "method",
    "METH_HEAD": "method", "METH_OPTIONS": "method", "METH_POST": "method", "METH_PUT": "method",
    "METH_TRACE": "method", "HTTP_URL_ABS": "url", "HTTP_URL_SLASH": "url",
    "HTTP_URL_STAR": "url", "HTTP_CONTENT": "req.hdr_val", "RDP_COOKIE": "req.rdp_cookie_cnt",
    "REQ_CONTENT": "req.len", "WAIT_END": "wait_end",
}  # fmt: skip
PREDEFINED_ACLS = frozenset(PREDEFINED)


def condition_uses(cond: Condition, acls: Mapping[str, Acl]) -> frozenset[str]:
    """The SMP_USE_* flags of the fetches a condition reads (acl.c `cond->use`)."""
    uses: set[str] = set()
    for alternative in cond.alternatives:
        for term in alternative:
            if term.anonymous is not None:
                fetch = term.anonymous.sample.fetch
            elif term.acl is not None and term.acl in acls:
                fetch = acls[term.acl].sample.fetch
            else:
                fetch = PREDEFINED.get(term.acl or "", "")
            known = FETCHES.get(fetch)
            if known is not None:
                uses.update(known.use)
    return frozenset(uses)


# sample.c sample_casts: which types a value of each type converts to (None: impossible)
_CASTS = {
    "ANY": "ANY BOOL SINT ADDR IPV4 IPV6 STR BIN METH",
    "BOOL": "ANY BOOL SINT STR BIN",
    "SINT": "ANY BOOL SINT ADDR IPV4 IPV6 STR BIN",
    "ADDR": "ANY",
    "IPV4": "ANY SINT ADDR IPV4 IPV6 STR BIN",
    "IPV6": "ANY ADDR IPV4 IPV6 STR BIN",
    "STR": "ANY BOOL SINT ADDR IPV4 IPV6 STR BIN METH",
    "BIN": "ANY STR BIN METH",
    "METH": "ANY STR BIN METH",
}
CASTS = {k: frozenset(v.split()) for k, v in _CASTS.items()}
# pattern.c pat_match_types: the type a match method compares with
MATCH_TYPES = {"found": "SINT", "bool": "SINT", "int": "SINT", "ip": "ADDR", "bin": "BIN"}
MATCH_TYPES.update(dict.fromkeys(("len", "str", "beg", "sub", "dir", "dom", "end"), "STR"))
MATCH_TYPES.update(reg="STR", regm="STR")
_TYPE_MATCH = {"BOOL": "bool", "SINT": "int", "ADDR": "ip", "IPV4": "ip", "IPV6": "ip"}
_TYPE_MATCH["STR"] = "str"


def _idchar(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "._-+:")


def _word_end(text: str, i: int) -> int:
    while i < len(text) and _idchar(text[i]):
        i += 1
    return i


def parse_sample(text: str, *, acl: bool = False) -> Sample:
    """A sample expression (sample.c sample_parse_expr); with `acl`, the criterion of an ACL
    (acl.c parse_acl_expr: an ACL keyword such as `path_beg`, or a fetch).  The result carries
    its output type; an ACL keyword's match method is in `Sample.match`."""
    return _parse_sample(text, acl, partial=False)[0]


def parse_sample_prefix(text: str) -> tuple[Sample, int]:
    """The expression at the start of `text` and where it ends (sample_parse_expr with an
    `endptr`, as log-format strings read `%[expr]`): the first character that is not part of
    it ends it instead of being an error."""
    return _parse_sample(text, False, partial=True)


def _parse_sample(text: str, acl: bool, partial: bool) -> tuple[Sample, int]:
    end = _word_end(text, 0)
    if not end:
        raise SampleError("missing fetch method")
    name = text[:end]
    aclkw = ACL_KEYWORDS.get(name) if acl else None
    fetch_name = (aclkw.fetch or name) if aclkw is not None else name
    fetch = FETCHES.get(fetch_name) or lua_fetch(fetch_name)
    if fetch is None:
        if aclkw is not None:
            raise SampleError(f"ACL keyword '{name}' : unknown fetch method '{fetch_name}'")
        suffix = f" in ACL expression '{text}'" if acl else ""
        raise SampleError(f"unknown fetch method '{name}'{suffix}")
    prefix = f"ACL keyword '{name}' : " if aclkw is not None else ""
    dot = "." if aclkw is not None else ""  # acl.c's converter messages end in a full stop
    try:
        args, i = make_arg_list(text, end, fetch.mandatory, fetch.args)
    except SampleError as e:
        where = prefix if aclkw is not None else f"fetch method '{name}' : "
        raise SampleError(f"{where}{e}" + _acl_suffix(acl, aclkw, text)) from None
    out = fetch.out
    converters: list[tuple[str, tuple[str, ...]]] = []
    previous: str | None = None
    while i < len(text):
        if text[i] != "," and partial:
            break
        if text[i] != ",":
            what = f"converter '{previous}'" if previous else "fetch keyword"
            if aclkw is None:
                what += "" if previous else f" '{name}'"
            raise SampleError(
                f"{prefix}missing comma after {what}{dot}" + _acl_suffix(acl, aclkw, text)
            )
        while i < len(text) and text[i] == ",":
            i += 1
        if i >= len(text):
            break
        cend = _word_end(text, i)
        cname = text[i:cend]
        conv = CONVERTERS.get(cname) or lua_converter(cname)
        if conv is None:
            raise SampleError(
                f"{prefix}unknown converter '{cname}'{dot}" + _acl_suffix(acl, aclkw, text)
            )
        if conv.input not in CASTS[out]:
            raise SampleError(
                f"{prefix}converter '{cname}' cannot be applied{dot}"
                + _acl_suffix(acl, aclkw, text)
            )
        try:
            cargs, i = make_arg_list(text, cend, conv.mandatory, conv.args)
        except SampleError as e:
            raise SampleError(
                f"{prefix}invalid arg {e.pos + 1} in converter '{cname}' : {e}{dot}"
                + _acl_suffix(acl, aclkw, text)
            ) from None
        if cargs and not conv.args:
            raise SampleError(f"converter '{cname}' does not support any args")
        converters.append((cname, cargs))
        out, previous = conv.out, cname
    match = aclkw.match if aclkw is not None and not converters else None
    return Sample(fetch_name, args, tuple(converters), text[:i], out, match), i


# A Lua script's fetch or converter (hlua.c hlua_register_fetches / _converters).
LUA_FETCH = Fetch(0, lua.LUA_ARGS, "STR", lua.HTTP_ANY)
LUA_CONVERTER = Converter(0, lua.LUA_ARGS, "STR", "STR")


def lua_fetch(name: str) -> Fetch | None:
    """`lua.NAME` when a loaded script registered it as a fetch (config/haproxy/lua.py)."""
    return LUA_FETCH if name.startswith("lua.") and lua.known_fetch(name) else None


def lua_converter(name: str) -> Converter | None:
    return LUA_CONVERTER if name.startswith("lua.") and lua.known_converter(name) else None


def _acl_suffix(acl: bool, aclkw: object, text: str) -> str:
    return f" in ACL expression '{text}'" if acl and aclkw is None else ""


def read_sample(word: Word, ctx: Context, what: str) -> Sample | None:
    try:
        return parse_sample(word.text)
    except SampleError as e:
        ctx.error(word.loc, f"{what}: {e}.")
        return None


_OPERATORS = frozenset({"eq", "gt", "ge", "lt", "le"})
_DOTTED_VERSION = frozenset({"req_ssl_ver", "req.ssl_ver"})  # pat_parse_dotted_ver


def parse_acl(  # noqa: C901 - acl.c parse_acl's flag and match-method walk
    words: list[Word],
    name: str | None,
    warnings: list[str] | None = None,
    host: HostFacts | None = None,
) -> Acl:
    """`criterion [flags] [patterns]` (the words after `acl NAME`, or inside `{ }`), as
    acl.c parse_acl_expr reads them; HAProxy's warnings are appended to `warnings`, files and
    names are checked through `host` when given."""
    if not words:
        raise SampleError("missing fetch method")
    sample = parse_sample(words[0].text, acl=True)
    keyword = words[0].text[: _word_end(words[0].text, 0)]
    kw = keyword if sample.match is not None else sample.fetch
    method = sample.match or _TYPE_MATCH.get(sample.type)
    if method is not None and sample.type != "BOOL" and len(words) == 1 and warnings is not None:
        warnings.append(
            f"parsing acl keyword '{words[0].text}' :\n"
            "  no pattern to match against were provided, so this ACL will never match.\n"
            "  If this is what you intended, please add '--' to get rid of this warning.\n"
            "  If you intended to match only for existence, please use '-m found'.\n"
            "  If you wanted to force an int to match as a bool, please use '-m bool'.\n"
        )
    flags: list[str] = []
    files: list[str] = []
    forced = None
    i = 1
    while i < len(words) and words[i].text.startswith("-"):
        flag = words[i].text
        arg = words[i + 1].text if i + 1 < len(words) else ""
        if flag == "--":
            i += 1
            break
        if flag in ("-i", "-n", "-M"):
            flags.append(flag)
        elif flag == "-u":
            if strl2llrc(arg) is None:
                raise SampleError("the argument of -u must be an integer")
            flags += [flag, arg]
            i += 1
        elif flag == "-f":
            if method is None:
                raise SampleError(_NO_METHOD.format(kw))
            _pattern_file(arg, host)
            files.append(arg)
            i += 1
        elif flag == "-m":
            if files:
                raise SampleError(
                    "'-m' must only be specified before patterns and files in parsing ACL"
                    " expression"
                )
            if arg not in MATCH_TYPES:
                raise SampleError(f"unknown matching method '{arg}' when parsing ACL expression")
            if arg != "found" and MATCH_TYPES[arg] not in CASTS[sample.type]:
                raise SampleError(
                    f"matching method '{arg}' cannot be used with fetch keyword '{kw}'"
                )
            method = forced = arg
            i += 1
        else:
            raise SampleError(
                f"'{flag}' is not a valid ACL option. Please use '--' before any pattern"
                " beginning with a '-'"
            )
        i += 1
    if method is None:
        raise SampleError(_NO_METHOD.format(kw))
    patterns = tuple(w.text for w in words[i:])
    if sample.match is None or keyword not in _DOTTED_VERSION or forced is not None:
        _check_patterns(patterns, method, "-n" in flags, host)
    return Acl(words[0].loc, name, sample, tuple(flags), forced or method, patterns, tuple(files))


_NO_METHOD = (
    "matching method must be specified first (using '-m') when using a sample fetch of this"
    " type ('{}')"
)


def _pattern_file(path: str, host: HostFacts | None) -> None:
    if host is not None and host.read_file is not None and host.read_file(path) is None:
        raise SampleError(f"failed to open pattern file <{path}>")


def _check_patterns(
    patterns: tuple[str, ...], method: str, no_dns: bool, host: HostFacts | None
) -> None:
    """The patterns as pattern.c parses them for `method` (integers, addresses)."""
    operator = "eq"
    for text in patterns:
        if method in ("int", "len"):
            if text in _OPERATORS:
                operator = text
                continue
            if operator != "eq" and not (":" in text or "-" in text):
                if strl2llrc(text) is None:
                    raise SampleError(f"'{text}' is neither a number nor a supported operator")
                continue
            _check_int(text)
        elif method == "ip":
            _check_ip(text, no_dns, host)


def _check_int(text: str) -> None:
    """pat_parse_int: `N`, `N:M`, `N-M`, `:M`, `N:`."""
    cut = min((k for k in (text.find(":"), text.find("-")) if k >= 0), default=-1)
    if cut < 0:
        if not text or strl2llrc(text) is None:
            if not text:
                raise SampleError(f"'{text}' is not a valid number range")
            raise SampleError(f"'{text}' is not a number")
        return
    low, high = text[:cut], text[cut + 1 :]
    lo = strl2llrc(low) if low else 0
    hi = strl2llrc(high) if high else lo
    if (not low and not high) or lo is None or hi is None or (low and high and lo > hi):
        raise SampleError(f"'{text}' is not a valid number range")


def _check_ip(text: str, no_dns: bool, host: HostFacts | None) -> None:
    """pat_parse_ip: an IPv4 address or network (mask as length or dotted), an IPv6 one, or a
    host name resolved at start-up unless `-n`."""
    addr, _, mask = text.partition("/")
    try:
        if mask and "." in mask:
            ipaddress.IPv4Network(f"{addr}/{mask}", strict=False)
        else:
            ipaddress.ip_network(text, strict=False)
        return
    except ValueError:
        pass
    if not mask and not no_dns:
        if host is None or host.resolves is None:
            return  # a name: not checked without host facts
        if host.resolves(addr):
            return
    raise SampleError(f"'{text}' is not a valid IPv4 or IPv6 address")


def parse_condition(
    words: list[Word], ctx: Context, known: set[str], template: str
) -> Condition | None:
    """`if|unless` terms... (acl.c build_acl_cond); `known`: the ACL names declared so far in
    the section.  `template` words an error as the rule's parser does ("{}": the error).  No
    term at all is a condition with no alternative (`if` never holds, `unless` always)."""
    first = words[0]
    unless = first.text == "unless"
    alternatives: list[tuple[Term, ...]] = []
    current: list[Term] = []
    negate = False
    i = 1
    while i < len(words):
        w = words[i]
        text = w.text.lstrip("!")
        negate ^= (len(w.text) - len(text)) % 2 == 1
        if not text:
            i += 1
            continue
        if text.lower() == "or" or text == "||":
            if current:
                alternatives.append(tuple(current))
            current, negate = [], False
            i += 1
            continue
        if text == "{":
            close = next((k for k in range(i + 1, len(words)) if words[k].text == "}"), None)
            if close is None:
                ctx.error(w.loc, template.format("missing closing '}' in condition"))
                return None
            warnings: list[str] = []
            try:
                acl = parse_acl(words[i + 1 : close], None, warnings, ctx.host)
            except SampleError as e:
                ctx.error(w.loc, template.format(e))
                return None
            for warning in warnings:  # acl.c's, placed nowhere
                ctx.warning(w.loc, warning, cite=Cite.BARE)
            current.append(Term(negate, anonymous=acl))
            i = close + 1
        elif text not in known and text not in PREDEFINED_ACLS:
            ctx.error(w.loc, template.format(f"no such ACL : '{text}'"))
            return None
        else:
            current.append(Term(negate, acl=text))
            i += 1
        negate = False
    if current:
        alternatives.append(tuple(current))
    return Condition(unless, tuple(alternatives), first.loc)


def split_condition(words: tuple[Word, ...]) -> tuple[list[Word], list[Word]]:
    """(words before `if`/`unless`, the condition from `if`/`unless` on)."""
    for i, w in enumerate(words):
        if w.text in ("if", "unless"):
            return list(words[:i]), list(words[i:])
    return list(words), []
