"""Aggregation functions: CoreFunctions' sum count first all sort mean min max concat array_concat assemble, plus
count_distinct and distinct (not in the original; SQL's COUNT(DISTINCT x) and SELECT DISTINCT over an array).

Each is an ``Aggregation`` (initial/add/result, plus ``merge`` for the algebraic ones sum count min max mean
first) so that ``group ... into`` folds ``sum($g[*].x)`` in one pass and a combiner may pre-aggregate
(docs/language.md, "Aggregations"; VLDB J. 2014, sec. 7.3). Called on a whole array (``sum([1, 2])``) they fold
its elements. Missing elements are skipped by all but ``count``; ``sum``, ``mean``, ``min`` and ``max`` skip
null too (as SQL aggregates do), so ``sum`` of nothing is 0, ``min``/``max`` of nothing null, ``mean`` missing.
``count_distinct`` counts distinct non-null values and ``distinct`` keeps first occurrences in order, both under
Meteor equality (``1 == 1.0``, ``sopremo.values.hashable``); both merge partial results, so they combine.
"""

from __future__ import annotations

from typing import Any

from pact_backend.runtime.groups import SpilledGroup
from sopremo.errors import OperatorError
from sopremo.expressions.aggregates import make_fold
from sopremo.expressions.runtime import MAX_DOUBLE, NUMBER_TYPES, less
from sopremo.function import Aggregation, SopremoFunction
from sopremo.types import string_form
from sopremo.values import MISSING, hashable, sort_key, type_name


def _number(value: Any, name: str) -> Any:
    if type(value) in NUMBER_TYPES:
        return value
    raise OperatorError(f"{name}() works on numbers, got {type_name(value)} {string_form(value)[:40]!r}")


def _sum_add(acc: Any, value: Any) -> Any:
    if type(value) in NUMBER_TYPES:
        return acc + value
    if value is None or value is MISSING:
        return acc
    return acc + _number(value, "sum")


def _count_add(acc: int, value: Any) -> int:
    return acc + 1


def _first_add(acc: Any, value: Any) -> Any:
    if acc is not None or value is MISSING:
        return acc
    return value


def _first_merge(a: Any, b: Any) -> Any:
    return a if a is not None else b


def _mean_add(acc: list, value: Any) -> list:
    if value is None or value is MISSING:
        return acc
    acc[0] += _number(value, "mean")
    acc[1] += 1
    return acc


def _finite_total(total: Any, name: str) -> Any:
    """``total`` of ``sum`` or ``mean`` unless it left the double range (Infinity or NaN): an OperatorError."""
    if type(total) is float and not -MAX_DOUBLE <= total <= MAX_DOUBLE:
        raise OperatorError(f"numeric overflow: the numbers of {name}() add up beyond the double range (±1.8e308)")
    return total


def _sum_result(acc: Any) -> Any:
    return _finite_total(acc, "sum")


def _mean_result(acc: list) -> Any:
    if not acc[1]:
        return MISSING
    try:
        return _finite_total(acc[0] / acc[1], "mean")
    except OverflowError:  # ints whose mean is beyond the double range
        raise OperatorError("numeric overflow: the mean of these ints is beyond the double range (±1.8e308)") \
            from None


def _min_add(acc: Any, value: Any) -> Any:
    if value is None or value is MISSING:
        return acc
    return value if acc is MISSING or less(value, acc) else acc


def _max_add(acc: Any, value: Any) -> Any:
    if value is None or value is MISSING:
        return acc
    return value if acc is MISSING or less(acc, value) else acc


def _min_merge(a: Any, b: Any) -> Any:
    return _min_add(a, b)


def _max_merge(a: Any, b: Any) -> Any:
    return _max_add(a, b)


def _no_value_is_null(acc: Any) -> Any:
    return None if acc is MISSING else acc


def _append(acc: list, value: Any) -> list:
    if value is not MISSING:
        acc.append(value)
    return acc


def _concat_add(acc: list, value: Any) -> list:
    if value is not MISSING:
        acc.append(string_form(value))
    return acc


def _array_concat_add(acc: list, value: Any) -> list:
    if type(value) is list or type(value) is tuple:
        acc.extend(value)
    elif value is not None and value is not MISSING:
        raise OperatorError(f"array_concat() concatenates arrays, got {type_name(value)}")
    return acc


def _assemble_add(acc: list, pair: Any) -> list:
    if not (type(pair) in (list, tuple) and len(pair) == 2 and type(pair[0]) is int and pair[0] >= 0):
        raise OperatorError(f"assemble() needs [index, value] pairs with an index >= 0, got {string_form(pair)}")
    acc.append(pair)
    return acc


def _assemble_result(pairs: list) -> list:
    result = [MISSING] * (max((p[0] for p in pairs), default=-1) + 1)
    for index, value in pairs:
        result[index] = value
    return result


def _distinct_count_add(acc: set, value: Any) -> set:
    if value is not None and value is not MISSING:
        acc.add(hashable(value))
    return acc


def _union(a: set, b: set) -> set:
    a |= b
    return a


def _distinct_add(acc: dict, value: Any) -> dict:
    if value is not MISSING:
        acc.setdefault(hashable(value), value)
    return acc


def _distinct_merge(a: dict, b: dict) -> dict:
    for key, value in b.items():
        a.setdefault(key, value)
    return a


def _add_ints(a: int, b: int) -> int:
    return a + b


def _mean_merge(a: list, b: list) -> list:
    return [a[0] + b[0], a[1] + b[1]]


def _sorted(acc: list) -> list:
    return sorted(acc, key=sort_key)


def _identity(acc: Any) -> Any:
    return acc


def _new_set() -> set:
    return set()


def _new_dict() -> dict:
    return {}


def _values(acc: dict) -> list:
    return list(acc.values())


def _new_list() -> list:
    return []


def _zero() -> int:
    return 0


def _none() -> Any:
    return None


def _missing() -> Any:
    return MISSING


def _mean_initial() -> list:
    return [0, 0]


AGGREGATIONS: dict[str, tuple[Aggregation, str]] = {
    "sum": (Aggregation(_zero, _sum_add, _sum_result, _add_ints, True),
            "sum of the numbers of an array (ints stay ints; starts at 0; null/missing skipped)"),
    "count": (Aggregation(_zero, _count_add, _identity, _add_ints, True, length=_identity),
              "number of elements of an array"),
    "count_distinct": (Aggregation(_new_set, _distinct_count_add, len, _union, True),
                       "number of distinct non-null elements of an array (1 and 1.0 are one value)"),
    "distinct": (Aggregation(_new_dict, _distinct_add, _values, _distinct_merge, True),
                 "the elements of an array without repeats, first occurrences in order (1 and 1.0 are one value)"),
    "first": (Aggregation(_none, _first_add, _identity, _first_merge, True),
              "first non-null element of an array, null if none"),
    "mean": (Aggregation(_mean_initial, _mean_add, _mean_result, _mean_merge, True),
             "arithmetic mean of the numbers of an array (a decimal); missing when there are none"),
    "min": (Aggregation(_missing, _min_add, _no_value_is_null, _min_merge, True),
            "smallest element of an array (cross-type order; null/missing skipped); null if empty"),
    "max": (Aggregation(_missing, _max_add, _no_value_is_null, _max_merge, True),
            "largest element of an array (cross-type order; null/missing skipped); null if empty"),
    "all": (Aggregation(_new_list, _append, _identity), "copy of an array (group order)"),
    "sort": (Aggregation(_new_list, _append, _sorted),
             "sorted copy of an array (natural JSON order)"),
    "concat": (Aggregation(_new_list, _concat_add, "".join), "concatenation of the string forms of the elements"),
    "array_concat": (Aggregation(_new_list, _array_concat_add, _identity), "concatenation of arrays"),
    "assemble": (Aggregation(_new_list, _assemble_add, _assemble_result),
                 "array from [index, value] pairs: [[0,'a'],[2,'c']] -> ['a', missing, 'c']"),
}


def _concat_impl(fold: Any) -> Any:
    """``concat(array)`` folds the array; ``concat(a, b, ...)`` concatenates the arguments' string forms."""

    def concat(*values: Any) -> str:
        if len(values) == 1 and type(values[0]) in (list, tuple, SpilledGroup):
            return fold(values[0])
        return fold(list(values))

    return concat


def aggregation_functions() -> dict[str, SopremoFunction]:
    """The aggregation built-ins by name; each ``impl`` folds a whole array."""
    functions = {}
    for name, (aggregation, doc) in AGGREGATIONS.items():
        fold = make_fold(aggregation, name)
        impl = _concat_impl(fold) if name == "concat" else fold
        max_args = None if name == "concat" else 1
        functions[name] = SopremoFunction(name, impl, 1, max_args, aggregation=aggregation, doc=doc)
    return functions
