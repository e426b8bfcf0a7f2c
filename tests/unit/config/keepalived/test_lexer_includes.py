"""`include` and its variants (lib/parser.c `check_include`, `open_and_check_glob`,
`check_glob_file`, `include_check_set`; messages and levels as keepalived 2.2.7 prints them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.lexer import read_file, read_text
from pylvs.config.tree import Statement


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def read(path: str, config_id: str = "n") -> tuple[tuple[Statement, ...], Problems]:
    problems = Problems()
    return read_file(path, problems, config_id=config_id), problems


def where(sts: tuple[Statement, ...]) -> list[tuple[str, str, int, int]]:
    return [(s.name, s.loc.file, s.loc.line, s.loc.col) for s in sts]


def msgs(problems: Problems) -> list[str]:
    return [str(p) for p in problems]


def test_glob_include_relative_to_the_including_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "first\ninclude conf.d/*.conf\nlast\n")
    b = write(tmp_path / "conf.d" / "b.conf", "\n   in_b x\n")
    a = write(tmp_path / "conf.d" / "a.conf", "in_a\n")
    write(tmp_path / "conf.d" / "c.txt", "not_matched\n")
    sts, problems = read(main)
    assert msgs(problems) == []
    assert where(sts) == [
        ("first", main, 1, 1),
        ("in_a", a, 1, 1),
        ("in_b", b, 2, 4),
        ("last", main, 3, 1),
    ]
    assert sts[2].args[0].loc == Location(b, 2, 9)


def test_brace_alternatives_are_read_in_their_order(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "include {z,a}.inc\n")
    write(tmp_path / "a.inc", "from_a\n")
    write(tmp_path / "z.inc", "from_z\n")
    sts, problems = read(main)
    assert msgs(problems) == []
    assert [s.name for s in sts] == ["from_z", "from_a"]


def test_nested_includes_are_relative_to_their_own_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "include sub/one.conf\n")
    one = write(tmp_path / "sub" / "one.conf", "one\ninclude deeper/two.conf\n")
    two = write(tmp_path / "sub" / "deeper" / "two.conf", "two ${_PWD}\n")
    sts, problems = read(main)
    assert msgs(problems) == []
    assert where(sts) == [("one", one, 1, 1), ("two", two, 1, 1)]
    # ${_PWD} is the (absolute) directory of the file being read.
    assert sts[1].args[0].text == os.path.abspath(tmp_path / "sub" / "deeper")


def test_relative_top_file_gives_relative_include_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "main.conf", "include conf.d/x.conf\n")
    write(tmp_path / "conf.d" / "x.conf", "x\n")
    monkeypatch.chdir(tmp_path)
    sts, problems = read("main.conf")
    assert msgs(problems) == []
    assert where(sts) == [("x", os.path.join("conf.d", "x.conf"), 1, 1)]


def test_include_loop_is_reported_and_broken(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "m\ninclude other.conf\n")
    other = write(tmp_path / "other.conf", "o\n  include main.conf\n")
    sts, problems = read(main)
    assert [s.name for s in sts] == ["m", "o"]
    looped = os.path.join(str(tmp_path), "main.conf")
    assert msgs(problems) == [
        f"{other}:2:11: error: include loop: '{looped}' is already being read"
    ]


def test_self_include_through_a_glob(tmp_path: Path) -> None:
    main = write(tmp_path / "d" / "all.conf", "x\ninclude *.conf\n")
    sts, problems = read(main)
    assert [s.name for s in sts] == ["x"]
    assert len(problems.errors) == 1 and "include loop" in problems.errors[0].message


def test_block_can_span_files(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "vrrp_instance V {\ninclude body.conf\n}\n")
    body = write(tmp_path / "body.conf", "state MASTER\n")
    sts, problems = read(main)
    assert msgs(problems) == []
    (vi,) = sts
    assert vi.block is not None and where(vi.block) == [("state", body, 1, 1)]
    assert vi.end == Location(main, 3, 1)


@pytest.mark.parametrize(
    ("keyword", "severity"),
    [("include", "warning"), ("includer", "warning"), ("includem", "error"), ("includea", "error")],
)
def test_missing_plain_file(tmp_path: Path, keyword: str, severity: str) -> None:
    main = write(tmp_path / "main.conf", f"a\n{keyword}   nope.conf\nb\n")
    sts, problems = read(main)
    assert [s.name for s in sts] == ["a", "b"]
    col = len(keyword) + 4
    assert msgs(problems) == [f"{main}:2:{col}: {severity}: Config files missing 'nope.conf'."]


@pytest.mark.parametrize(
    ("keyword", "severity"),
    [("include", "warning"), ("includem", "warning"), ("includew", "error")],
)
def test_wildcard_matching_nothing(tmp_path: Path, keyword: str, severity: str) -> None:
    main = write(tmp_path / "main.conf", f"{keyword} *.none\n")
    _, problems = read(main)
    col = len(keyword) + 2
    assert msgs(problems) == [f"{main}:1:{col}: {severity}: No config files matched '*.none'."]


def test_wildcard_in_missing_directory_is_missing_files(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "include nodir/*.conf\n")
    _, problems = read(main)
    assert msgs(problems) == [f"{main}:1:9: warning: Config files missing 'nodir/*.conf'."]


def test_partly_matching_braces(tmp_path: Path) -> None:
    write(tmp_path / "a.inc", "from_a\n")
    main = write(tmp_path / "main.conf", "include {a,b}.inc\nincludeb {a,b}.inc\n")
    sts, problems = read(main)
    # Plain include reads what exists; includeb refuses the whole pattern.
    assert [s.name for s in sts] == ["from_a"]
    assert msgs(problems) == [
        f'{main}:1:9: warning: Some config files missing: "{{a,b}}.inc".',
        f'{main}:2:10: error: Some config files missing: "{{a,b}}.inc".',
    ]


def test_directory_and_executable_matches_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "dir.conf").mkdir()
    exe = write(tmp_path / "exe.conf", "from_exe\n")
    os.chmod(exe, 0o755)
    main = write(tmp_path / "main.conf", "include dir.conf\nincluder exe.conf\n")
    sts, problems = read(main)
    assert sts == ()
    d = tmp_path / "dir.conf"
    assert msgs(problems) == [
        f"{main}:1:9: warning: Configuration file '{d}' is a directory - skipping",
        f"{main}:2:10: error: Configuration file '{exe}' is not a regular non-executable file"
        " - skipping",
    ]


def test_include_check_in_global_defs_and_its_restoration(tmp_path: Path) -> None:
    main = write(
        tmp_path / "main.conf",
        "include one.conf\ninclude gone1.conf\ninclude_check\n"
        "global_defs {\n include_check -match\n}\ninclude gone2.conf\n",
    )
    one = write(tmp_path / "one.conf", "global_defs {\n include_check\n}\ninclude gone0.conf\n")
    sts, problems = read(main)
    # The setting made inside one.conf ends with that file; a top-level `include_check` is
    # not where keepalived knows the keyword, so it changes nothing; `-match` removes a check
    # that was not set.
    assert msgs(problems) == [
        f"{one}:4:9: error: Config files missing 'gone0.conf'.",
        f"{main}:2:9: warning: Config files missing 'gone1.conf'.",
        f"{main}:7:9: warning: Config files missing 'gone2.conf'.",
    ]
    assert [s.name for s in sts] == ["global_defs", "include_check", "global_defs"]


def test_include_check_options(tmp_path: Path) -> None:
    main = write(
        tmp_path / "main.conf",
        "global_defs {\n include_check match +bogus read +wildcard_match\n}\ninclude *.none\n",
    )
    _, problems = read(main)
    # Only the first option may set (not add/remove); later ones are "Duplicate".
    assert msgs(problems) == [
        f"{main}:2:22: error: Unknown include_check type 'bogus' - ignoring",
        f"{main}:2:29: error: Duplicate include_check 'read' specified - ignoring",
        f"{main}:4:9: error: No config files matched '*.none'.",
    ]


def test_include_after_conditional_and_parameter(tmp_path: Path) -> None:
    # keepalived 2.2.7 checks for include after @id and $PARAM processing.
    main = write(
        tmp_path / "main.conf", "$F=x.conf\ninclude $F\n@n include y.conf\n@^n include z.conf\n"
    )
    write(tmp_path / "x.conf", "from_x\n")
    write(tmp_path / "y.conf", "from_y\n")
    write(tmp_path / "z.conf", "from_z\n")
    sts, problems = read(main, config_id="n")
    assert msgs(problems) == []
    assert [s.name for s in sts] == ["from_x", "from_y"]


def test_read_text_includes_relative_to_base_dir(tmp_path: Path) -> None:
    inc = write(tmp_path / "inc.conf", "inc\n")
    problems = Problems()
    sts = read_text("include inc.conf\n", "<string>", problems, base_dir=str(tmp_path))
    assert msgs(problems) == []
    assert where(sts) == [("inc", inc, 1, 1)]


def test_missing_and_bad_top_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.conf")
    assert read(missing)[0] == ()
    assert msgs(read(missing)[1]) == [
        f"{missing}:0:0: error: Unable to find configuration file {missing}"
    ]
    assert msgs(read(str(tmp_path))[1]) == [
        f"{tmp_path}:0:0: error: Configuration file '{tmp_path}' is a directory"
    ]


def test_invalid_utf8_is_a_warning_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.conf"
    path.write_bytes(b"ok\nk a\xffb\n")
    sts, problems = read(str(path))
    assert msgs(problems) == [f"{path}:2:4: warning: invalid UTF-8; undecodable bytes replaced"]
    assert [s.name for s in sts] == ["ok", "k"]
    assert sts[1].args[0].text == "a\ufffdb"
