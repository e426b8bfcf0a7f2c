"""The exit status of `pylvs check` on a keepalived.conf: what `keepalived -t` would exit with.

keepalived 2.2.7 (core/main.c `config_test_exit`, lib/parser.c `report_config_error`) records
the highest `config_err_t` of everything it reported and exits 0 when nothing was reported, 4
when the configuration cannot be used at all (no such file, a directory), 6 for a script
security violation, and 5 for anything else: its errors and its own warnings and deprecation
notices alike.  Problems keepalived reports too (kind CONFIG, FATAL, SECURITY) and every pylvs
error count; pylvs's own warnings (NOTE: a host fact or a likely mistake keepalived says nothing
about; UNSUPPORTED: a keyword pylvs does not act on) count only with `strict`; deprecated
spellings keepalived accepts silently (DEPRECATED) never do.

keepalived 2.2.7 itself exits 0 when the main file is missing ("Config files missing" is only
logged); pylvs keeps the documented meaning, 4.
"""

from __future__ import annotations

from collections.abc import Iterable

from pylvs.config.errors import Kind, Problem, Severity

OK = 0  # KEEPALIVED_CHK_EXIT_OK
FATAL = 4  # KEEPALIVED_CHK_EXIT_CONFIG
CONFIG = 5  # KEEPALIVED_CHK_EXIT_CONFIG_TEST
SECURITY = 6  # KEEPALIVED_CHK_EXIT_CONFIG_TEST_SECURITY

_REPORTED = frozenset({Kind.CONFIG, Kind.FATAL, Kind.SECURITY})
_STRICT = frozenset({Kind.NOTE, Kind.UNSUPPORTED, Kind.EXTENSION})


def counts(p: Problem, *, strict: bool) -> bool:
    """Whether `p` makes the check fail."""
    if p.severity is Severity.ERROR or p.kind in _REPORTED:
        return True
    return strict and p.kind in _STRICT


def exit_status(problems: Iterable[Problem], *, strict: bool = False) -> int:
    # What counts(), skipping deprecation warnings first (they never count): a big old-style
    # file has a hundred thousand of them, and looking an enum member up in a set is a
    # Python call.
    kinds: set[Kind] = set()
    for p in problems:
        skip = p.kind is Kind.DEPRECATED and p.severity is not Severity.ERROR
        if not skip and counts(p, strict=strict):
            kinds.add(p.kind)
    if not kinds:
        return OK
    if Kind.SECURITY in kinds:
        return SECURITY
    if kinds == {Kind.FATAL}:
        return FATAL
    return CONFIG
