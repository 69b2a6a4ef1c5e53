"""SecondOrderFunctions: map filter fold (alias reduce) find, taking function values as arguments.

Function arguments arrive as Python callables: a compiled ``fn(x) { ... }`` lambda (closures over the
operator's inputs work), a ``&name`` reference, or a ``SopremoFunction`` (docs/language.md, "Functions
of arrays and text"). A missing or null array maps/filters to itself; ``fold`` of nothing is ``init``.
"""

from __future__ import annotations

from typing import Any, Callable

from sopremo.errors import OperatorError
from sopremo.function import SopremoFunction
from sopremo.values import MISSING, type_name


def _function(value: Any, name: str) -> Callable[..., Any]:
    if callable(value):
        return value
    raise OperatorError(f"{name}() needs a function value (fn(x) {{ ... }} or &name), got {type_name(value)}")


def _items(array: Any, name: str) -> Any:
    if type(array) is list or type(array) is tuple:
        return array
    raise OperatorError(f"{name}() needs an array, got {type_name(array)}")


def map_array(array: Any, function: Any) -> Any:
    """``[function(e) for e in array]``; missing/null pass through."""
    if array is None or array is MISSING:
        return array
    apply = _function(function, "map")
    return [apply(item) for item in _items(array, "map")]


def filter_array(array: Any, predicate: Any) -> Any:
    """The elements for which ``predicate`` returns exactly true; missing/null pass through."""
    if array is None or array is MISSING:
        return array
    test = _function(predicate, "filter")
    return [item for item in _items(array, "filter") if test(item) is True]


def fold(array: Any, initial: Any, function: Any) -> Any:
    """``function(...function(function(initial, e0), e1)..., en)``; ``initial`` for an empty/missing array."""
    combine = _function(function, "fold")
    acc = initial
    if array is None or array is MISSING:
        return acc
    for item in _items(array, "fold"):
        acc = combine(acc, item)
    return acc


def find(array: Any, predicate: Any) -> Any:
    """The first element for which ``predicate`` returns exactly true, else null."""
    test = _function(predicate, "find")
    if array is None or array is MISSING:
        return None
    return next((item for item in _items(array, "find") if test(item) is True), None)


def higher_order_functions() -> dict[str, SopremoFunction]:
    """The second-order built-ins by Meteor name (``reduce`` is ``fold``)."""
    folding = SopremoFunction("fold", fold, 3, 3, higher_order=True, doc=fold.__doc__)
    functions = [
        SopremoFunction("map", map_array, 2, 2, higher_order=True, doc=map_array.__doc__),
        SopremoFunction("filter", filter_array, 2, 2, higher_order=True, doc=filter_array.__doc__),
        SopremoFunction("find", find, 2, 2, higher_order=True, doc=find.__doc__),
        folding,
    ]
    result = {f.name: f for f in functions}
    result["reduce"] = folding
    return result
