"""Run-time semantics of Meteor operators on values: arithmetic, comparison, membership, path steps.

Compiled expressions inline the common cases (two numbers, a field of a dict) and call these functions for
everything else, so this module is the one place that defines the behaviour (docs/language.md, "Data",
"Numbers"). Arithmetic rules:

- int op int stays int for ``+ - *``; ``/`` always yields a float; ``int op float`` yields a float;
- missing on either side yields missing (a path that does not exist stays absent);
- ``+`` with a string on either side concatenates the string forms (``'unknown ' + $x``);
- null on either side (and no string) yields null;
- anything else (booleans, arrays, objects, ``'abc' * 2``, division by zero) raises ``OperatorError``, and so
  does a result beyond the double range (±1.8e308): Meteor numbers are never Infinity or NaN, which JSON cannot
  hold (ints are unbounded and never overflow).
"""

from __future__ import annotations

from typing import Any

from pact_backend.runtime.groups import SpilledGroup
from sopremo.errors import OperatorError
from sopremo.types import string_form
from sopremo.values import MISSING, compare, hashable, type_name

NUMBER_TYPES = frozenset((int, float))
"""Types on which Python's own operators are Meteor's (bool excluded: ``type(True) is bool``)."""

_SAME_KIND = {int: 1, float: 1, str: 2}


def _describe(value: Any) -> str:
    return f"{type_name(value)} {string_form(value)[:40]!r}"


def _slow_arith(op: str, a: Any, b: Any) -> Any:
    """Missing, string and null handling shared by all four operators; None when numbers may proceed."""
    if a is MISSING or b is MISSING:
        return MISSING
    if op == "+" and (type(a) is str or type(b) is str):
        return string_form(a) + string_form(b)
    if a is None or b is None:
        return None
    raise OperatorError(f"cannot apply '{op}' to {_describe(a)} and {_describe(b)}")


MAX_DOUBLE = 1.7976931348623157e308
"""The largest finite double; a float result beyond it (Infinity, or NaN) is an overflow."""


def overflow(op: str, a: Any, b: Any) -> OperatorError:
    """The error for ``a op b`` beyond the double range."""
    return OperatorError(f"numeric overflow: {_describe(a)} {op} {_describe(b)} is beyond the double range "
                         "(±1.8e308)")


def finite(result: Any, op: str, a: Any, b: Any) -> Any:
    """``result`` of ``a op b`` unless it is a float beyond the double range (Infinity or NaN); then raises
    OperatorError naming the operation. Ints (unbounded) always pass."""
    if type(result) is float and not -MAX_DOUBLE <= result <= MAX_DOUBLE:
        raise overflow(op, a, b)
    return result


def finite_result(result: Any, expression: str) -> Any:
    """``result`` of the arithmetic ``expression`` (its text, for the message) unless it is a float beyond the
    double range; then raises OperatorError. Compiled expressions call it where a chain of operations ends."""
    if type(result) is float and not -MAX_DOUBLE <= result <= MAX_DOUBLE:
        raise OperatorError(f"numeric overflow in {expression}: a result beyond the double range (±1.8e308)")
    return result


def add(a: Any, b: Any) -> Any:
    """Meteor ``a + b``."""
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
        try:
            return finite(a + b, "+", a, b)
        except OverflowError:  # an int beyond the double range meets a float
            raise overflow("+", a, b) from None
    return _slow_arith("+", a, b)


def subtract(a: Any, b: Any) -> Any:
    """Meteor ``a - b``."""
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
        try:
            return finite(a - b, "-", a, b)
        except OverflowError:
            raise overflow("-", a, b) from None
    return _slow_arith("-", a, b)


def multiply(a: Any, b: Any) -> Any:
    """Meteor ``a * b``."""
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
        try:
            return finite(a * b, "*", a, b)
        except OverflowError:
            raise overflow("*", a, b) from None
    return _slow_arith("*", a, b)


def divide(a: Any, b: Any) -> Any:
    """Meteor ``a / b``: always a float; division by zero and results beyond the double range raise
    OperatorError."""
    if type(a) in NUMBER_TYPES and type(b) in NUMBER_TYPES:
        if b == 0:
            raise OperatorError(f"division by zero: {_describe(a)} / {_describe(b)}")
        try:
            return finite(a / b, "/", a, b)
        except OverflowError:
            raise overflow("/", a, b) from None
    return _slow_arith("/", a, b)


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide}


def negate(a: Any) -> Any:
    """Meteor ``-a``: numbers negated, missing/null kept, anything else an OperatorError."""
    if type(a) in NUMBER_TYPES:
        return -a
    if a is MISSING or a is None:
        return a
    raise OperatorError(f"cannot negate {_describe(a)}")


def increment(a: Any) -> Any:
    """Meteor ``++a`` (the value plus one; expressions do not assign)."""
    return add(a, 1)


def decrement(a: Any) -> Any:
    """Meteor ``--a`` (the value minus one)."""
    return subtract(a, 1)


def bitwise_not(a: Any) -> Any:
    """Meteor ``~a`` on ints; missing/null kept; anything else an OperatorError."""
    if type(a) is int:
        return ~a
    if a is MISSING or a is None:
        return a
    raise OperatorError(f"cannot apply '~' to {_describe(a)}")


UNARY = {"-": negate, "++": increment, "--": decrement, "~": bitwise_not}


def equal(a: Any, b: Any) -> bool:
    """Meteor ``==``: values of different JSON types are unequal; numbers compare numerically (1 == 1.0)."""
    kind = _SAME_KIND.get(type(a))
    if kind is not None and kind == _SAME_KIND.get(type(b)):
        return a == b
    return hashable(a) == hashable(b)


def not_equal(a: Any, b: Any) -> bool:
    """Meteor ``!=``."""
    return not equal(a, b)


def less(a: Any, b: Any) -> bool:
    """Meteor ``<`` under the cross-type order (null < boolean < number < string < array < object)."""
    kind = _SAME_KIND.get(type(a))
    if kind is not None and kind == _SAME_KIND.get(type(b)):
        return a < b
    return compare(a, b) < 0


def less_equal(a: Any, b: Any) -> bool:
    """Meteor ``<=``."""
    kind = _SAME_KIND.get(type(a))
    if kind is not None and kind == _SAME_KIND.get(type(b)):
        return a <= b
    return compare(a, b) <= 0


def greater(a: Any, b: Any) -> bool:
    """Meteor ``>``."""
    return less(b, a)


def greater_equal(a: Any, b: Any) -> bool:
    """Meteor ``>=``."""
    return less_equal(b, a)


COMPARISON = {"==": equal, "!=": not_equal, "<": less, "<=": less_equal, ">": greater, ">=": greater_equal}


def element_in(element: Any, collection: Any) -> bool:
    """Meteor ``element in collection``: membership in an array (missing/null collection: False)."""
    if type(collection) is list or type(collection) is tuple or type(collection) is SpilledGroup:
        key = hashable(element)
        return any(hashable(item) == key for item in collection)
    if collection is MISSING or collection is None:
        return False
    raise OperatorError(f"'in' needs an array on its right side, got {_describe(collection)}")


def field_of(base: Any, name: str) -> Any:
    """``base.name``: missing when ``base`` is no object or lacks the field."""
    return base.get(name, MISSING) if type(base) is dict else MISSING


def index_of(base: Any, index: Any) -> Any:
    """``base[index]``: negative indexes from the end; missing out of range or on non-arrays.

    A string index on an object reads that field (``$x['a b']``). A group read from a spill file
    (``SpilledGroup``, see ``group_reads``) is indexed as an array.
    """
    if (type(base) is list or type(base) is SpilledGroup) and type(index) is int:
        if -len(base) <= index < len(base):
            return base[index]
        return MISSING
    if type(base) is dict and type(index) is str:
        return base.get(index, MISSING)
    return MISSING


def slice_of(base: Any, start: Any, end: Any) -> Any:
    """``base[start:end]`` on arrays and strings, as the original's ArrayAccess: both ends included, negative
    positions count from the end, ``start > end`` gives the elements in reverse order (``[3:1]`` is elements
    3, 2, 1); an omitted bound is the first / last position (an open slice runs forwards: ``[5:]`` of a shorter
    array is empty); positions beyond the array are left out.
    Missing on other values; OperatorError for bounds that are not ints. A spilled group slices as an array
    (into a list).
    """
    if type(base) is list or type(base) is str or type(base) is SpilledGroup:
        if not ((start is None or type(start) is int) and (end is None or type(end) is int)):
            raise OperatorError(f"slice bounds must be ints, got {_describe(start)} and {_describe(end)}")
        size = len(base)
        first = 0 if start is None else start + size if start < 0 else start
        last = size - 1 if end is None else end + size if end < 0 else end
        if first <= last or start is None or end is None:  # an open bound runs forwards: [5:] of 3 is empty
            return base[max(first, 0):max(last + 1, 0)]
        return base[max(last, 0):max(first + 1, 0)][::-1]
    return MISSING


def project(base: Any, element: Any) -> Any:
    """``base[*]...``: ``element(e)`` for each element of an array (a spilled group too: one pass over its
    file); missing when ``base`` is not an array."""
    if type(base) is list or type(base) is tuple or type(base) is SpilledGroup:
        return [element(item) for item in base]
    return MISSING


def copy_fields(value: Any) -> dict:
    """The fields copied by object entry ``$x.*``: an object's own; none for missing; else OperatorError."""
    if type(value) is dict:
        return value
    if value is MISSING:
        return {}
    raise OperatorError(f"'.*' can only copy the fields of an object, got {_describe(value)}")


def strip_missing(obj: dict, names: tuple[str, ...]) -> dict:
    """``obj`` without those of ``names`` whose value is missing (constructed objects omit missing fields)."""
    for name in names:
        if obj.get(name) is MISSING:
            del obj[name]
    return obj


def tag_mapping_error() -> Any:
    """Evaluating an object entry ``$x.path: value`` (as in the original Sopremo, it cannot be evaluated)."""
    raise OperatorError("a tag mapping ($x.path: value) in an object construction cannot be evaluated")


def call_value(function: Any, *args: Any) -> Any:
    """Call a function value (a compiled lambda or SopremoFunction); OperatorError when it is not callable."""
    if not callable(function):
        raise OperatorError(f"expected a function value (fn(x) {{...}} or &name), got {_describe(function)}")
    return function(*args)
