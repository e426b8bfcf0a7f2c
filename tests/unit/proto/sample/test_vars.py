"""set-var conditions as reg-tests/sample_fetches/cond_set_var.vtc shows them on HAProxy 2.6."""

from __future__ import annotations

import pytest

from pylvs.proto.sample.types import BIN, BOOL, SINT, STR, Smp
from pylvs.proto.sample.vars import VarError, Vars, parse_conditions, parse_var_name


def s(text: str) -> Smp:
    return Smp(STR, text.encode())


def i(n: int) -> Smp:
    return Smp(SINT, n)


def test_ifexists_and_ifnotexists() -> None:
    v = Vars()
    assert not v.set("a", s("x"), frozenset({"ifexists"}))
    assert v.get("a") is None
    assert v.set("a", s("x"), frozenset({"ifnotexists"}))
    assert not v.set("a", s("y"), frozenset({"ifnotexists"}))
    assert v.get("a") == s("x")


def test_a_refused_new_variable_still_exists() -> None:
    v = Vars()
    assert not v.set("a", s("x"), frozenset({"ifset"}))  # created, left unset
    assert v.set("a", s("y"), frozenset({"ifexists"}))


def test_ifempty_ifnotempty() -> None:
    v = Vars()
    v.set("str", s("ifempty_res"))
    v.set("int", i(5))
    assert not v.set("str", Smp(BIN, b"toto"), frozenset({"ifempty"}))
    assert not v.set("int", s("toto"), frozenset({"ifempty"}))
    assert v.set("str", s(""), frozenset({"ifempty"}))
    assert not v.set("int", i(7), frozenset({"ifempty"}))  # scalars are never empty
    assert v.get("int") == s("toto") or v.get("int") == i(5)
    assert not v.set("str", s(""), frozenset({"ifnotempty"}))
    assert v.set("str", s("x"), frozenset({"ifnotempty"}))


def test_ifset_ifnotset_after_unset() -> None:
    v = Vars()
    v.set("a", s("x"))
    assert v.set("a", i(123), frozenset({"ifset"}))
    v.unset("a")
    assert not v.set("a", s("x"), frozenset({"ifset"}))
    assert v.set("a", s("x"), frozenset({"ifnotset"}))
    assert not v.set("a", s("y"), frozenset({"ifnotset"}))


def test_ifgt_iflt_only_between_integers() -> None:
    v = Vars()
    v.set("s", s("ifgt_res"))
    v.set("n1", i(5))
    v.set("n2", i(5))
    assert v.set("s", i(55), frozenset({"ifgt"}))  # the variable was a string: ignored
    assert not v.set("n1", i(55), frozenset({"ifgt"}))  # 5 > 55 is false
    assert v.set("n2", i(2), frozenset({"ifgt"}))
    assert v.get("n2") == i(2)
    assert v.set("n1", i(55), frozenset({"iflt"}))
    assert v.set("n2", s("text"), frozenset({"ifgt"}))  # the sample is a string: ignored


def test_combined_conditions() -> None:
    v = Vars()
    v.set("r", i(5))
    assert v.set("r", i(55), frozenset({"ifexists", "ifset", "iflt"}))


def test_permanent_proc_variables_survive_unset() -> None:
    v = Vars()
    v.create_permanent("p")
    assert v.set("p", s("x"), frozenset({"ifexists"}))
    v.unset("p")
    assert v.get("p") is None
    assert not v.set("p", s("y"), frozenset({"ifnotexists"}))
    v.set("t", Smp(BOOL, 1))
    v.unset("t")
    assert v.set("t", s("z"), frozenset({"ifnotexists"}))


def test_names_and_conditions_are_checked() -> None:
    assert str(parse_var_name("txn.a.b_c")) == "txn.a.b_c"
    with pytest.raises(VarError, match="must be start by its scope"):
        parse_var_name("foo.bar")
    with pytest.raises(VarError, match="invalid syntax at char '-x'"):
        parse_var_name("txn.a-x")
    with pytest.raises(VarError, match='unknown condition "ifbig"'):
        parse_conditions(["ifset", "ifbig"])
