"""Error tests: syntax and bind errors carry file:line:column, expected words, suggestions and a caret."""

from __future__ import annotations

import pytest

from meteor.errors import MeteorBindError, MeteorSyntaxError
from meteor.frontend import compile_script
from sopremo.errors import MeteorError

READ = "$in = read from 'in.json';\n"


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def fail(text: str, kind: type = MeteorError, path: str = "q.meteor") -> MeteorError:
    with pytest.raises(kind) as info:
        compile_script(text, path)
    return info.value


def test_misspelled_operator_suggests_the_verb():
    err = fail(READ + "$r = fitler $in where $in.a > 1;", MeteorSyntaxError)
    assert str(err).startswith("q.meteor:2:6: unknown operator 'fitler'; did you mean 'filter'?")
    assert err.suggestions == ["filter"] and "\n    $r = fitler $in" in str(err)
    assert str(err).splitlines()[-1] == " " * 9 + "^"  # under the operator's name


def test_unknown_operator_lists_operators_in_scope():
    err = fail(READ + "$r = xqwzts $in;", MeteorSyntaxError)
    assert "2:6: unknown operator 'xqwzts'" in str(err) and "filter" in str(err) and "union all" in str(err)


def test_misspelled_property_lists_expected_words_and_suggests():
    err = fail(READ + "$r = filter $in wher $in.a > 1;", MeteorSyntaxError)
    assert "2:17: unexpected 'wher'; expected" in str(err)
    assert {"'where'", "';'", "','", "'parallel'"} <= set(err.expected)
    assert "did you mean 'where'?" in str(err) and err.suggestions == ["where"]


def test_misspelled_multi_word_verb():
    err = fail(READ + "$r = union al $in;", MeteorSyntaxError)
    assert "'all'" in err.expected and "did you mean 'all'?" in str(err)


def test_unknown_variable_suggests_variables_in_scope():
    err = fail("$emps = read from 'e.json';\n$r = filter $emps where $emsp.a > 1;", MeteorBindError)
    assert "2:25: unknown variable $emsp; did you mean '$emps'?" in str(err)
    err = fail("$emps = read from 'e.json';\nwrite $emsp to 'x.json';", MeteorBindError)
    assert "did you mean '$emps'?" in str(err)


def test_data_set_that_is_not_an_input():
    err = fail("$a = read from 'a.json'; $b = read from 'b.json';\n$r = filter $a where $b.x;", MeteorBindError)
    assert "2:22: the data set $b is not an input of this operator; use one of $a" in str(err)


def test_chained_comparison_is_rejected():
    err = fail(READ + "$r = filter $in where 1 < $in.a < 3;", MeteorSyntaxError)
    assert "2:33: unexpected '<'" in str(err) and "comparisons do not chain" in str(err)


def test_call_as_object_entry_and_missing_comma():
    err = fail(READ + "$r = transform $in into { all($in) };", MeteorSyntaxError)
    assert "2:30: unexpected '('; expected ':'" in str(err) and "object entry" in str(err)
    err = fail(READ + "$r = transform $in into { a: 1 b: 2 };", MeteorSyntaxError)
    assert "2:32: unexpected 'b'" in str(err) and "','" in err.expected and "missing ','" in str(err)


def test_missing_semicolon_and_end_of_script():
    err = fail(READ + "$r = filter $in where $in.a\nwrite $r to 'x.json';", MeteorSyntaxError)
    assert "3:1: unexpected 'write'" in str(err) and "missing ';'" in str(err)
    err = fail("$in = read from 'in.json'", MeteorSyntaxError)
    assert "unexpected end of script" in str(err) and "';'" in err.expected


def test_unknown_function_constant_type_format_package():
    assert "unknown function 'cuont'; did you mean 'count'" in str(fail(READ + "$r = transform $in into cuont($in);"))
    assert "unknown constant 'treshold'; did you mean 'threshold'" in \
        str(fail("threshold = 3;\n$d = [treshold];", MeteorBindError))
    assert "unknown type 'integr'; did you mean" in str(fail(READ + "$r = transform $in into $in as integr;"))
    assert "'(integr)' is no known type" in str(fail(READ + "$r = transform $in into (integr) $in.a;"))
    err = fail("$in = read jsn from 'in.json';", MeteorBindError)
    assert "1:7: unknown format 'jsn'; did you mean 'json'" in str(err)
    assert "unknown package 'nosuchpkg'" in str(fail("using nosuchpkg;", MeteorBindError))


def test_function_arity_and_property_values():
    assert "function 'count' takes 1 argument(s), got 2" in str(fail(READ + "$r = transform $in into count(1, 2);"))
    err = fail(READ + "$r = sort $in on $in.a order 'UP';", MeteorBindError)
    assert "2:24:" in str(err) and "'ASCENDING'" in str(err)
    err = fail(READ + "$r = filter $in where true where false;", MeteorBindError)
    assert "property 'where' is given twice" in str(err)
    assert "needs the property 'on'" in str(fail(READ + "$r = replace $in with $in;", MeteorBindError))


def test_javaudf_names_pyudf_and_bad_pyudf_targets():
    err = fail("f = javaudf('org.Foo.bar');", MeteorBindError)
    assert "1:5:" in str(err) and "pyudf('package.module:function')" in str(err)
    assert "pyudf cannot import module 'no_such_mod_x'" in str(fail("f = pyudf('no_such_mod_x:f');"))
    assert "needs 'package.module:function'" in str(fail("f = pyudf('os.path');"))


def test_uri_scheme_without_fsspec_or_unknown_option():
    import importlib.util

    if importlib.util.find_spec("fsspec") is None:
        assert "scheme 'hdfs://' need fsspec" in str(fail("$x = read from 'hdfs://h:1/x.json';"))
    err = fail("$x = read csv from 'x.csv' colums ['a'];", MeteorSyntaxError)
    assert "did you mean 'columns'?" in str(err)


def test_errors_inside_included_files_name_that_file(tmp_path):
    (tmp_path / "bad.meteor").write_text("x = 1;\n$r = fitler $y;\n")
    err = fail("include 'bad.meteor';", MeteorSyntaxError, path=str(tmp_path / "main.meteor"))
    assert err.path == str(tmp_path / "bad.meteor") and (err.line, err.column) == (2, 6)
    err = fail("include 'missing.meteor';", MeteorBindError, path=str(tmp_path / "main.meteor"))
    assert "cannot read included file" in str(err) and err.line == 1


def test_operator_of_a_package_not_in_scope_gets_a_using_hint():
    from sopremo.operator import ElementaryOperator
    from sopremo.package import PackageManager, SopremoPackage

    class Zap(ElementaryOperator):
        verb = "zap"

        def to_contract(self, inputs, ctx):
            return None

    manager = PackageManager()
    manager.add(SopremoPackage("base"))
    extra = SopremoPackage("extra")
    extra.operator(Zap)
    manager.add(extra)
    text = "$a = [1];\n$z = zap $a;\nusing extra;"
    with pytest.raises(MeteorBindError) as info:
        compile_script(text, manager=manager)
    assert "2:6: unknown operator 'zap'" in str(info.value) and "add 'using extra;'" in str(info.value)
    assert compile_script("using extra; $a = [1]; $z = zap $a;", manager=manager).sinks == []
