"""Fused hot loops for grouping: one generated function folds every aggregation of a group, one computes a key.

A ``group ... into`` with several aggregations (TPC-H Q1 has eight) would otherwise call one compiled element
function and one ``Aggregation.add`` per aggregation and record. ``compile_fold`` generates a single Python loop
over the group that evaluates every element expression inline and adds numbers to local accumulators (``sum``,
``count``, ``mean`` inline; other aggregations through their ``add``), the way sec. 7 of VLDB J. 2014 compiles a
UDF once per task. ``compile_key`` does the same for ``hashable(key(record))``. Both give exactly the results of
the generic path (same order of additions); on any error the caller falls back to the generic path, which
raises the user-facing error.
"""

from __future__ import annotations

from typing import Any, Callable

from sopremo.expressions.codegen import Generator
from sopremo.expressions.nodes import ArrayConstruction, Expression, FieldAccess, Var, map_children
from sopremo.values import hashable

_RANK_ARRAY = hashable([])[0]  # the tag hashable() puts in front of an array's items
_NO_FIELDS: dict = {}


def aggregation_kind(aggregation: Any) -> str:
    """'sum', 'count' or 'mean' for the built-in aggregations folded inline, else 'generic'."""
    from sopremo.functions.aggregations import AGGREGATIONS

    for name in ("sum", "count", "mean"):  # by function: an unpickled plan holds copies of the Aggregations
        if AGGREGATIONS[name][0].add is aggregation.add:
            return name
    return "generic"


def _slot_lines(i: int, kind: str, value: str) -> list[str]:
    """Statements adding ``value`` (a Python name) to the accumulator(s) of slot ``i``."""
    if kind == "sum":
        return [f"if type({value}) in _NUM: a{i} += {value}", f"else: a{i} = _add{i}(a{i}, {value})"]
    if kind == "count":
        return [f"a{i} += 1"]
    if kind == "mean":
        return [f"if type({value}) in _NUM:", f"    a{i} += {value}", f"    n{i} += 1",
                f"else: a{i}, n{i} = _add{i}([a{i}, n{i}], {value})"]
    return [f"a{i} = _add{i}(a{i}, {value})"]


def compile_fold(slots: list[tuple[Any, Expression | None]], element: str, partial: type
                 ) -> Callable[[list[Any]], list[Any]]:
    """``fold(group) -> accumulators`` for ``slots`` of (Aggregation, element expression over ``Var(element)``,
    None = the item itself); ``partial`` items (with ``.accumulators``) are merged in place of records.

    The result equals folding every slot's ``add`` (and ``merge`` for partials) over the group in order; the
    function raises whatever a failing element raises (callers re-fold generically for the precise error).
    """
    names = _read_fields([expr for _, expr in slots], element)
    generator = Generator(0, (element, *(_FIELD + name for name in names)))
    item = generator.variables[element]
    kinds = [aggregation_kind(aggregation) for aggregation, _ in slots]
    init, merge, body, values = [], [], [], []  # values: (element expression, Python name) already computed
    for i, ((aggregation, expr), kind) in enumerate(zip(slots, kinds)):
        generator.namespace.update({f"_init{i}": aggregation.initial, f"_add{i}": aggregation.add,
                                    f"_merge{i}": aggregation.merge})
        init.append(f"a{i}, n{i} = _init{i}()" if kind == "mean" else f"a{i} = _init{i}()")
        merge.append(f"a{i}, n{i} = _merge{i}([a{i}, n{i}], _acc[{i}])" if kind == "mean"
                     else f"a{i} = _merge{i}(a{i}, _acc[{i}])")
        value = item if expr is None else next((name for e, name in values if e == expr), None)
        if value is None:  # a new element expression (an equal one of an earlier slot is reused)
            value = f"_x{i}"
            body.append(f"{value} = {generator.emit(_hoist(expr, element, values)).text}")
            generator.variables[_SLOT + value] = value
            values.append((expr, value))
        body.extend(_slot_lines(i, kind, value))
    reads = [f"{generator.variables[_FIELD + name]} = {generator.record_fields(item)}.get({name!r}, MISSING)"
             for name in names]
    records = [f"{name} = {source} if type({source}) is dict else _NO_FIELDS"
               for source, name in generator.records.items()] + reads
    result = ", ".join(f"[a{i}, n{i}]" if kind == "mean" else f"a{i}" for i, kind in enumerate(kinds))
    pad = "\n" + " " * 8
    source = ("def _fused_fold(_group):\n    " + "\n    ".join(init) + f"\n    for {item} in _group:\n"
              f"        if type({item}) is _Partial:\n            _acc = {item}.accumulators\n            "
              + "\n            ".join(merge) + "\n            continue"
              + "".join(pad + line for line in records + body) + f"\n    return [{result}]\n")
    generator.namespace.update(_Partial=partial, _NO_FIELDS=_NO_FIELDS)
    function = generator.define(source, "_fused_fold")
    function.source = source
    return function


_FIELD = "__field "  # prefix of the variables holding a field of the element, read once per record
_SLOT = "__slot "  # prefix of the variables naming an element value computed for an earlier slot


def _read_fields(exprs: list[Expression | None], element: str) -> list[str]:
    """The fields read of the element (``element.name``, not ``?.``) in any of ``exprs``, in first-read order."""
    names: dict[str, None] = {}
    for expr in exprs:
        for node in expr.walk() if expr is not None else ():
            if isinstance(node, FieldAccess) and node.base == Var(element) and not node.safe:
                names[node.name] = None
    return list(names)


def _hoist(expr: Expression, element: str, done: list[tuple[Expression, str]]) -> Expression:
    """``expr`` with every field read of the element replaced by the variable holding it (read once), and every
    subexpression equal to an element computed before (``done``: expression, Python name) by that value."""
    if isinstance(expr, FieldAccess) and expr.base == Var(element) and not expr.safe:
        return Var(_FIELD + expr.name)
    for earlier, name in done:
        if expr == earlier:
            return Var(_SLOT + name)
    return map_children(expr, lambda child: _hoist(child, element, done))


def compile_key(expr: Expression, fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``key(record) == hashable(expr(record))``, generated inline (an array key builds its tuple directly).

    ``fallback`` (the generic key function) is called when the inline code raises, so errors stay the same.
    """
    generator = Generator(1, ())
    lines, value = key_code(generator, expr)
    records = [f"{name} = {source} if type({source}) is dict else _NO_FIELDS"
               for source, name in generator.records.items()]
    source = ("def _fused_key(_in0):\n    try:\n        " + "\n        ".join(records + lines)
              + f"\n        return {value}\n    except Exception:\n        return _fallback(_in0)\n")
    generator.namespace.update(_fallback=fallback, _NO_FIELDS=_NO_FIELDS)
    function = generator.define(source, "_fused_key")
    function.source = source
    return function


def key_code(generator: Generator, expr: Expression, scalar: bool = False) -> tuple[list[str], str]:
    """(statements, value): Python source computing ``hashable(expr)`` with ``generator``'s names in scope; the
    statements bind ``_k0``, ``_k1``, ... (one per item of an array key) and the value builds the key from them.
    ``scalar``: every item is known to be a string or a number other than a boolean, its own ``hashable``."""
    items = expr.items if isinstance(expr, ArrayConstruction) else (expr,)
    lines = [f"_k{i} = {generator.emit(item).text}" for i, item in enumerate(items)]
    plain = [f"_k{i}" if scalar else f"(_k{i} if type(_k{i}) is str else _hashable(_k{i}))"
             for i in range(len(items))]
    value = f"({_RANK_ARRAY!r}, ({', '.join(plain)},))" if isinstance(expr, ArrayConstruction) else plain[0]
    return lines, value
