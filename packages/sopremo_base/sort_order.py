"""The order of a ``sort``: key parts with their directions, turned into one key function for a PACT group order.

A sort key is one expression, or an array whose elements are compared in turn; an element (or the key) may carry
its own direction (``[$x.a desc, $x.b]``, a ``Directed`` node), the others take the ``order`` property's.
Values of different types compare by the fixed cross-type order of ``sort_key`` (docs/language.md,
"Comparisons, casts and sets"). When all parts go one way the key is ``sort_key`` of the value (the whole key array), sorted in reverse for a
descending order; with mixed directions the order goes the last part's way and every part going the other way
is wrapped in ``Descending``, whose comparisons are reversed, so one sort serves every part. Either way the
sort stays stable.
"""

from __future__ import annotations

from typing import Any, Callable

from sopremo.api import ArrayConstruction, Directed, Expression, Key, render, sort_key

from .keys import compile_expr

ORDERS = ("ASCENDING", "DESCENDING", "asc", "desc")
DIRECTIONS = (("asc", False), ("desc", True), ("ascending", False), ("descending", True))


def is_descending(order: str | None) -> bool:
    """Whether an ``order`` property value (case-insensitive) asks for a descending order."""
    return (order or "ASCENDING").upper() in ("DESCENDING", "DESC")


def order_key(expr: Expression | None) -> Callable[[Any], Any]:
    """``record -> sort_key(expr(record))`` (the whole record when ``expr`` is None); a new function each time."""
    if expr is None:
        return lambda record: sort_key(record)
    f = compile_expr(expr, 1)
    return lambda record: sort_key(f(record))


class Descending:
    """A sort key compared the other way round (``Descending(a) < Descending(b)`` iff ``b < a``), for the
    descending parts of a key with mixed directions. Picklable (range boundaries travel to the workers)."""

    __slots__ = ("key",)

    def __init__(self, key: Any):
        self.key = key

    def __lt__(self, other: "Descending") -> bool:
        return other.key < self.key

    def __gt__(self, other: "Descending") -> bool:
        return self.key < other.key

    def __le__(self, other: "Descending") -> bool:
        return not self.key < other.key

    def __ge__(self, other: "Descending") -> bool:
        return not other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __getstate__(self) -> Any:
        return self.key

    def __setstate__(self, key: Any) -> None:
        self.key = key


def key_parts(key: Expression | None, descending: bool) -> list[tuple[Expression | None, bool]]:
    """(expression, descending) per part of a sort key; parts without a direction take ``descending``."""
    if isinstance(key, Directed):
        return [(key.operand, key.descending)]
    if isinstance(key, ArrayConstruction) and any(isinstance(item, Directed) for item in key.items):
        return [(item.operand, item.descending) if isinstance(item, Directed) else (item, descending)
                for item in key.items]
    return [(key, descending)]


def group_order(key: Expression | None, descending: bool) -> tuple[Key, bool]:
    """The PACT group order ``(key, descending)`` of a sort on ``key``. The order goes the last part's way;
    parts going the other way compare reversed (``Descending``). The Key's ``description`` (explain) names the
    parts with their directions, the last one's being the order's (``$0.a desc, $0.b``)."""
    parts = key_parts(key, descending)
    last = parts[-1][1]
    if all(d == last for _, d in parts):
        exprs = [e for e, _ in parts]
        function = order_key(exprs[0] if len(exprs) == 1 else ArrayConstruction(tuple(exprs)))
    else:
        functions = [(order_key(e), d != last) for e, d in parts]

        def function(record: Any) -> tuple:
            return tuple(Descending(f(record)) if reverse else f(record) for f, reverse in functions)

    names = ["the record" if e is None else render(e) for e, _ in parts]
    description = ", ".join([f"{name} {'desc' if d else 'asc'}" for name, (_, d) in zip(names, parts[:-1])]
                            + names[-1:])
    return Key(function, description), last
