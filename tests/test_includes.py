"""Textual includes (meteor/includes.py): the included text replaces ``include 'file'`` wherever it stands, as
the original's lexer did, and every construct and error still names the file and line it comes from."""

from __future__ import annotations

import pytest

from meteor.errors import MeteorBindError, MeteorSyntaxError
from meteor.frontend import parse_script
from meteor.includes import expand


def test_an_included_file_may_lack_its_final_semicolon(tmp_path):
    (tmp_path / "worker.meteor").write_text("$input = read json from 'input.json'")  # no ';' (the original's test)
    main = tmp_path / "master.meteor"
    stmts = parse_script("$input2 = read json from 'input2.json';\ninclude 'worker.meteor';\n"
                         "$result = join $input, $input2;\n", str(main))
    assert [s.targets for s in stmts] == [("input2",), ("input",), ("result",)]
    assert stmts[1].span.path == str(tmp_path / "worker.meteor") and stmts[1].span.line == 1
    assert (stmts[2].span.path, stmts[2].span.line) == (str(main), 3)


def test_a_file_ending_in_a_semicolon_leaves_an_empty_statement(tmp_path):
    (tmp_path / "w.meteor").write_text("t = 1;\n// the end")
    stmts = parse_script("include 'w.meteor'; u = t;", str(tmp_path / "m.meteor"))
    assert [type(s).__name__ for s in stmts] == ["ConstDef", "ConstDef"]


def test_an_include_inside_an_expression_and_nested_relative_paths(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "cond.meteor").write_text("$e.a > include 'limit.meteor'")
    (tmp_path / "lib" / "limit.meteor").write_text("10")
    stmts = parse_script("$e = [{a: 1}];\n$f = filter $e where include 'lib/cond.meteor';", str(tmp_path / "m.meteor"))
    where = stmts[1].value.props[0].value
    assert where.right.value == 10 and where.right.span.path == str(tmp_path / "lib" / "limit.meteor")


def test_include_words_inside_strings_comments_and_names_stay_text():
    text = "x = 'include \"a\"'; // include 'b'\n$include = [1]; /* include 'c' */ included = 2;"
    expanded, source_map = expand(text, None)
    assert expanded == text and not source_map.has_includes


def test_errors_name_the_included_file_line_and_column(tmp_path):
    (tmp_path / "bad.meteor").write_text("x = 1;\ny = (2;\n")
    with pytest.raises(MeteorSyntaxError) as info:
        parse_script("a = 0;\ninclude 'bad.meteor';", str(tmp_path / "m.meteor"))
    err = info.value
    assert (err.path, err.line, err.column) == (str(tmp_path / "bad.meteor"), 2, 7)
    assert err.source_line == "y = (2;" and "bad.meteor:2:7" in str(err)


def test_missing_and_cyclic_includes_are_reported_at_the_include(tmp_path):
    main = tmp_path / "m.meteor"
    with pytest.raises(MeteorBindError) as info:
        parse_script("a = 0;\n  include 'nope.meteor';", str(main))
    assert (info.value.line, info.value.column) == (2, 3) and "cannot read included file" in str(info.value)
    (tmp_path / "a.meteor").write_text("include 'b.meteor'")
    (tmp_path / "b.meteor").write_text("x = 1; include 'a.meteor'")
    with pytest.raises(MeteorBindError) as info:
        parse_script("include 'a.meteor';", str(main))
    assert info.value.path == str(tmp_path / "b.meteor") and "'a.meteor' includes itself" in str(info.value)
