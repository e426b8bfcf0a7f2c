"""A faithful port of the parts of popt's `poptGetNextOpt` ipvsadm relies on.

ipvsadm 1.31 parses its command line with popt (popt.c, rpm-software-management/popt), whose
rules differ from getopt's in ways scripts notice:
* words not starting with `-` (and a lone `-`) are collected as leftover arguments wherever
  they appear; after `--` every word is a leftover;
* long options match exactly (no abbreviations); `--name=value` gives the argument inline;
* a single-dash word is a cluster of short options (`-Lnc`); an option that takes an
  argument eats the rest of the cluster (`-p60`, `-p=60`) or else the next word, whatever it
  starts with (`-s -t` sets the scheduler to "-t"); an option without an argument followed
  by `=` in its cluster is an error, as `--name=` is for a long one (`-n=1`, `-Lc=`: popt
  1.19, which Debian 12 ships; older popt dropped the `=` and read on);
* an *optional* argument (`-p [timeout]`) takes the next word only when it does not start
  with `-`;
* errors: missing argument (-10), unknown option (-11), option does not take an argument
  (-12); `poptBadOption` names the last word consumed (`argv[next-1]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

POPT_ERROR_NOARG = -10
POPT_ERROR_BADOPT = -11
POPT_ERROR_UNWANTEDARG = -12

POPT_STRERROR = {
    POPT_ERROR_NOARG: "missing argument",
    POPT_ERROR_BADOPT: "unknown option",
    POPT_ERROR_UNWANTEDARG: "option does not take an argument",
}


@dataclass(frozen=True, slots=True)
class Opt:
    """One row of a popt options table: long name, short letter, argument kind, tag."""

    long: str | None
    short: str | None
    tag: str
    takes_arg: bool = False
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Got:
    """An option was recognised: its tag and its argument (None when absent)."""

    tag: str
    arg: str | None


@dataclass(slots=True)
class Popt:
    """The option stack of one argv (argv[0] is the program name and is skipped)."""

    argv: list[str]
    table: tuple[Opt, ...]
    next: int = 1
    next_char: str | None = None
    rest_leftover: bool = False
    leftovers: list[str] = field(default_factory=list)
    _left_pos: int = 0

    def _long(self, name: str) -> Opt | None:
        for o in self.table:
            if o.long is not None and o.long == name:
                return o
        return None

    def _short(self, ch: str) -> Opt | None:
        for o in self.table:
            if o.short is not None and o.short == ch:
                return o
        return None

    def get_next_opt(self) -> Got | int:
        """The next option, -1 at the end, or a POPT_ERROR_* code."""
        while True:
            if self.next_char is None and self.next >= len(self.argv):
                return -1
            opt: Opt | None = None
            long_arg: str | None = None
            if self.next_char is None:
                orig = self.argv[self.next]
                self.next += 1
                if self.rest_leftover or not orig.startswith("-") or orig == "-":
                    self.leftovers.append(orig)
                    continue
                if orig == "--":
                    self.rest_leftover = True
                    continue
                body = orig[1:]
                one_dash = not body.startswith("-")
                if not one_dash:
                    body = body[1:]
                    name, eq, value = body.partition("=")
                    long_arg = value if eq else None
                    opt = self._long(name)
                    if opt is None:
                        return POPT_ERROR_BADOPT
                else:
                    # No ipvsadm option is POPT_ARGFLAG_ONEDASH: "-list" is a cluster.
                    self.next_char = orig[1:]
            if opt is None:
                chars = self.next_char or ""
                self.next_char = None
                found = self._short(chars[0]) if chars else None
                if found is None:
                    return POPT_ERROR_BADOPT
                opt = found
                rest = chars[1:]
                if rest:
                    # popt 1.19 keeps the "=" (`-n=1`: option does not take an argument);
                    # only an option that takes an argument drops it (`-p=60`, in _finish).
                    self.next_char = rest
            return self._finish(opt, long_arg)

    def _finish(self, opt: Opt, long_arg: str | None) -> Got | int:
        if not opt.takes_arg:
            if long_arg is not None or (self.next_char or "").startswith("="):
                return POPT_ERROR_UNWANTEDARG
            return Got(opt.tag, None)
        if long_arg is not None:
            return Got(opt.tag, long_arg)
        if self.next_char is not None:
            arg = self.next_char[1:] if self.next_char.startswith("=") else self.next_char
            self.next_char = None
            return Got(opt.tag, arg)
        if self.next >= len(self.argv):
            if not opt.optional:
                return POPT_ERROR_NOARG
            return Got(opt.tag, None)
        if opt.optional and self.argv[self.next].startswith("-"):
            return Got(opt.tag, None)
        arg = self.argv[self.next]
        self.next += 1
        return Got(opt.tag, arg)

    def bad_option(self) -> str:
        """poptBadOption(con, POPT_BADOPTION_NOALIAS): the last argv word consumed."""
        return self.argv[self.next - 1]

    def get_arg(self) -> str | None:
        """poptGetArg: the next leftover argument."""
        if self._left_pos < len(self.leftovers):
            self._left_pos += 1
            return self.leftovers[self._left_pos - 1]
        return None
