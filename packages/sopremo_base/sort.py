"""``sort $in on <expr> [order 'ASCENDING'|'DESCENDING']``: a total, stable order of a data set.

A PACT Reduce with no key (one global group) whose ``group_order`` is the sort key; the function sorts once
more (stable, a no-op pass on already sorted input) so the order holds on every executor. The function is
marked ``sorts_only`` (it only reorders its group), so the optimizer may range-partition a large input and
sort the ranges on all cores instead of gathering it into one partition (VLDB J. 2014, sec. 6.3). Values of
different types sort by the fixed cross-type order of sopremo.values.sort_key (meteor-language.md).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from sopremo.api import CONSTANT, EXPRESSION, ElementaryOperator, Expression, PropertySpec, Reduce, sort_key

from . import package
from .keys import compile_expr, contract_args

ORDERS = ("ASCENDING", "DESCENDING")


def order_key(expr: Expression | None) -> Callable[[Any], Any]:
    """``record -> sort_key(expr(record))`` (the whole record when ``expr`` is None)."""
    if expr is None:
        return sort_key
    f = compile_expr(expr, 1)
    return lambda record: sort_key(f(record))


def is_descending(order: str | None) -> bool:
    """Whether an ``order`` property value (case-insensitive) asks for a descending order."""
    return (order or "ASCENDING").upper() == "DESCENDING"


@package.operator
class Sort(ElementaryOperator):
    """Sorts the records by ``on`` (default: the whole record), ascending unless ``order 'DESCENDING'``.

    In: one data set; out: the same records in order, equal keys in input order. Runs at DOP 1, or on key
    ranges in parallel when the optimizer range-partitions a large input.
    """

    verb = "sort"
    doc = "sort $in on <expr> [order 'ASCENDING'|'DESCENDING']: records ordered by the expression"
    properties = (
        PropertySpec("on", "key", EXPRESSION, doc="the sort key computed from the record (default: the record)"),
        PropertySpec("order", "order", CONSTANT, default="ASCENDING", choices=ORDERS, aliases=("direction",),
                     doc="'ASCENDING' (default) or 'DESCENDING'"),
    )

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        key, descending = order_key(self.key), is_descending(self.order)

        def sort_group(_key: Any, group: list[Any]) -> Iterable[Any]:
            return sorted(group, key=key, reverse=descending)

        sort_group.sorts_only = True  # type: ignore[attr-defined]  # splits by key range (pact_backend.optimizer)
        return Reduce(key=None, udf=sort_group, group_order=(key, descending), **contract_args(self, inputs))
