"""``sort $in on <key> [order 'ASCENDING'|'DESCENDING'] [limit N]``: a total, stable order of a data set.

A PACT Reduce with no key (one global group) whose ``group_order`` is the sort key (``sort_order``: per-key
directions such as ``[$x.a desc, $x.b]``); the function sorts once more (stable, a no-op pass on already sorted
input) so the order holds on every executor. The Reduce declares ``sorts_only`` (its function only reorders
its group), so the optimizer may range-partition a large input and sort the ranges on all cores instead of
gathering it into one partition (VLDB J. 2014, sec. 6.3). ``limit N`` keeps the first N records (SQL's
``ORDER BY ... LIMIT``, which the original lacked): the Reduce declares the limit and the runtime keeps the first
N records of every partition in a bounded heap before the final order takes the first N (top-k).
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import CONSTANT, EXPRESSION, ElementaryOperator, PropertyError, PropertySpec, RecordFlow, Reduce

from . import package
from .keys import contract_args
from .sort_order import DIRECTIONS, ORDERS, group_order, is_descending


@package.operator
class Sort(ElementaryOperator):
    """Sorts the records by ``on`` (default: the whole record), ascending unless ``order 'DESCENDING'``; a key
    array compares its elements in turn, each ascending or descending on its own (``[$x.a desc, $x.b]``).
    ``limit N`` keeps only the first N records of the order.

    In: one data set; out: the same records in order (the first N with a limit), equal keys in input order.
    Runs at DOP 1, or on key ranges in parallel when the optimizer range-partitions a large input.
    """

    verb = "sort"
    doc = "sort $in on <expr> [order 'ASCENDING'|'DESCENDING'] [limit N]: records ordered by the expression"
    properties = (
        PropertySpec("on", "key", EXPRESSION, directions=DIRECTIONS,
                     doc="the sort key computed from the record (default: the record); in a key array "
                         "[$x.a desc, $x.b] each element may be followed by asc or desc"),
        PropertySpec("order", "order", CONSTANT, default="ASCENDING", choices=ORDERS, aliases=("direction",),
                     doc="'ASCENDING' (default) or 'DESCENDING' ('asc', 'desc'): the direction of keys without "
                         "their own"),
        PropertySpec("limit", "limit", CONSTANT,
                     doc="keep only the first N records of the order (top-k; an int >= 0)"),
    )

    def validate(self) -> None:
        super().validate()
        if self.limit is not None and (type(self.limit) is not int or self.limit < 0):
            raise PropertyError(f"property 'limit' of 'sort' must be an int >= 0, got {self.limit!r}", "limit")

    def record_flow(self) -> RecordFlow:
        """Copies the records (which ones and where they go depends on the others): reads the key, or the whole
        record when there is none."""
        return RecordFlow.copy(reads=(self.key,)) if self.key is not None else RecordFlow.copy(whole=(0,))

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        order = group_order(self.key, is_descending(self.order))
        key, descending = order

        def sort_group(_key: Any, group: list[Any]) -> Iterable[Any]:
            return sorted(group, key=key, reverse=descending)

        return Reduce(key=None, udf=sort_group, group_order=order, limit=self.limit, sorts_only=True,
                      **contract_args(self, inputs))
