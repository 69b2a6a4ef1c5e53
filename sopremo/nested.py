"""Nested operators and side channels inside an operator's expressions: finding them, the data sets they read and
rewriting what they refer to (the helpers of ``sopremo.decorrelate``).

A ``NestedOperator`` node holds an operator bound over data sets of the script whose expressions read the
enclosing operator's records through ``OuterRef(index, level)``; a ``DataSetRef`` node reads a whole data set as
an array. Both are expression values, so the streams they read are no inputs of the operator that holds them:
``expression_streams`` lists them (``SopremoPlan.operators`` walks them too) and ``map_streams`` rewires them.
Only EXPRESSION and BINDING properties hold such expressions (an OPERATORS property holds operators its operator
interprets itself, e.g. ``transform records``).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

from sopremo.expressions.nodes import (DataSetRef, Expression, InputRef, NestedOperator, OuterRef,
                                       map_children)
from sopremo.operator import BINDING, EXPRESSION, JsonStream, Operator

Nested = NestedOperator | DataSetRef


def expressions_in(value: Any) -> Iterator[Expression]:
    """The expressions inside a property value: the value itself, or the items of a per-input tuple or of a
    BINDING pair ``(name, expression)``."""
    if isinstance(value, Expression):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from expressions_in(item)


def property_expressions(op: Operator) -> list[Expression]:
    """The expressions ``op``'s properties hold directly: a property's value, or the items of a per-input
    tuple (not those inside BINDING pairs)."""
    values = []
    for _, value in op.property_values():
        items = value if isinstance(value, tuple) else (value,)
        values.extend(v for v in items if isinstance(v, Expression))
    return values


def _map_value(value: Any, transform: Callable[[Expression], Expression]) -> Any:
    if isinstance(value, Expression):
        return transform(value)
    if isinstance(value, tuple):
        return tuple(_map_value(item, transform) for item in value)
    return value


def expression_values(op: Operator) -> Iterator[tuple[str, Any]]:
    """(attribute, value) of the properties of ``op`` that hold expressions over its inputs."""
    for spec, value in op.property_values():
        if spec.kind in (EXPRESSION, BINDING) and value is not None:
            yield spec.attr, value


def with_expressions(op: Operator, transform: Callable[[Expression], Expression]) -> Operator:
    """``op``, or a shallow copy of it with ``transform`` applied to every expression of its properties."""
    changes = {}
    for attr, value in expression_values(op):
        new = _map_value(value, transform)
        if any(a is not b for a, b in zip(expressions_in(new), expressions_in(value))):
            changes[attr] = new
    if not changes:
        return op
    new_op = copy.copy(op)
    for attr, value in changes.items():
        setattr(new_op, attr, value)
    return new_op


def nested_nodes(expr: Expression) -> Iterator[Nested]:
    """The nested operators and data set references of ``expr`` in pre-order, not looking inside nested
    operators' own properties."""
    if isinstance(expr, (NestedOperator, DataSetRef)):
        yield expr
    for child in expr.children():
        yield from nested_nodes(child)


def nested_in(op: Operator) -> list[Nested]:
    """The nested operators and data set references of all expressions of ``op``, in property order."""
    return [node for _, value in expression_values(op) for expr in expressions_in(value)
            for node in nested_nodes(expr)]


def expression_streams(op: Operator) -> list[JsonStream]:
    """The streams the expressions of ``op`` read as values: data sets named inside them, and the inputs (and,
    in turn, expression streams) of their nested operators."""
    streams: list[JsonStream] = []
    for node in nested_in(op):
        if isinstance(node, DataSetRef):
            streams.append(node.stream)
        else:
            streams.extend(node.operator.inputs)
            streams.extend(expression_streams(node.operator))
    return streams


def map_streams(op: Operator, rewire: Callable[[JsonStream], JsonStream]) -> Operator:
    """``op``, or a copy whose expressions read ``rewire(s)`` wherever they read the stream ``s`` (nested
    operators are copied with rewired inputs)."""

    def node(expr: Expression) -> Expression:
        if isinstance(expr, DataSetRef):
            stream = rewire(expr.stream)
            return expr if stream is expr.stream else DataSetRef(stream, expr.span)
        if isinstance(expr, NestedOperator):
            inner = map_streams(expr.operator, rewire)
            inputs = [rewire(s) for s in inner.inputs]
            if any(a is not b for a, b in zip(inputs, inner.inputs)):
                inner = copy.copy(inner)
                inner.inputs = inputs
            return expr if inner is expr.operator else NestedOperator(inner)
        return map_children(expr, node)

    return with_expressions(op, node)


def substitute_refs(expr: Expression, swap: Callable[[Expression, int], Expression | None],
                    level: int = 0) -> Expression:
    """``expr`` with every ``InputRef`` / ``OuterRef`` node replaced by ``swap(node, level)`` when that is not
    None; ``level`` counts the nested operators entered (0 = the operator holding ``expr``), so
    ``OuterRef(i, level)`` met inside them denotes the same record as ``InputRef(i)`` at level 0."""
    if isinstance(expr, (InputRef, OuterRef)):
        new = swap(expr, level)
        return expr if new is None else new
    if isinstance(expr, NestedOperator):
        inner = with_expressions(expr.operator, lambda e: substitute_refs(e, swap, level + 1))
        return expr if inner is expr.operator else NestedOperator(inner)
    return map_children(expr, lambda child: substitute_refs(child, swap, level))


def refers_to(expr: Expression, index: int, level: int) -> bool:
    """Whether ``expr`` reads the input ``index`` of the operator ``level`` steps out of it (level 0: its own
    ``InputRef``), looking inside nested operators."""
    return bool(enclosing_inputs(expr, level) & {index})


def enclosing_inputs(expr: Expression, level: int = 1) -> set[int]:
    """The inputs of the operator ``level`` steps out that ``expr`` reads (level 0: ``InputRef`` indexes),
    looking inside nested operators (where that operator is one level further out)."""
    found: set[int] = set()

    def visit(node: Expression, depth: int) -> None:
        if isinstance(node, InputRef) and depth == 0:
            found.add(node.index)
        elif isinstance(node, OuterRef) and node.level == depth:
            found.add(node.index)
        elif isinstance(node, NestedOperator):
            for _, value in expression_values(node.operator):
                for inner in expressions_in(value):
                    visit(inner, depth + 1)
        else:
            for child in node.children():
                visit(child, depth)

    visit(expr, level)
    return found


def outer_levels(op: Operator) -> set[int]:
    """The levels of the enclosing operators that the nested operator ``op`` reads (1: the operator holding it)."""
    levels: set[int] = set()

    def visit(node: Expression, depth: int) -> None:
        if isinstance(node, OuterRef) and node.level > depth:
            levels.add(node.level - depth)
        elif isinstance(node, NestedOperator):
            for _, value in expression_values(node.operator):
                for inner in expressions_in(value):
                    visit(inner, depth + 1)
        else:
            for child in node.children():
                visit(child, depth)

    for _, value in expression_values(op):
        for expr in expressions_in(value):
            visit(expr, 0)
    return levels
