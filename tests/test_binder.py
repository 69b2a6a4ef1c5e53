"""Binder tests: operators created from scripts, property coercion, InputRef numbering, constants, params,
inlined fn bodies, pyudf, read/write paths and includes."""

from __future__ import annotations

import os

import pytest

from meteor.errors import MeteorBindError
from meteor.frontend import compile_script
from sopremo.expressions import nodes as ex
from sopremo.operator import (BINDING, CONSTANT, INPUT, INPUTS, CompositeOperator, ElementaryOperator,
                              PropertySpec)
from sopremo.package import PackageManager, SopremoPackage


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def ops(plan):
    return {op.name: op for op in plan.operators() if op.name}


def test_filter_transform_and_write(tmp_path):
    plan = compile_script("$in = read from 'in.json';\n$r = filter $in where $in.a > 1 parallel 3;\n"
                          "write $r to 'out.json';", "s.meteor")
    (sink,) = plan.sinks
    r = sink.inputs[0].operator
    assert type(r).__name__ == "Selection" and r.dop == 3 and r.name == "$r"
    assert r.condition == ex.Comparison(">", ex.FieldAccess(ex.InputRef(0), "a"), ex.Constant(1))
    assert r.source_span.line == 2 and r.source_span.path == "s.meteor"
    assert sink.path == str(tmp_path / "out.json")
    assert r.inputs[0].operator.path == str(tmp_path / "in.json")


def test_join_aliases_number_inputs_and_preserve_becomes_indexes():
    plan = compile_script("$A = read from 'a.json'; $B = read from 'b.json';"
                          "$j = join $b in $B, $a in $A where $a.k == $b.k preserve [$a, $b] into [$b, $a];"
                          "write $j to 'o.json';")
    j = ops(plan)["$j"]
    assert j.condition == ex.Comparison("==", ex.FieldAccess(ex.InputRef(1), "k"), ex.FieldAccess(ex.InputRef(0), "k"))
    assert j.preserve == (1, 0)
    assert j.projection == ex.ArrayConstruction((ex.InputRef(0), ex.InputRef(1)))


def test_group_per_input_keys_projection_and_aggregation_argument():
    plan = compile_script("$e = read from 'e.json'; $d = read from 'd.json';"
                          "$g = group $x in $e by $x.dept, $y in $d by $y.id into "
                          "{ $x[0].dept, n: count($x), s: sum($x[*].pay * 2) };"
                          "write $g to 'g.json';")
    g = ops(plan)["$g"]
    assert g.keys == (ex.FieldAccess(ex.InputRef(0), "dept"), ex.FieldAccess(ex.InputRef(1), "id"))
    entries = g.projection.entries
    first = ex.ArrayIndex(ex.InputRef(0), ex.Constant(0))
    assert entries[0] == ex.FieldAssignment("dept", ex.FieldAccess(first, "dept"))
    assert entries[1].value.name == "count" and entries[1].value.args == (ex.InputRef(0),)
    assert entries[2].value.args == (ex.Arithmetic("*", ex.ArrayProjection(
        ex.InputRef(0), ex.FieldAccess(ex.ElementRef(), "pay")), ex.Constant(2)),)


def test_constants_params_functions_inlining_and_lambdas():
    text = ("t = 10; sq = fn(x) { x * x }; $in = read from 'in.json';"
            "$r = transform $in into { a: sq($in.v) + t, b: map($in.l, fn(e) { e + t }), c: map($in.l, &sq), p: PI };"
            "write $r to 'o.json';")
    r = ops(compile_script(text, params={"t": 5}))["$r"]
    a, b, c, p = (e.value for e in r.projection.entries)
    v = ex.FieldAccess(ex.InputRef(0), "v")
    assert a == ex.Arithmetic("+", ex.Arithmetic("*", v, v), ex.Constant(5))
    assert b.args[1] == ex.Lambda(("e",), ex.Arithmetic("+", ex.LambdaParam("e"), ex.Constant(5)))
    assert c.args[1] == ex.Lambda(("x",), ex.Arithmetic("*", ex.LambdaParam("x"), ex.LambdaParam("x")))
    assert isinstance(p, ex.Constant) and abs(p.value - 3.14159) < 1e-4


def test_sort_order_is_a_constant_and_methods_are_calls():
    text = ("$in = read from 'in.json'; $s = sort $in on $in.addresses.all().count() direction 'DESCENDING';"
            "write $s to 'o.json';")
    s = ops(compile_script(text))["$s"]
    assert s.order == "DESCENDING"
    assert s.key.name == "count" and s.key.args[0].name == "all"


def test_pivot_binding_and_replace_input_and_enumerate_constants():
    text = ("$a = read from 'a.json'; $dict = [['x', 1]];"
            "$p = pivot $a around $who = $a.people[*].name into { name: $who, n: count($a) };"
            "$r = replace $a on $a.code with $dict default 'none';"
            "$e = enumerate $a with key 'id' retain value in 'v';"
            "write $p to 'p.json'; write $r to 'r.json'; write $e to 'e.json';")
    o = ops(compile_script(text))
    name, expr = o["$p"].around
    assert name == "who" and o["$p"].projection.entries[0] == ex.FieldAssignment("name", ex.Var("who"))
    assert o["$r"].dictionary == 1 and o["$r"].inputs[1].operator.values == [["x", 1]]
    assert (o["$e"].id_field, o["$e"].value_field) == ("id", "v")


def test_ad_hoc_source_reassignment_and_empty_plan():
    assert compile_script("$d = [{a: 1}];").sinks == []
    plan = compile_script("$d = [{a: 1 + 1}, {b: 'x'}]; $d = filter $d where $d.a; write $d to 'x.json';")
    src = plan.sinks[0].inputs[0].operator.inputs[0].operator
    assert src.values == [{"a": 2}, {"b": "x"}]


def test_working_directory_file_uri_and_csv_options(tmp_path):
    plan = compile_script("setWorkingDirectory('sub'); d = 'in/'; $x = read csv from 'file://' + d + 'x.csv'"
                          " columns ['A', 'B'] delimiter ';'; write $x to 'file:///tmp/abs.json';")
    src = plan.sinks[0].inputs[0].operator
    assert src.path == str(tmp_path / "sub" / "in" / "x.csv")
    assert src.data_format.columns == ["A", "B"] and src.data_format.delimiter == ";"
    assert plan.sinks[0].path == "/tmp/abs.json"


class _Elem(ElementaryOperator):
    def to_contract(self, inputs, ctx):
        return None


class Frob(_Elem):
    verb = "frob"
    min_inputs, max_inputs = 1, 3
    properties = (PropertySpec("where", "cond"), PropertySpec("with window", "window", CONSTANT, default=1),
                  PropertySpec("keep", "keep", INPUTS), PropertySpec("around", "around", BINDING),
                  PropertySpec("lookup", "lookup", INPUT), PropertySpec("key by", "keys", per_input=True))


class Splitter(CompositeOperator):
    verb = "split in two"
    outputs = 2

    def expand(self):
        return [self.inputs[0], self.inputs[0]]


def _manager():
    from sopremo.functions import BUILTIN_FUNCTIONS
    from sopremo.io import FORMATS

    base = SopremoPackage("base")
    base.functions.update(BUILTIN_FUNCTIONS)
    base.formats.update(FORMATS)
    base.operator(Frob)
    extra = SopremoPackage("extra")
    extra.operator(Splitter)
    manager = PackageManager()
    manager.add(base)
    manager.add(extra)
    return manager


def test_test_package_operators_all_property_kinds():
    text = ("$a = read from 'a.json'; $b = read from 'b.json'; $c = read from 'c.json';"
            "$f = frob $x in $a key by $x.k, $b key by $b.j with window 2 + 1 keep [$b] "
            "around $v = $x.k lookup $c where $v == $b.j;"
            "write $f to 'f.json';")
    f = compile_script(text, manager=_manager()).sinks[0].inputs[0].operator
    assert isinstance(f, Frob) and len(f.inputs) == 3 and f.lookup == 2
    assert f.window == 3 and f.keep == (1,)
    assert f.keys == (ex.FieldAccess(ex.InputRef(0), "k"), ex.FieldAccess(ex.InputRef(1), "j"))
    assert f.cond == ex.Comparison("==", ex.Var("v"), ex.FieldAccess(ex.InputRef(1), "j"))


def test_using_and_multi_output_assignment():
    text = "using extra; $a = read from 'a.json'; $l, $r = split in two $a; write $l to 'l.json'; write $r to 'r.json';"
    plan = compile_script(text, manager=_manager())
    left, right = (s.inputs[0] for s in plan.sinks)
    assert left.operator is right.operator and (left.index, right.index) == (0, 1)


def test_pyudf_is_imported_and_called(tmp_path, monkeypatch):
    (tmp_path / "my_udfs_meteor.py").write_text("def twice(x, y=1):\n    return x * 2 * y\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = ("f = pyudf('my_udfs_meteor:twice'); $a = read from 'a.json';"
            "$t = transform $a into { v: f($a.v) }; write $t to 't.json';")
    call = ops(compile_script(text))["$t"].projection.entries[0].value
    assert call.name == "f" and call.function(4) == 8 and call.function.max_args == 2


def test_include_binds_included_definitions(tmp_path):
    (tmp_path / "defs.meteor").write_text("limit = 7;\n$src = read from 'in.json';\n")
    (tmp_path / "main.meteor").write_text("include 'defs.meteor';\n$r = filter $src where $src.a < limit;\n"
                                          "write $r to 'r.json';\n")
    plan = compile_script((tmp_path / "main.meteor").read_text(), str(tmp_path / "main.meteor"))
    assert plan.sinks[0].inputs[0].operator.condition.right == ex.Constant(7)
    assert os.path.basename(plan.sinks[0].path) == "r.json"


def test_qualified_names_need_no_using_and_bring_no_other_names():
    text = "$a = read from 'a.json'; $l, $r = extra:split in two $a; write $l to 'l.json';"
    assert type(compile_script(text, manager=_manager()).sinks[0].inputs[0].operator).__name__ == "Splitter"
    plan = compile_script("$a = read from 'a.json';\n$t = transform $a into {d: cleansing:levenshtein($a.x, 'y')};"
                          "\nwrite $t to 't.json';")
    call = ops(plan)["$t"].projection.entries[0].value
    assert call.name == "levenshtein" and call.function("ab", "ab") == 1.0
    with pytest.raises(MeteorBindError) as info:  # the qualified use does not bring the package into scope
        compile_script("$a = [{x: 'a'}];\n$t = transform $a into [cleansing:levenshtein($a.x, 'y'),"
                       " levenshtein($a.x, 'y')];")
    assert "2:59: unknown function 'levenshtein'" in str(info.value) and "write cleansing:levenshtein" in str(info.value)
    text = "$a = read from 'a.json'; $b, $c = extra:split in two $a; $l, $r = split in two $a;"
    with pytest.raises(MeteorBindError, match="add 'using extra;' before this statement or write extra:split in two"):
        compile_script(text, manager=_manager())


def test_an_unknown_package_qualifier_is_named():
    with pytest.raises(MeteorBindError) as info:
        compile_script("$a = [{x: 'a'}];\n$t = transform $a into {d: cleansng:levenshtein($a.x, 'y')};")
    assert "2:28: unknown package 'cleansng'; did you mean 'cleansing'?" in str(info.value)
