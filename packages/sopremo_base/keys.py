"""Helpers shared by the base operators: compiled expressions, key functions, paths, internal operators.

Keys follow the hand-off's rule: a key function is ``record -> sopremo.values.hashable(value)``, so values that
Meteor considers equal (``1`` and ``1.0``, equal objects) land in one group (VLDB J. 2014, sec. 5.1: PACT keys).
Every key is a ``Key`` declaring a ``description``: its key expression rendered over ``$0`` (equal descriptions =
equal keys), which lets the optimizer reuse a partitioning across operators (interesting properties, sec. 6.3);
``kept_group_keys`` tells which group keys a ``group ... into`` copies into its output (``Hints.kept_keys``).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from sopremo.api import (MISSING, ArrayIndex, Constant, Expression, FieldAccess, FieldAssignment, InputRef,
                         Key, ObjectConstruction, Operator, OperatorError, PropertyError, compile_expression, hashable,
                         render, replace_inputs, to_json)


def compile_expr(expr: Expression, arity: int = 1, variables: tuple[str, ...] = ()) -> Callable[..., Any]:
    """``expr`` compiled once to a closure of ``arity`` input values plus one value per variable name.

    Thin wrapper over ``sopremo.api.compile_expression``.
    """
    return compile_expression(expr, arity, variables)


def key_function(expr: Expression | None) -> Key:
    """The PACT key ``record -> hashable(expr(record))`` described by ``expr``; ``None`` keys by the whole
    record."""
    if expr is None:
        return Key(hashable)
    f = compile_expr(expr, 1)
    return describe_key(lambda record: hashable(f(record)), expr)


def describe_key(function: Callable[[Any], Any], expr: Expression) -> Key:
    """``function`` as a Key described by ``expr`` rendered (``expr`` reads the record as ``InputRef(0)``). The
    optimizer treats keys of equal descriptions as equal."""
    return Key(function, render(expr))


def kept_group_keys(projection: Expression | None, key: Expression | None) -> dict[str, str]:
    """{description of the group key: description of the output key of equal value} for a ``group ... by key
    into projection``: an output field ``f: $g[0].path`` (the first record's key path, the group's key) keeps
    the key, so the output is partitioned on ``$0.f`` wherever the input was partitioned on ``key``."""
    if key is None or not isinstance(projection, ObjectConstruction):
        return {}
    if not all(isinstance(entry, FieldAssignment) for entry in projection.entries):
        return {}  # a copy of whole records may overwrite any field
    names = [entry.name for entry in projection.entries]
    first = ArrayIndex(InputRef(0), Constant(0))
    for entry in projection.entries:
        if names.count(entry.name) == 1 and replace_first(entry.value, first) == key:
            return {render(key): render(FieldAccess(InputRef(0), entry.name))}
    return {}


def replace_first(expr: Expression, first: Expression) -> Expression | None:
    """``expr`` with its path base ``first`` (``$g[0]``) replaced by ``$0``; None when it is no such path."""
    if expr == first:
        return InputRef(0)
    if isinstance(expr, FieldAccess) and not expr.safe:
        base = replace_first(expr.base, first)
        return None if base is None else FieldAccess(base, expr.name)
    if isinstance(expr, ArrayIndex) and isinstance(expr.index, Constant) and not expr.safe:
        base = replace_first(expr.base, first)
        return None if base is None else ArrayIndex(base, expr.index)
    return None


def join_key_function(functions: list[Callable[[Any], Any]], missing_key: Any) -> Callable[[Any], Any]:
    """The key function of an equi-join over ``functions`` (each record -> a JSON value): the value itself for
    one string or integer (their own keys, the usual join keys), else ``hashable`` of it, a tuple of them for
    several; ``missing_key`` when a part is missing (a missing join key matches nothing, as SQL's NULL)."""
    if len(functions) == 1:
        f = functions[0]

        def single(record: Any) -> Any:
            value = f(record)
            kind = type(value)
            if kind is str or kind is int:
                return value
            return missing_key if value is MISSING else hashable(value)
        return single

    def composite(record: Any) -> Any:
        key = []
        for f in functions:
            value = f(record)
            kind = type(value)
            if kind is str or kind is int:
                key.append(value)
            elif value is MISSING:
                return missing_key
            else:
                key.append(hashable(value))
        return tuple(key)
    return composite


def whole_value_key(record: Any) -> Any:
    """The key of set operators: the whole JSON value (docs/language.md, "Comparisons, casts and sets")."""
    return hashable(record)


def constant_key(record: Any) -> Any:
    """A key putting every record into one group (global co-group)."""
    return 0


def per_input(value: Any, count: int) -> tuple:
    """A per-input property value as a tuple of ``count`` entries (``None`` where not given).

    The binder passes a tuple; Python callers may pass a single Expression for the first input.
    """
    if value is None:
        return (None,) * count
    if isinstance(value, Expression):
        value = (value,)
    items = tuple(value)
    return items + (None,) * (count - len(items))


def to_slot(expr: Expression, slot: int) -> Expression:
    """``expr`` over input ``slot`` rewritten to read ``InputRef(0)`` instead (to compile it with arity 1)."""
    return replace_inputs(expr, {slot: InputRef(0)})


# ---- paths ----------------------------------------------------------------------------------------------------

PathStep = tuple[str, Any]  # ('field', name) or ('index', int)


def path_steps(expr: Expression, prop: str) -> list[PathStep]:
    """The steps of a path ``$r.a.b[0]`` rooted at ``InputRef(0)``; raises PropertyError naming ``prop``.

    ``InputRef(0)`` alone (the whole record) is the empty path.
    """
    steps: list[PathStep] = []
    node = expr
    while not isinstance(node, InputRef):
        if isinstance(node, FieldAccess):
            steps.append(("field", node.name))
        elif isinstance(node, ArrayIndex) and isinstance(node.index, Constant) and isinstance(node.index.value, int):
            steps.append(("index", node.index.value))
        else:
            raise PropertyError(f"property {prop!r} must be a path such as $r.field.sub[0]", prop)
        node = node.base
    if node.index != 0:
        raise PropertyError(f"property {prop!r} must be a path of the operator's input", prop)
    return steps[::-1]


def set_path(record: Any, steps: list[PathStep], value: Any) -> Any:
    """A copy of ``record`` with ``value`` at ``steps`` (copies only the containers on the path).

    A missing object on the way is created; an index outside an array or a non-container on the way raises
    OperatorError naming the record.
    """
    if not steps:
        return value
    kind, name = steps[0]
    if kind == "field":
        if record is MISSING or record is None:
            record = {}
        if not isinstance(record, dict):
            raise OperatorError(f"cannot set field {name!r} of a non-object in record {describe(record)}")
        copy = dict(record)
        copy[name] = set_path(record.get(name, MISSING), steps[1:], value)
        return copy
    if not isinstance(record, list) or not -len(record) <= name < len(record):
        raise OperatorError(f"cannot set index {name} in record {describe(record)}")
    copy = list(record)
    copy[name] = set_path(record[name], steps[1:], value)
    return copy


def describe(value: Any, limit: int = 200) -> str:
    """A short JSON rendering of ``value`` for error messages."""
    text = json.dumps(to_json(value), default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- internal operators -----------------------------------------------------------------------------------------


def internal(cls: type, inputs: list, parent: Operator, suffix: str, **props: Any) -> Operator:
    """An internal operator of ``parent``'s expansion: inherits its DOP hint and source span; named after it."""
    op = cls(inputs=list(inputs), **props)
    op.dop = parent.dop
    op.source_span = parent.source_span
    op.name = f"{parent.display_name()}/{suffix}"
    return op


def contract_args(op: Operator, inputs: list, dop: int | None = None) -> dict[str, Any]:
    """The common keyword arguments of a contract built for ``op``: name, input contracts, DOP."""
    return {"name": op.display_name(), "inputs": list(inputs), "dop": dop if dop is not None else op.dop}
