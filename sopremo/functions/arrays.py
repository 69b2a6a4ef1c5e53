"""Array functions of CoreFunctions and MathFunctions: add subtract contains unionAll, sqrt sqr, PI and E.

Arrays are never modified in place: every function returns a new array (docs/language.md, "Functions
of arrays and text"). Missing and null arrays pass through ``add`` unchanged and count as empty elsewhere.
"""

from __future__ import annotations

import math
from typing import Any

from sopremo.errors import OperatorError
from sopremo.expressions.runtime import NUMBER_TYPES, element_in, finite
from sopremo.function import SopremoFunction
from sopremo.types import string_form
from sopremo.values import MISSING, hashable, type_name


def _array(value: Any, function: str) -> Any:
    if type(value) is list or type(value) is tuple:
        return value
    if value is None or value is MISSING:
        return ()
    raise OperatorError(f"{function}() needs an array, got {type_name(value)} {string_form(value)[:40]!r}")


def add(array: Any, index: Any, value: Any) -> Any:
    """A copy of ``array`` with ``value`` inserted at ``index``: negative from the end (-1: before the last).

    As the original's CoreFunctions.ADD; the array's length as index appends. Missing and null arrays pass
    through; an index outside 0..length raises OperatorError.
    """
    if array is None or array is MISSING:
        return array
    items = list(_array(array, "add"))
    if type(index) is not int:
        raise OperatorError(f"add() needs an int index, got {type_name(index)}")
    position = index if index >= 0 else len(items) + index
    if not 0 <= position <= len(items):
        raise OperatorError(f"add(): index {index} out of range for an array of {len(items)} elements")
    items.insert(position, value)
    return items


def subtract(array: Any, *values: Any) -> list:
    """The elements of ``array`` equal to none of ``values`` (order kept): ``subtract([1, 2, 3], 2, 3)`` = ``[1]``.

    As the original's CoreFunctions.SUBTRACT; an array argument removes the elements equal to that array.
    """
    removed = {hashable(value) for value in values}
    return [item for item in _array(array, "subtract") if hashable(item) not in removed]


def contains(collection: Any, value: Any) -> bool:
    """Whether an array holds an element equal to ``value`` (for text: whether it contains ``value``)."""
    if type(collection) is str:
        return type(value) is str and value in collection
    return element_in(value, collection)


def union_all(*arrays: Any) -> list:
    """The concatenation of all arrays (bag union)."""
    result: list = []
    for array in arrays:
        result.extend(_array(array, "unionAll"))
    return result


def sqrt(value: Any) -> Any:
    """Square root as a decimal; missing and null pass through; negative numbers raise OperatorError."""
    if value is None or value is MISSING:
        return value
    if type(value) not in NUMBER_TYPES or value < 0:
        raise OperatorError(f"sqrt() needs a number >= 0, got {type_name(value)} {string_form(value)[:40]!r}")
    return math.sqrt(value)


def sqr(value: Any) -> Any:
    """``value * value`` keeping the type (int stays int); missing and null pass through.

    A square beyond the double range raises OperatorError.
    """
    if value is None or value is MISSING:
        return value
    if type(value) not in NUMBER_TYPES:
        raise OperatorError(f"sqr() needs a number, got {type_name(value)} {string_form(value)[:40]!r}")
    return finite(value * value, "*", value, value)


def array_functions() -> dict[str, SopremoFunction]:
    """The array and math built-ins by Meteor name."""
    functions = [
        SopremoFunction("add", add, 3, 3, doc=add.__doc__.splitlines()[0], deterministic=True),
        SopremoFunction("subtract", subtract, 1, None, doc=subtract.__doc__.splitlines()[0],
                        deterministic=True),
        SopremoFunction("contains", contains, 2, 2, doc=contains.__doc__, deterministic=True),
        SopremoFunction("unionAll", union_all, 0, None, doc=union_all.__doc__, deterministic=True),
        SopremoFunction("sqrt", sqrt, 1, 1, doc=sqrt.__doc__, deterministic=True),
        SopremoFunction("sqr", sqr, 1, 1, doc=sqr.__doc__.splitlines()[0], deterministic=True),
    ]
    return {f.name: f for f in functions}


MATH_CONSTANTS: dict[str, float] = {"PI": math.pi, "E": math.e}
"""The MathFunctions constants usable as bare identifiers."""
