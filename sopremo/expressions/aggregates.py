"""Aggregation calls over projections: ``sum($g[*].a * (1 - $g[*].b))`` folds one element at a time.

Inside the argument of an aggregation function, every projection ``base[*]<element>`` stands for one element of
``base`` (docs/language.md, "Aggregations"; the paper's Listing 1 and the TPC-H scripts rely on it). The
compiler asks ``split_aggregation`` for the projected base and a per-element expression (the projections
replaced by a placeholder parameter), then folds that expression over the base with the function's
``Aggregation`` (``make_fold``). Several projections over the same base refer to the same element.
"""

from __future__ import annotations

from typing import Any, Callable

from pact_backend.runtime.groups import SpilledGroup
from sopremo.errors import MeteorError, OperatorError
from sopremo.expressions.nodes import (ArrayProjection, ElementRef, Expression, FunctionCall, Lambda, LambdaParam,
                                       map_children)
from sopremo.function import Aggregation
from sopremo.quick_dataclass import dataclass
from sopremo.values import MISSING, type_name


@dataclass(frozen=True)
class AggregationSplit:
    """An aggregation argument taken apart: fold ``element`` (reading ``LambdaParam(param)``) over ``base``."""

    base: Expression
    element: Expression
    param: str


def is_aggregation_call(expr: Expression) -> bool:
    """Whether ``expr`` calls an aggregation function with one argument."""
    return (isinstance(expr, FunctionCall) and getattr(expr.function, "aggregation", None) is not None
            and len(expr.args) == 1)


def _projections(expr: Expression) -> list[ArrayProjection]:
    """The outermost projections of ``expr``, not looking into nested aggregation calls or function values (a
    lambda's body is evaluated on its own: ``count(filter($a, fn(x) { x in $g[*].k }))`` counts ``$a``'s items)."""
    if isinstance(expr, ArrayProjection):
        return [expr]
    if is_aggregation_call(expr) or isinstance(expr, Lambda):
        return []
    found: list[ArrayProjection] = []
    for child in expr.children():
        found.extend(_projections(child))
    return found


def _bind_element(expr: Expression, param: LambdaParam) -> Expression:
    """``expr`` with the ``ElementRef`` of the enclosing projection replaced by ``param``.

    Element references inside a nested projection's element belong to that projection and stay.
    """
    if isinstance(expr, ElementRef):
        return param
    if isinstance(expr, ArrayProjection):
        return ArrayProjection(_bind_element(expr.base, param), expr.element)
    return map_children(expr, lambda child: _bind_element(child, param))


def _replace_projections(expr: Expression, base: Expression, param: LambdaParam) -> Expression:
    if isinstance(expr, ArrayProjection) and expr.base == base:
        return _bind_element(expr.element, param)
    if is_aggregation_call(expr) or isinstance(expr, Lambda):
        return expr
    return map_children(expr, lambda child: _replace_projections(child, base, param))


def split_aggregation(argument: Expression, param: str) -> AggregationSplit | None:
    """The per-element form of an aggregation argument, or None when it holds no projection.

    Raises MeteorError when the argument projects over more than one distinct array (``sum($a[*].x + $b[*].y)``
    has no element-at-a-time meaning).
    """
    projections = _projections(argument)
    if not projections:
        return None
    base = projections[0].base
    if any(p.base != base for p in projections[1:]):
        raise MeteorError("the argument of an aggregation projects over several different arrays "
                          "([*] must always follow the same array)")
    return AggregationSplit(base, _replace_projections(argument, base, LambdaParam(param)), param)


def _as_items(value: Any, name: str) -> Any:
    """The elements an aggregation folds: an array's items (a spilled group's, read from its file); none for
    missing/null; else OperatorError."""
    if type(value) is list or type(value) is tuple or type(value) is SpilledGroup:
        return value
    if value is MISSING or value is None:
        return ()
    raise OperatorError(f"{name}() aggregates an array, got {type_name(value)}")


def make_fold(aggregation: Aggregation, name: str) -> Callable[..., Any]:
    """``run(array, element=None)``: fold ``element(item)`` (or the items) with ``aggregation``.

    A missing or null array folds nothing (``sum`` gives 0, ``count`` 0, ``min`` null, ``mean`` missing). An
    aggregation with a ``length`` (``count``) of a whole array is that of its length, without a pass over it.
    """
    initial, add, result, length = aggregation.initial, aggregation.add, aggregation.result, aggregation.length

    def run(array: Any, element: Callable[[Any], Any] | None = None) -> Any:
        items = array if type(array) is list else _as_items(array, name)
        if length is not None and element is None:
            return length(len(items))
        acc = initial()
        if element is None:
            for item in items:
                acc = add(acc, item)
        else:
            for item in items:
                acc = add(acc, element(item))
        return result(acc)

    return run
