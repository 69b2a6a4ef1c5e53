"""Pairs of records: the condition rewrite for one-argument similarities, record identity, key helpers.

Representation: a duplicate condition is compiled over a *pair*, ``InputRef(0)`` the left record and
``InputRef(1)`` the right one, i.e. into a closure ``cond(left, right)``. ``detect duplicates $p in $in where
levenshtein($p.name) >= 0.7`` is rewritten to ``levenshtein(left.name, right.name) >= 0.7``; any other use of
``$p`` in the condition reads the left record. ``link records $a, $b`` is already over two inputs; there a
one-argument ``jaro($a.name)`` means ``jaro($a.name, $b.name)``.

Identity: a record is identified by its *canonical text* (sorted-key JSON). Pairs are oriented so that the left
record's canonical text is the smaller one; records equal as JSON values are one record and never a pair.
"""

from __future__ import annotations

import json

from typing import Any, Callable

import orjson

from sopremo.api import (MISSING, Expression, FunctionCall, InputRef, ObjectConstruction, PropertyError, TagMapping,
                         compile_expression, hashable, input_refs, map_children, replace_inputs, sort_key)


def canonical(record: Any) -> bytes:
    """The canonical text of a record (JSON with sorted keys), its identity in pairs and clusters. Integers
    beyond 64 bits (which orjson cannot write) keep all their digits: such a record is written by the
    standard json module instead, with the same separators."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode()


def wrap(record: Any) -> tuple[bytes, Any]:
    """``(canonical text, record)``: how records travel between the internal detection contracts."""
    return canonical(record), record


def mirror(expr: Expression, left: int, right: int) -> tuple[Expression, Expression]:
    """``expr`` over one input read once on the ``left`` and once on the ``right`` input of a pair."""
    refs = input_refs(expr)
    if len(refs) != 1:
        raise PropertyError("a one-argument similarity needs a path of one record, such as levenshtein($p.name)",
                            "where")
    k = next(iter(refs))
    return replace_inputs(expr, {k: InputRef(left)}), replace_inputs(expr, {k: InputRef(right)})


def pairwise(expr: Expression, functions: frozenset[int]) -> Expression:
    """``expr`` with every one-argument call of a similarity in ``functions`` (ids) expanded to both records."""
    if isinstance(expr, FunctionCall) and len(expr.args) == 1 and id(expr.function) in functions:
        return FunctionCall(expr.name, expr.function, mirror(expr.args[0], 0, 1))
    return map_children(expr, lambda child: pairwise(child, functions))


def compile_pair_condition(expr: Expression, functions: frozenset[int]) -> Callable[[Any, Any], Any]:
    """The condition as a closure ``cond(left, right)`` (compiled once)."""
    return compile_expression(pairwise(expr, functions), 2)


def compile_one(expr: Expression, slot: int = 0) -> Callable[[Any], Any]:
    """``expr`` over input ``slot`` compiled as a closure of one record."""
    return compile_expression(replace_inputs(expr, {slot: InputRef(0)}), 1)


def key_list(value: Any) -> list[Expression]:
    """A key property as a list: ``[k1, k2]`` (ArrayConstruction, multi-pass) or one key."""
    items = getattr(value, "items", None)
    if items is not None and type(value).__name__ == "ArrayConstruction":
        return list(items)
    return [value]


def link_keys(value: Any, prop: str) -> list[tuple[Expression, Expression]]:
    """``{$a.x : $b.y, ...}`` (one pass per entry), ``[...]`` of those, or a one-record key mirrored."""
    pairs: list[tuple[Expression, Expression]] = []
    for item in key_list(value):
        if isinstance(item, ObjectConstruction):
            for entry in item.entries:
                if not isinstance(entry, TagMapping):
                    raise PropertyError(f"'{prop}' of link records expects {{$a.key : $b.key}}", prop)
                pairs.append(_sided(entry.target, entry.value, prop))
        else:
            pairs.append(mirror(item, 0, 1))
    return pairs


def _sided(a: Expression, b: Expression, prop: str) -> tuple[Expression, Expression]:
    if input_refs(a) == {1} and input_refs(b) == {0}:
        a, b = b, a
    if input_refs(a) != {0} or input_refs(b) != {1}:
        raise PropertyError(f"'{prop}' of link records pairs a key of the first input with one of the second", prop)
    return a, b


def block_key(f: Callable[[Any], Any]) -> Callable[[tuple], Any]:
    """A key function over wrapped records; a missing or null key puts the record in no block (None)."""
    def key(item: tuple) -> Any:
        value = f(item[1])
        return None if value is MISSING or value is None else hashable(value)
    return key


def order_key(f: Callable[[Any], Any], index: int = 1) -> Callable[[tuple], Any]:
    """A sort key over wrapped records: the cross-type order of ``f(item[index])``, then the canonical text."""
    def key(item: tuple) -> Any:
        value = f(item[index])
        return sort_key(None if value is MISSING else value), item[0]
    return key
