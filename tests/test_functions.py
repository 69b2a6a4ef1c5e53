"""Tests of the built-in functions, their aggregations (incl. merge for combiners) and the casts of sopremo.types."""

from __future__ import annotations

import math

import pytest

from sopremo.errors import MeteorError, OperatorError
from sopremo.functions import BUILTIN_CONSTANTS, BUILTIN_FUNCTIONS
from sopremo.types import TYPE_NAMES, cast, string_form
from sopremo.values import MISSING

F = BUILTIN_FUNCTIONS
ALL_NAMES = ("concat array_concat sum count first all sort mean min max assemble add camelCase extract format "
             "subtract contains like length replace split substring trim unionAll indexOf strpos sqrt sqr map filter "
             "fold reduce find").split()


def test_every_documented_function_is_registered_with_doc_and_arity():
    for name in ALL_NAMES:
        function = F[name]
        assert function.doc and "\n" not in function.doc, name
        assert function.accepts(function.min_args)
    assert F["strpos"] is F["indexOf"] and F["reduce"] is F["fold"]
    assert BUILTIN_CONSTANTS == {"PI": math.pi, "E": math.e}
    assert not F["sum"].accepts(2) and F["concat"].accepts(5) and F["extract"].accepts(3)


# ---- aggregations -------------------------------------------------------------------------------------------------

def test_sum_count_mean():
    assert F["sum"]([1, 2, 3]) == 6 and type(F["sum"]([1, 2, 3])) is int
    assert F["sum"]([1, 2.5]) == 3.5
    assert F["sum"]([]) == 0
    assert F["sum"]([1, None, MISSING, 2]) == 3
    assert F["sum"](MISSING) == 0
    with pytest.raises(OperatorError):
        F["sum"]([1, "a"])
    with pytest.raises(OperatorError):
        F["sum"]([True])
    with pytest.raises(OperatorError):
        F["sum"](5)
    assert F["count"]([1, None, MISSING]) == 3
    assert F["count"]([]) == 0
    assert F["mean"]([1, 2]) == 1.5 and type(F["mean"]([2, 2])) is float
    assert F["mean"]([]) is MISSING and F["mean"](None) is MISSING


def test_first_min_max():
    assert F["first"]([None, MISSING, 0, 1]) == 0
    assert F["first"]([None]) is None and F["first"]([]) is None
    assert F["min"]([3, 1.5, 2]) == 1.5 and F["max"]([3, 1.5, 2]) == 3
    assert F["min"]([]) is None and F["max"]([None]) is None
    assert F["min"](["b", "a"]) == "a"
    assert F["max"]([1, "a", [0]]) == [0]  # cross-type order
    assert F["min"]([1, "a"]) == 1


def test_all_sort_concat_array_concat_assemble():
    assert F["all"]([3, 1, 2]) == [3, 1, 2]
    assert F["sort"]([3, "a", None, 1.5, [1]]) == [None, 1.5, 3, "a", [1]]
    assert F["concat"](["a", 1, None, True]) == "a1nulltrue"
    assert F["concat"]("a", "b", 3) == "ab3"
    assert F["concat"]([]) == ""
    assert F["array_concat"]([[1], [2, 3], [], None]) == [1, 2, 3]
    with pytest.raises(OperatorError):
        F["array_concat"]([[1], 2])
    assert F["assemble"]([[0, "a"], [2, "c"]]) == ["a", MISSING, "c"]
    assert F["assemble"]([[1, "b"], [0, "a"]]) == ["a", "b"]
    assert F["assemble"]([]) == []
    with pytest.raises(OperatorError):
        F["assemble"]([[-1, "a"]])


@pytest.mark.parametrize("name,values", [("sum", [1, 2, 3, 4.5]), ("count", [1, 2, None]), ("min", [4, 2, 8, 1]),
                                         ("max", [4, 2, 8, 1]), ("mean", [1, 2, 3, 4]), ("first", [None, 5, 6]),
                                         ("count_distinct", [2, None, 1, 2.0, "a", 1, None, "a"]),
                                         ("distinct", [2, None, 1, 2.0, "a", 1, None, "a"])])
def test_algebraic_aggregations_merge_like_a_combiner(name, values):
    aggregation = F[name].aggregation
    assert aggregation.algebraic and aggregation.merge is not None

    def fold(items):
        acc = aggregation.initial()
        for item in items:
            acc = aggregation.add(acc, item)
        return acc

    merged = aggregation.merge(fold(values[:2]), fold(values[2:]))
    assert aggregation.result(merged) == F[name](values)
    assert aggregation.result(aggregation.merge(fold([]), fold(values))) == F[name](values)


def test_non_algebraic_aggregations():
    for name in ("all", "sort", "concat", "array_concat", "assemble"):
        assert F[name].aggregation is not None and not F[name].aggregation.algebraic


# ---- text ---------------------------------------------------------------------------------------------------------

def test_camel_case_and_case_functions():
    assert F["camelCase"]("hello wORLD  foo") == "Hello World  Foo"
    assert F["camelCase"](None) is None and F["camelCase"](MISSING) is MISSING
    assert F["lower_case"]("AbC") == "abc" and F["upper_case"]("AbC") == "ABC"
    with pytest.raises(OperatorError):
        F["camelCase"](5)


def test_extract():
    assert F["extract"]("abc123def", r"\d+") == "123"
    assert F["extract"]("key=value", r"(\w+)=") == "key"
    assert F["extract"]("key=value", r"(\w+)=(\w+)") == ["key", "value"]
    assert F["extract"]("abc", r"\d+") is None
    assert F["extract"]("abc", r"\d+", "none") == "none"
    with pytest.raises(OperatorError):
        F["extract"]("abc", "(")


def test_format():
    assert F["format"]("default %s", "x") == "default x"
    assert F["format"]("%s-%s", 1, None) == "1-null"
    assert F["format"]("%d items, %.2f", 3, 2.5) == "3 items, 2.50"
    assert F["format"]("%s", [1, {"a": True}]) == '[1,{"a":true}]'
    with pytest.raises(OperatorError):
        F["format"]("%s %s", "one")


def test_like():
    assert F["like"]("hello world", "hello%%") is True
    assert F["like"]("hello world", "%%wor%%") is True
    assert F["like"]("hello world", "world") is False
    assert F["like"]("abc", "a.c") is True
    assert F["like"](MISSING, "x") is MISSING


@pytest.mark.parametrize("pattern", ["hello%%", "%%special%%requests%%", "a.c", "", "(unclosed", 7])
def test_like_with_a_constant_pattern_is_like(pattern):
    """The specialization compiled once per call site (``specialize``) answers and fails as ``like`` does,
    also in a compiled expression; an invalid or non-text pattern keeps ``like`` (its error per call)."""
    from sopremo.expressions.compiler import compile_expression
    from sopremo.expressions.nodes import Constant, FieldAccess, FunctionCall, InputRef
    from sopremo.function import VARIABLE

    special = F["like"].specialize(VARIABLE, pattern)
    assert (special is None) == (pattern in ("(unclosed", 7))
    call = compile_expression(FunctionCall("like", F["like"], (FieldAccess(InputRef(0), "t"), Constant(pattern))), 1)
    for value in ["hello world", "abc", "a special x requests", "", None, MISSING, 5, [1]]:
        outcomes = []
        for run in (lambda: F["like"](value, pattern), lambda: call({"t": value} if value is not MISSING else {}),
                    *([lambda: special(value)] if special else [])):
            try:
                outcomes.append(("value", run()))
            except OperatorError as error:
                outcomes.append(("error", str(error).splitlines()[0].split(": ", 1)[-1]))
        assert all(outcome == outcomes[0] for outcome in outcomes), (value, outcomes)


def test_length_replace_trim():
    assert F["length"]("héllo") == 5 and F["length"]([1, 2]) == 2 and F["length"]("") == 0
    with pytest.raises(OperatorError):
        F["length"](5)
    assert F["replace"]("a1b22c", r"\d+", "#") == "a#b#c"
    assert F["replace"]("john smith", r"(\w+) (\w+)", "$2, $1") == "smith, john"
    assert F["replace"]("a.b", r"\.", r"\$") == "a$b"
    assert F["replace"]("ab", "(a)", r"<\1>") == "<a>b"
    assert F["trim"]("  x y \t") == "x y"


def test_split():
    assert F["split"]("  a b\tc  ") == ["a", "b", "c"]
    assert F["split"]("a,b,,c,,", ",") == ["a", "b", "", "c"]
    assert F["split"](",a", ",") == ["", "a"]
    assert F["split"]("a1b22c", r"(\d+)") == ["a", "b", "c"]
    assert F["split"]("", ",") == []
    assert F["split"](None) is None


def test_substring():
    assert F["substring"]("hello", 1) == "ello"
    assert F["substring"]("hello", 1, 3) == "el"
    assert F["substring"]("hello", -3) == "llo"
    assert F["substring"]("hello", 0, -1) == "hell"
    assert F["substring"]("hello", 2, 99) == "llo"
    with pytest.raises(OperatorError):
        F["substring"]("hello", "1")


def test_index_of():
    assert F["indexOf"]("hello", "ll") == 2
    assert F["strpos"]("hello", "z") == -1
    assert F["indexOf"]([1, "a", 2.0], 2) == 2
    assert F["indexOf"]([1], True) == -1


# ---- arrays and math ----------------------------------------------------------------------------------------------

def test_add():
    items = [1, 2, 3]
    assert F["add"](items, 0, "x") == ["x", 1, 2, 3]
    assert F["add"](items, 1, "x") == [1, "x", 2, 3]
    assert F["add"](items, 3, "x") == [1, 2, 3, "x"]  # the length appends
    assert F["add"](items, -1, "x") == [1, 2, "x", 3]  # negative: from the end, as the original's resolveIndex
    assert F["add"](items, -3, "x") == ["x", 1, 2, 3]
    assert items == [1, 2, 3]
    assert F["add"](MISSING, 0, 1) is MISSING
    with pytest.raises(OperatorError):
        F["add"](items, 9, "x")
    with pytest.raises(OperatorError):
        F["add"](items, -4, "x")


def test_subtract_contains_union_all():
    assert F["subtract"]([1, 2, 3, 2, {"a": 1}], 2, {"a": 1}) == [1, 3]  # the values to remove, not arrays
    assert F["subtract"]([1, [2], 2], [2]) == [1, 2]
    assert F["subtract"]([1, True], 1.0) == [True]
    assert F["subtract"]([1, 2]) == [1, 2]
    assert F["contains"]([1, 2], 2.0) is True and F["contains"]([1, 2], "2") is False
    assert F["contains"]("hello", "ell") is True
    assert F["contains"](MISSING, 1) is False
    assert F["unionAll"]([1], [2, 3], [], None) == [1, 2, 3]
    assert F["unionAll"]() == []


def test_sqrt_sqr():
    assert F["sqrt"](16) == 4.0 and type(F["sqrt"](16)) is float
    assert F["sqr"](3) == 9 and type(F["sqr"](3)) is int
    assert F["sqr"](1.5) == 2.25
    assert F["sqrt"](None) is None
    with pytest.raises(OperatorError):
        F["sqrt"](-1)
    with pytest.raises(OperatorError):
        F["sqr"]("a")
    with pytest.raises(OperatorError, match="numeric overflow"):
        F["sqr"](1e200)
    assert F["sqr"](10 ** 200) == 10 ** 400


def test_no_function_or_cast_yields_infinity_or_nan():
    for aggregation in ("sum", "mean"):
        with pytest.raises(OperatorError, match=f"numbers of {aggregation}\\(\\) add up beyond the double range"):
            F[aggregation]([1e308, 1e308])
    with pytest.raises(OperatorError, match="mean of these ints is beyond the double range"):
        F["mean"]([10 ** 400, 10 ** 400])
    assert F["mean"]([10 ** 300, 3 * 10 ** 300]) == 2e300
    for text in ("NaN", "Infinity", "-inf", "1e999"):
        with pytest.raises(OperatorError, match="cannot cast"):
            cast(text, "decimal")
    with pytest.raises(OperatorError, match="beyond the double range"):
        cast(10 ** 400, "decimal")
    assert cast(" 2.5 ", "decimal") == 2.5


# ---- second-order functions ---------------------------------------------------------------------------------------

def test_map_filter_fold_find():
    assert F["map"]([1, 2], lambda x: x * 2) == [2, 4]
    assert F["map"](MISSING, lambda x: x) is MISSING
    assert F["filter"]([1, 2, 3, 4], lambda x: x % 2 == 0) == [2, 4]
    assert F["filter"]([1, 2, 3], lambda x: x) == []  # only exactly true keeps
    assert F["fold"]([1, 2, 3], 10, lambda a, x: a + x) == 16
    assert F["reduce"]([], "init", lambda a, x: a) == "init"
    assert F["find"]([1, 5, 7], lambda x: x > 4) == 5
    assert F["find"]([1], lambda x: x > 4) is None
    assert F["map"]([4, 9], F["sqrt"]) == [2.0, 3.0]
    with pytest.raises(OperatorError):
        F["map"]([1], "not a function")
    with pytest.raises(OperatorError):
        F["filter"](5, lambda x: True)


# ---- casts --------------------------------------------------------------------------------------------------------

def test_type_names():
    for name in ("int", "decimal", "double", "float", "string", "text", "boolean", "bool", "array", "object", "null"):
        assert name in TYPE_NAMES


@pytest.mark.parametrize("value,type_name,expected", [
    ("42", "int", 42), (" 3.7 ", "int", 3), (3.9, "int", 3), (-3.9, "int", -3), (True, "int", 1), (7, "int", 7),
    ("1.5", "decimal", 1.5), (2, "double", 2.0), (False, "float", 0.0),
    (1.5, "string", "1.5"), (None, "string", "null"), (True, "text", "true"), ([1, "a"], "string", '[1,"a"]'),
    ("false", "boolean", False), ("TRUE", "bool", True), ("x", "boolean", True), (0, "boolean", False),
    ([], "boolean", False), (5, "array", [5]), ([1], "array", [1]), ({"a": 1}, "object", {"a": 1}),
    (None, "int", None), (MISSING, "string", MISSING), (MISSING, "int", MISSING), (None, "null", None),
    ("5", "INT", 5),
])
def test_casts(value, type_name, expected):
    result = cast(value, type_name)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value,type_name", [("abc", "int"), (float("nan"), "int"), ("x", "decimal"),
                                             ([1], "int"), ({}, "decimal"), (5, "object"), (1, "null")])
def test_impossible_casts(value, type_name):
    with pytest.raises(OperatorError, match="cannot cast"):
        cast(value, type_name)


def test_unknown_type():
    with pytest.raises(MeteorError, match="unknown type"):
        cast(1, "date")


def test_string_form():
    assert string_form(3) == "3" and string_form(0.5) == "0.5" and string_form(MISSING) == "missing"
    assert string_form({"a": [1, MISSING]}) == '{"a":[1,null]}'
