"""Parser tests: AST shapes of every Meteor construct, precedence, and grammar generated from operator metadata."""

from __future__ import annotations

import pytest

from meteor import ast as A
from meteor.frontend import parse_script
from meteor.parser import parse, prescan_packages, statements_text
from sopremo.operator import BINDING, CONSTANT, ElementaryOperator, PropertySpec
from sopremo.package import PackageManager, SopremoPackage
from sopremo.scope import Scope


class _Op(ElementaryOperator):
    def to_contract(self, inputs, ctx):
        return None


class Frob(_Op):
    verb = "frob"
    properties = (PropertySpec("where", "cond"), PropertySpec("with window", "window", CONSTANT))


class MultiWord(_Op):
    verb = "detect many things"
    min_inputs, max_inputs = 1, None
    properties = (PropertySpec("partition on", "key", per_input=True), PropertySpec("into", "proj"),
                  PropertySpec("around", "around", BINDING))


def _manager() -> PackageManager:
    manager = PackageManager()
    base = SopremoPackage("base")
    base.operator(Frob)
    manager.add(base)
    extra = SopremoPackage("extra")
    extra.operator(MultiWord)
    manager.add(extra)
    return manager


def _expr(src: str, scope: Scope | None = None):
    script = parse(f"x = {src};", None, scope or Scope())
    return script.statements[0].value


L, N, V = A.Literal, A.Name, A.Variable


def test_literals_and_signed_numbers():
    assert _expr("17") == L(17) and _expr("-3") == L(-3) and _expr("1.5") == L(1.5)
    assert _expr(".5") == L(0.5) and _expr("1e3") == L(1000.0)
    assert _expr("'a\\nb'") == L("a\\nb")  # verbatim, no escapes
    assert _expr('"dq"') == L("dq") and _expr("true") == L(True) and _expr("null") == L(None)


def test_arithmetic_is_left_associative_and_binds_tighter_than_comparison():
    assert _expr("a - b - c") == A.Binary("arith", "-", A.Binary("arith", "-", N("a"), N("b")), N("c"))
    assert _expr("a + b * c") == A.Binary("arith", "+", N("a"), A.Binary("arith", "*", N("b"), N("c")))
    assert _expr("a -3") == A.Binary("arith", "-", N("a"), L(3))
    assert _expr("a < b + 1") == A.Binary("compare", "<", N("a"), A.Binary("arith", "+", N("b"), L(1)))


def test_logic_membership_ternary_elvis_postfix_if():
    assert _expr("a or b || c") == A.Logical("or", (N("a"), N("b"), N("c")))
    assert _expr("a and b or c && d") == A.Logical("or", (A.Logical("and", (N("a"), N("b"))),
                                                          A.Logical("and", (N("c"), N("d")))))
    assert _expr("a in b and a not in c") == A.Logical("and", (A.In(N("a"), N("b")), A.In(N("a"), N("c"), True)))
    assert _expr("c ? 1 : 2") == A.Conditional(N("c"), L(1), L(2))
    assert _expr("c ?: 2") == A.Conditional(N("c"), None, L(2))
    assert _expr("1 if c or d") == A.IfPostfix(L(1), A.Logical("or", (N("c"), N("d"))))


def test_prefix_operators_and_casts():
    assert _expr("!a") == A.Unary("!", N("a")) and _expr("not a") == A.Unary("not", N("a"))
    assert _expr("++a") == A.Unary("++", N("a")) and _expr("~a") == A.Unary("~", N("a"))
    assert _expr("-$x") == A.Unary("-", V("x"))
    assert _expr("(int) $x.a") == A.Cast(A.Field(V("x"), "a"), "int")
    assert _expr("$x as string") == A.Cast(V("x"), "string")
    assert _expr("(a)") == N("a")


def test_paths_indexes_slices_projections_methods():
    assert _expr("$x.a.b") == A.Field(A.Field(V("x"), "a"), "b")
    assert _expr("$x?.a") == A.Field(V("x"), "a", True)
    assert _expr("$x[0]") == A.Index(V("x"), L(0)) and _expr("$x[-1]") == A.Index(V("x"), L(-1))
    assert _expr("$x[1:3]") == A.Slice(V("x"), L(1), L(3))
    assert _expr("$x[*].f") == A.Field(A.Projection(V("x")), "f")
    assert _expr("$x[*].m()") == A.MethodCall(A.Projection(V("x")), "m", ())
    assert _expr("$x.all().count()") == A.MethodCall(A.MethodCall(V("x"), "all", ()), "count", ())
    assert _expr("$x?.count()") == A.MethodCall(V("x"), "count", (), True)
    assert _expr("$x.order") == A.Field(V("x"), "order")


def test_calls_lambdas_references_and_keyword_named_functions():
    assert _expr("count($x)") == A.Call("count", (V("x"),))
    assert _expr("base:count($x)") == A.Call("count", (V("x"),), "base")
    assert _expr("filter($a, fn(e) { e.x })") == A.Call("filter", (V("a"), A.LambdaLit(("e",), A.Field(N("e"), "x"))))
    assert _expr("&square") == A.FuncRef("square")
    assert _expr("PI") == N("PI")


def test_arrays_and_objects_with_all_entry_forms():
    assert _expr("[1, 2,]") == A.ArrayLit((L(1), L(2)))
    obj = _expr("{ a: 1, 'b c': 2, $e[0].dept, $x.*, $x.p: 3, by: 4, }")
    assert obj == A.ObjectLit((A.NamedEntry("a", L(1)), A.NamedEntry("b c", L(2)),
                               A.PathEntry(A.Field(A.Index(V("e"), L(0)), "dept")), A.CopyEntry(V("x")),
                               A.TagEntry(A.Field(V("x"), "p"), L(3)), A.NamedEntry("by", L(4))))


def test_statements_and_comments():
    text = """// comment
    using base; /* block
    comment */ $a = read from 'a.json';$b = read csv from 'b.csv' delimiter ';' columns ['x'];
    t = 3; sq = fn(x) { x * x }; f = pyudf('m:f'); setWorkingDirectory('d');;
    $c, $d = filter $a where $a.x > t; write json $c to 'out' + '.json'; $e = [{k: 1}];"""
    stmts = parse(text, "s.meteor", Scope()).statements
    kinds = [type(s).__name__ for s in stmts]
    assert kinds == ["Using", "Assign", "Assign", "ConstDef", "ConstDef", "ConstDef", "CallStatement",
                     "Assign", "Write", "Assign"]  # ';;': an empty statement, as in the original
    assert stmts[2].value == A.Read("csv", L("b.csv"), (A.Prop("delimiter", L(";")),
                                                         A.Prop("columns", A.ArrayLit((L("x"),)))))
    assert stmts[7].targets == ("c", "d")
    assert stmts[8].format == "json" and stmts[8].variable == "c"
    assert stmts[1].span.path == "s.meteor" and stmts[1].span.line == 3


def test_operator_syntax_from_base_metadata():
    op = _expr("join $a in $A, $b in $B where $a.k == $b.k preserve $a into [$a, $b] parallel 4")
    assert op.verb == "join" and op.dop == 4
    assert [(i.alias, i.variable) for i in op.inputs] == [("a", "A"), ("b", "B")]
    assert [p.words for p in op.props] == ["where", "preserve", "into"]
    swapped = _expr("join $a in $A, $b in $B preserve $a where $a.k == $b.k")
    assert [p.words for p in swapped.props] == ["preserve", "where"]
    group = _expr("group $e in $emps by $e.dept, $d in $depts by $d.did into {}")
    assert [[p.words for p in i.props] for i in group.inputs] == [["by"], ["by"]]
    assert _expr("union all $a, $b").verb == "union all" and _expr("union $a, $b").verb == "union"
    assert _expr("split array $a on $a.l").verb == "split array"
    assert [p.words for p in _expr("enumerate $a with key 'id' retain value in 'v'").props] == \
        ["with key", "retain value in"]
    pivot = _expr("pivot $a around $p = $a.x into {}")
    assert pivot.props[0] == A.Prop("around", A.Field(V("a"), "x"), "p")
    assert _expr("base:filter $a where true").package == "base"
    nested = _expr("[ filter $a where true, transform $b into {} ]")
    assert [i.verb for i in nested.items] == ["filter", "transform"]


def test_grammar_is_generated_from_the_operators_in_scope():
    manager = _manager()
    scope = Scope(manager)
    op = _expr("frob $x with window 3 where $x.a", scope)
    assert op.verb == "frob" and [p.words for p in op.props] == ["with window", "where"]
    scope.use("extra")
    multi = _expr("detect many things $a partition on $a.k, $b partition on $b.k around $v = 1 into $v", scope)
    assert multi.verb == "detect many things"
    assert [i.props[0].words for i in multi.inputs] == ["partition on", "partition on"]
    assert multi.props[0].binds == "v"


def test_keywords_stay_names_where_no_keyword_fits():
    scope = Scope()
    assert _expr("{ into: 1 }", scope) == A.ObjectLit((A.NamedEntry("into", L(1)),))
    assert _expr("where + 1", scope) == A.Binary("arith", "+", N("where"), L(1))
    assert _expr("sort($x)", scope) == A.Call("sort", (V("x"),))


def test_prescan_finds_using_and_qualifiers():
    text = "using extra; // 'using nothing;'\nx = 'using fake; ie:no'; using base; $y = ie:annotate $x; z = c:f(1);"
    assert prescan_packages(text) == (["extra", "base"], ["ie", "c"])
    assert statements_text("a = ';'; /* ; */ b = 1;") == ["a = ';'", "b = 1"]


def test_includes_are_spliced_with_their_own_path(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "consts.meteor").write_text("t = 3;\n")
    main = tmp_path / "main.meteor"
    stmts = parse_script("include 'lib/consts.meteor'; u = t;", str(main))
    assert [type(s).__name__ for s in stmts] == ["ConstDef", "ConstDef"]
    assert stmts[0].span.path.endswith("consts.meteor") and stmts[1].span.path == str(main)


@pytest.mark.parametrize("src", ["a < b", "a == b", "a != b", "a >= b"])
def test_single_comparisons_parse(src):
    assert isinstance(_expr(src), A.Binary)
