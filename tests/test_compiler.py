"""Tests of the expression compiler: every node type, missing/null/mixed-type semantics, aggregations, errors."""

from __future__ import annotations

import pickle
import timeit

import cloudpickle
import pytest

from sopremo.errors import MeteorError, OperatorError
from sopremo.expressions import codegen
from sopremo.expressions.compiler import compile_expression, evaluate_constant
from sopremo.expressions.nodes import (And, Arithmetic, ArrayConstruction, ArrayIndex, ArrayProjection, ArraySlice,
                                       Cast, Comparison, Constant, CopyFields, ElementIn, ElementRef, FieldAccess,
                                       FieldAssignment, FunctionCall, IfPostfix, InputRef, Lambda, LambdaParam,
                                       NestedOperator, Not, ObjectConstruction, Or, TagMapping, Ternary, UnaryOp, Var)
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo.values import MISSING

C = Constant
IN, IN1 = InputRef(0), InputRef(1)


def path(base, *names):
    for name in names:
        base = FieldAccess(base, name)
    return base


def call(name, *args):
    return FunctionCall(name, BUILTIN_FUNCTIONS[name], tuple(args))


def proj(base, *names):
    return ArrayProjection(base, path(ElementRef(), *names))


def run(expr, *values, variables=()):
    return compile_expression(expr, len(values) - len(variables), variables)(*values)


def const(expr):
    return evaluate_constant(expr)


# ---- leaves and paths --------------------------------------------------------------------------------------------

def test_constants_of_every_json_type():
    for value in (1, -3, 2.5, "x", True, False, None, [1, [2]], {"a": {"b": 1}}, 10**30, float("inf")):
        assert const(C(value)) == value


def test_inputs_and_variables_are_positional():
    expr = ArrayConstruction((IN, IN1, Var("v"), Var("w")))
    assert run(expr, 1, 2, 3, 4, variables=("v", "w")) == [1, 2, 3, 4]


def test_field_access_missing_and_non_objects():
    record = {"a": {"b": 1}, "n": None}
    assert run(path(IN, "a", "b"), record) == 1
    assert run(path(IN, "x"), record) is MISSING
    assert run(path(IN, "x", "y"), record) is MISSING
    assert run(path(IN, "n", "y"), record) is MISSING
    assert run(path(IN, "a"), [1, 2]) is MISSING
    assert run(path(IN, "a"), MISSING) is MISSING
    assert run(path(C(5), "a")) is MISSING


def test_safe_navigation_keeps_null_and_missing():
    assert run(FieldAccess(path(IN, "n"), "y", safe=True), {"n": None}) is None
    assert run(FieldAccess(path(IN, "x"), "y", safe=True), {}) is MISSING
    assert run(FieldAccess(IN, "a", safe=True), None) is None
    assert run(FieldAccess(IN, "a", safe=True), {"a": 3}) == 3
    assert run(FieldAccess(IN, "a", safe=True), 7) is MISSING


def test_array_index_negative_and_out_of_range():
    arr = [10, 20, 30]
    assert run(ArrayIndex(IN, C(0)), arr) == 10
    assert run(ArrayIndex(IN, C(-1)), arr) == 30
    assert run(ArrayIndex(IN, C(-3)), arr) == 10
    assert run(ArrayIndex(IN, C(3)), arr) is MISSING
    assert run(ArrayIndex(IN, C(-4)), arr) is MISSING
    assert run(ArrayIndex(IN, C(0)), {"a": 1}) is MISSING
    assert run(ArrayIndex(IN, path(IN1, "i")), arr, {"i": 1}) == 20
    assert run(ArrayIndex(IN, C("a")), {"a": 1}) == 1
    assert run(ArrayIndex(IN, C(0), safe=True), None) is None
    assert run(ArrayIndex(IN, C(1), safe=True), arr) == 20


def test_slices():
    arr = [0, 1, 2, 3, 4]
    assert run(ArraySlice(IN, C(1), C(3)), arr) == [1, 2, 3]  # both ends included (the original's ArrayAccess)
    assert run(ArraySlice(IN, C(3), C(1)), arr) == [3, 2, 1]  # reversed when start > end
    assert run(ArraySlice(IN, C(-3), C(-1)), arr) == [2, 3, 4]
    assert run(ArraySlice(IN, C(1), C(-1)), arr) == [1, 2, 3, 4]
    assert run(ArraySlice(IN, C(-1), C(0)), arr) == [4, 3, 2, 1, 0]
    assert run(ArraySlice(IN, C(2), C(2)), arr) == [2]
    assert run(ArraySlice(IN, None, C(-2)), arr) == [0, 1, 2, 3]
    assert run(ArraySlice(IN, C(-2), None), arr) == [3, 4]
    assert run(ArraySlice(IN, C(7), None), arr) == [] and run(ArraySlice(IN, None, C(-9)), arr) == []
    assert run(ArraySlice(IN, C(3), C(9)), arr) == [3, 4]  # positions beyond the array are left out
    assert run(ArraySlice(IN, C(9), C(3)), arr) == [4, 3]
    assert run(ArraySlice(IN, C(7), C(9)), arr) == []
    assert run(ArraySlice(IN, C(0), C(-1)), []) == []
    assert run(ArraySlice(IN, C(1), C(3)), "hello") == "ell"
    assert run(ArraySlice(IN, C(3), C(1)), "hello") == "lle"
    assert run(ArraySlice(IN, C(1), None), 5) is MISSING
    with pytest.raises(OperatorError):
        run(ArraySlice(IN, C("a"), None), arr)


def test_projection_maps_and_keeps_missing():
    group = [{"a": 1}, {"a": 2}, {"b": 3}]
    assert run(proj(IN, "a"), group) == [1, 2, MISSING]
    assert run(proj(IN, "a"), {"a": 1}) is MISSING
    nested = ArrayProjection(IN, ArrayProjection(path(ElementRef(), "items"), path(ElementRef(), "x")))
    assert run(nested, [{"items": [{"x": 1}, {"x": 2}]}, {"items": []}]) == [[1, 2], []]


# ---- arithmetic ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op,a,b,expected", [
    ("+", 1, 2, 3), ("-", 1, 2, -1), ("*", 3, 4, 12), ("/", 3, 6, 0.5), ("/", 4, 2, 2.0),
    ("+", 1, 0.5, 1.5), ("*", 2.5, 2, 5.0), ("-", 10**20, 1, 10**20 - 1),
    ("+", "unknown ", 7, "unknown 7"), ("+", 1.5, "x", "1.5x"), ("+", "a", None, "anull"), ("+", "a", True, "atrue"),
    ("+", 1, None, None), ("*", None, 2, None), ("+", MISSING, 1, MISSING), ("+", "a", MISSING, MISSING),
])
def test_arithmetic(op, a, b, expected):
    result = run(Arithmetic(op, IN, IN1), a, b)
    assert result == expected and type(result) is type(expected)
    assert run(Arithmetic(op, C(a), IN), b) == expected if a is not MISSING else True
    assert run(Arithmetic(op, IN, C(b)), a) == expected if b is not MISSING else True


def test_division_always_float_and_int_stays_int():
    assert type(run(Arithmetic("/", IN, C(2)), 4)) is float
    assert type(run(Arithmetic("*", path(IN, "a"), C(3)), {"a": 2})) is int
    assert run(Arithmetic("*", IN, IN), 3) == 9


@pytest.mark.parametrize("op,a,b", [("*", "abc", 2), ("+", True, 1), ("-", [1], [2]), ("/", 1, 0), ("/", 1.0, 0.0),
                                    ("*", {"a": 1}, 2), ("-", "a", "b")])
def test_arithmetic_type_errors(op, a, b):
    with pytest.raises(OperatorError):
        run(Arithmetic(op, IN, IN1), a, b)
    with pytest.raises(OperatorError):
        run(Arithmetic(op, IN, C(b)), a)


def test_left_associative_chain():
    expr = Arithmetic("-", Arithmetic("-", C(10), IN), C(3))
    assert run(expr, 2) == 5


def test_unary_operators():
    assert run(UnaryOp("-", IN), 3) == -3
    assert run(UnaryOp("-", IN), 2.5) == -2.5
    assert run(UnaryOp("-", IN), MISSING) is MISSING
    assert run(UnaryOp("++", IN), 1) == 2
    assert run(UnaryOp("--", IN), 1.5) == 0.5
    assert run(UnaryOp("~", IN), 5) == -6
    with pytest.raises(OperatorError):
        run(UnaryOp("-", IN), "a")
    with pytest.raises(OperatorError):
        run(UnaryOp("~", IN), 1.5)


# ---- comparisons and logic ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("a,op,b,expected", [
    (1, "==", 1.0, True), (1, "==", True, False), (0, "==", False, False), ("1", "==", 1, False),
    (None, "==", None, True), (None, "==", MISSING, False), ([1, 2], "==", [1.0, 2], True),
    ({"a": 1}, "==", {"a": 1}, True), ([1], "==", [True], False), (1, "!=", 2, True), ("a", "!=", "a", False),
    (1, "<", 2.5, True), ("a", "<", "b", True), (None, "<", False, True), (True, "<", 0, True),
    (5, "<", "a", True), ("z", "<", [1], True), ([1], "<", {"a": 1}, True), ([1, 2], "<", [1, 3], True),
    (3, ">=", 3.0, True), ("b", ">", "a", True), (2, "<=", 1, False), (MISSING, "<", 1, True),
])
def test_comparisons_cross_type(a, op, b, expected):
    assert run(Comparison(op, IN, IN1), a, b) is expected
    assert run(Comparison(op, IN, C(b)), a) is expected if b is not MISSING else True
    assert run(Comparison(op, C(a), IN), b) is expected if a is not MISSING else True


def test_date_range_filter():
    expr = And((Comparison(">=", path(IN, "d"), C("1994-01-01")), Comparison("<", path(IN, "d"), C("1995-01-01"))))
    assert run(expr, {"d": "1994-06-01"}) is True
    assert run(expr, {"d": "1995-01-01"}) is False
    assert run(expr, {}) is False


def test_and_or_not_truthiness():
    for value, truth in ((0, False), (2, True), ("", False), ("x", True), ([], False), ([0], True), ({}, False),
                         (None, False), (MISSING, False), (True, True), (0.0, False)):
        assert run(And((IN, C(True))), value) is truth
        assert run(Or((C(False), IN)), value) is truth
        assert run(Not(IN), value) is (not truth)
    assert run(Or((C(1), Arithmetic("/", C(1), IN))), 0) is True  # short circuit: no division by zero
    assert run(And((IN, IN1, C("x"))), 1, 2) is True


def test_element_in():
    assert run(ElementIn(IN, C([1, 2, "a"])), 1.0) is True
    assert run(ElementIn(IN, C([1, 2])), True) is False
    assert run(ElementIn(IN, C([1, 2]), negate=True), 3) is True
    assert run(ElementIn(IN, IN1), {"a": 1}, [{"a": 1}]) is True
    assert run(ElementIn(IN, IN1, negate=True), 1, [2]) is True
    assert run(ElementIn(IN, IN1), 1, MISSING) is False
    with pytest.raises(OperatorError):
        run(ElementIn(IN, IN1), 1, "abc")


def test_ternary_elvis_and_if_postfix():
    assert run(Ternary(IN, C("yes"), C("no")), 1) == "yes"
    assert run(Ternary(IN, C("yes"), C("no")), MISSING) == "no"
    assert run(Ternary(path(IN, "a"), None, C("dflt")), {"a": "v"}) == "v"
    assert run(Ternary(path(IN, "a"), None, C("dflt")), {}) == "dflt"
    assert run(Ternary(path(IN, "a"), None, C("dflt")), {"a": 0}) == "dflt"
    assert run(IfPostfix(C(5), IN), True) == 5
    assert run(IfPostfix(C(5), IN), False) is MISSING


def test_casts():
    assert run(Cast(IN, "int"), "42") == 42
    assert run(Cast(IN, "decimal"), 3) == 3.0
    assert run(Cast(IN, "string"), 1.5) == "1.5"
    assert run(Cast(IN, "int"), MISSING) is MISSING
    with pytest.raises(OperatorError):
        run(Cast(IN, "int"), "abc")
    with pytest.raises(MeteorError):
        compile_expression(Cast(IN, "no_such_type"))


# ---- construction -------------------------------------------------------------------------------------------------

def test_object_construction_omits_missing():
    expr = ObjectConstruction((FieldAssignment("a", path(IN, "a")), FieldAssignment("b", path(IN, "b")),
                               FieldAssignment("c", C(1))))
    assert run(expr, {"a": 1}) == {"a": 1, "c": 1}
    assert run(expr, {"a": None, "b": 2}) == {"a": None, "b": 2, "c": 1}


def test_copy_fields():
    expr = ObjectConstruction((CopyFields(IN), FieldAssignment("x", C(1)), CopyFields(IN1)))
    assert run(expr, {"a": 1, "x": 0}, MISSING) == {"a": 1, "x": 1}
    assert run(expr, {"a": 1}, {"b": 2}) == {"a": 1, "x": 1, "b": 2}
    with pytest.raises(OperatorError):
        run(expr, 5, {})


def test_tag_mapping_cannot_be_evaluated():
    expr = ObjectConstruction((TagMapping(path(IN, "a"), C(1)),))
    function = compile_expression(expr)
    with pytest.raises(OperatorError, match="cannot be evaluated"):
        function({})


def test_array_construction_keeps_missing():
    assert run(ArrayConstruction((C(1), path(IN, "x"), IN)), 2) == [1, MISSING, 2]
    assert run(ArrayConstruction(())) == []


def test_constructed_values_are_fresh():
    function = compile_expression(ObjectConstruction((FieldAssignment("a", IN),)))
    assert function(1) is not function(1)


# ---- functions, lambdas, aggregations -----------------------------------------------------------------------------

def test_function_call_and_method_chain():
    expr = call("count", call("all", path(IN, "addresses")))
    assert run(expr, {"addresses": [1, 2, 3]}) == 3
    assert run(call("length", C("abc"))) == 3


def test_higher_order_closures_over_inputs():
    expr = call("map", path(IN, "items"), Lambda(("i",), Arithmetic("*", LambdaParam("i"), path(IN, "factor"))))
    assert run(expr, {"items": [1, 2, 3], "factor": 10}) == [10, 20, 30]
    keep = call("filter", IN, Lambda(("x",), Comparison(">", LambdaParam("x"), IN1)))
    assert run(keep, [1, 5, 3, 7], 3) == [5, 7]
    total = call("fold", IN, C(0), Lambda(("acc", "x"), Arithmetic("+", LambdaParam("acc"), LambdaParam("x"))))
    assert run(total, [1, 2, 3]) == 6


def test_nested_lambdas_shadow_and_close():
    inner = Lambda(("x",), Arithmetic("+", LambdaParam("x"), LambdaParam("y")))
    outer = Lambda(("y",), call("map", IN, inner))
    expr = call("map", C([10, 20]), outer)
    assert run(expr, [1, 2]) == [[11, 12], [21, 22]]
    shadow = call("map", IN, Lambda(("x",), call("map", C([1]), Lambda(("x",), LambdaParam("x")))))
    assert run(shadow, [5]) == [[1]]


def test_lambda_is_a_callable_value():
    square = compile_expression(Lambda(("x",), Arithmetic("*", LambdaParam("x"), LambdaParam("x"))), 0)()
    assert square(7) == 49


def test_aggregation_per_element():
    group = [{"a": 10, "b": 0.1}, {"a": 20, "b": 0.5}, {"a": 5, "b": 0.0}]
    expr = call("sum", Arithmetic("*", proj(IN, "a"), Arithmetic("-", C(1), proj(IN, "b"))))
    assert run(expr, group) == pytest.approx(sum(r["a"] * (1 - r["b"]) for r in group))
    assert run(call("count", IN), group) == 3
    assert run(call("mean", proj(IN, "a")), group) == pytest.approx(35 / 3)
    assert run(call("max", proj(IN, "b")), group) == 0.5
    assert run(call("min", proj(IN, "a")), group) == 5
    assert run(call("sum", proj(IN, "a")), group) == 35 and type(run(call("sum", proj(IN, "a")), group)) is int
    assert run(call("all", proj(IN, "a")), group) == [10, 20, 5]
    assert run(call("sum", proj(IN, "a")), []) == 0
    assert run(call("mean", proj(IN, "a")), []) is MISSING
    assert run(call("max", proj(IN, "a")), []) is None


def test_aggregation_inside_object_and_arithmetic():
    group = [{"k": "x", "p": 2.0, "q": 3}, {"k": "x", "p": 4.0, "q": 1}]
    expr = ObjectConstruction((FieldAssignment("k", path(ArrayIndex(IN, C(0)), "k")),
                               FieldAssignment("avg", Arithmetic("/", call("sum", proj(IN, "p")), call("count", IN))),
                               FieldAssignment("rev", call("sum", Arithmetic("*", proj(IN, "p"), proj(IN, "q"))))))
    assert run(expr, group) == {"k": "x", "avg": 3.0, "rev": 10.0}


def test_aggregation_on_plain_arrays_and_nested_projection():
    assert run(call("sum", C([1, 2, 3]))) == 6
    assert run(call("count", path(IN, "items")), {"items": [1, 2]}) == 2
    assert run(call("count", path(IN, "items")), {}) == 0
    orders = [{"items": [{"x": 1}, {"x": 2}]}, {"items": [{"x": 3}]}]
    per_order = ArrayProjection(path(ElementRef(), "items"), path(ElementRef(), "x"))
    assert run(call("all", ArrayProjection(IN, per_order)), orders) == [[1, 2], [3]]
    assert run(call("sum", ArrayProjection(IN, call("sum", per_order))), orders) == 6


def test_aggregation_over_two_arrays_is_rejected():
    with pytest.raises(MeteorError):
        compile_expression(call("sum", Arithmetic("+", proj(IN, "a"), proj(IN1, "b"))), 2)


def test_aggregation_with_outer_element_and_closure():
    groups = [[{"a": 1}, {"a": 2}], [{"a": 5}]]
    expr = ArrayProjection(IN, call("sum", Arithmetic("*", proj(ElementRef(), "a"), IN1)))
    assert run(expr, groups, 10) == [30, 50]


# ---- errors, constants, scale -------------------------------------------------------------------------------------

def test_compile_time_errors():
    with pytest.raises(MeteorError):
        compile_expression(InputRef(1), arity=1)
    with pytest.raises(MeteorError):
        compile_expression(Var("v"))
    with pytest.raises(MeteorError):
        compile_expression(ElementRef())
    with pytest.raises(MeteorError):
        compile_expression(LambdaParam("x"))
    with pytest.raises(MeteorError):
        compile_expression(NestedOperator(object()))
    with pytest.raises(MeteorError):
        compile_expression(FieldAssignment("a", C(1)))


def test_python_errors_in_functions_become_operator_errors():
    def broken(x):
        return x["nope"]

    from sopremo.function import SopremoFunction
    expr = FunctionCall("broken", SopremoFunction("broken", broken, 1, 1), (IN,))
    with pytest.raises(OperatorError, match="KeyError"):
        compile_expression(expr)({})


def test_evaluate_constant():
    assert evaluate_constant(Arithmetic("+", C("dir/"), C("lineitem.json"))) == "dir/lineitem.json"
    assert evaluate_constant(call("sqrt", C(16))) == 4.0
    with pytest.raises(MeteorError, match="input"):
        evaluate_constant(path(IN, "a"))
    with pytest.raises(MeteorError):
        evaluate_constant(Var("x"))


def test_deep_expressions_compile():
    expr = C(0)
    for i in range(300):
        expr = Arithmetic("+", expr, path(IN, "a"))
    assert run(expr, {"a": 1}) == 300
    concat = C("")
    for i in range(200):
        concat = Arithmetic("+", concat, Ternary(IN, C("x"), C("y")))
    assert run(concat, 1) == "x" * 200
    deep_lambda = LambdaParam("x")
    for i in range(100):
        deep_lambda = Arithmetic("*", deep_lambda, C(1))
    assert run(call("map", IN, Lambda(("x",), deep_lambda)), [2, 3]) == [2, 3]
    assert codegen.SPLIT_DEPTH < 100


def test_compiled_functions_pickle_with_cloudpickle():
    expr = ObjectConstruction((FieldAssignment("s", call("sum", proj(IN, "a"))),
                               FieldAssignment("m", call("map", IN, Lambda(("x",), path(LambdaParam("x"), "a"))))))
    clone = pickle.loads(cloudpickle.dumps(compile_expression(expr)))
    assert clone([{"a": 1}, {"a": 2}]) == {"s": 3, "m": [1, 2]}


def test_speed_of_q1_like_expressions():
    revenue = compile_expression(Arithmetic("*", path(IN, "l_extendedprice"),
                                            Arithmetic("-", C(1), path(IN, "l_discount"))))
    dates = compile_expression(And((Comparison(">=", path(IN, "l_shipdate"), C("1994-01-01")),
                                    Comparison("<", path(IN, "l_shipdate"), C("1995-01-01")))))
    records = [{"l_extendedprice": 1000.5 + i, "l_discount": 0.05, "l_shipdate": "1994-05-01"} for i in range(1000)]
    for name, function in (("revenue", revenue), ("date range", dates)):
        seconds = min(timeit.repeat(lambda: [function(r) for r in records], number=20, repeat=3))
        print(f"{name}: {seconds / 20 / len(records) * 1e9:.0f} ns per record")
    assert revenue(records[0]) == pytest.approx(1000.5 * 0.95)


def test_float_overflow_is_an_error_never_infinity():
    big = 1e308
    with pytest.raises(OperatorError, match="numeric overflow in \\(\\$0 \\* 10\\)"):
        run(Arithmetic("*", IN, C(10)), big)
    with pytest.raises(OperatorError, match="numeric overflow"):  # checked once at the top of a chain
        run(Arithmetic("-", Arithmetic("+", IN, IN), IN), big)
    with pytest.raises(OperatorError, match="numeric overflow"):  # a divisor is checked on its own: 1 / inf
        run(Arithmetic("/", C(1), Arithmetic("*", IN, C(10))), big)
    with pytest.raises(OperatorError, match="numeric overflow"):  # an int beyond the double range meets a float
        run(Arithmetic("*", IN, C(1.5)), 10 ** 400)
    assert run(Arithmetic("*", IN, IN), 10 ** 200) == 10 ** 400  # ints are unbounded: no overflow
    assert run(Arithmetic("-", Arithmetic("*", IN, C(10.0)), IN), 1e307) == 9e307


def test_big_ints_stay_exact_in_arithmetic_and_comparisons():
    big = 123456789012345678901234567890
    assert run(Arithmetic("+", IN, C(1)), big) == big + 1
    assert run(Arithmetic("*", IN, IN), big) == big * big
    assert run(Arithmetic("-", C(0), IN), big) == -big
    assert run(Comparison("<", IN, C(big + 1)), big) is True
    assert run(Comparison("==", IN, C(float(big))), big) is False  # exact: the double is a different number
