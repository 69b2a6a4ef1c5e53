"""``filter $in [where <cond>]``: the relational selection of sopremo-base (VLDB J. 2014, Table 1; a PACT Map).

Without ``where`` every record passes, as the original's Selection, whose condition defaulted to true. The
operator declares itself a selection (``RecordFlow.select``: the rewrites move it, projection pushdown reads
through it); the Map declares its condition as its ``selection``, so a combiner's fusion hook
(``sopremo_base.batch_combine``) can filter batches of decoded rows in generated code, and a ``RowFilter`` as its
``batch_selection``, so a source stage that is not fused filters row batches before building records
(``sopremo_base.batch_filter``).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import EXPRESSION, ElementaryOperator, Map, PropertySpec, RecordFlow, compile_predicate, expressions

from . import package
from .batch_filter import RowFilter
from .keys import contract_args


@package.operator
class Selection(ElementaryOperator):
    """Keeps the records whose ``where`` condition is truthy (Meteor truthiness of sopremo.values.truthy).

    In: one data set; out: the records passing the condition, in input order. The original's Selection.
    """

    verb = "filter"
    min_inputs = max_inputs = 1
    doc = "filter $in [where <cond>]: keep the records whose condition holds"
    properties = (
        PropertySpec("where", "condition", EXPRESSION, default=expressions.Constant(True),
                     doc="condition over the record; records where it is truthy pass (default: all pass)"),
    )

    def record_flow(self) -> RecordFlow:
        """A selection on ``where``: the records pass unchanged (so the PACT Map keeps partitioning and order)."""
        return RecordFlow.select(self.condition, attr="condition")

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        condition = compile_predicate(self.condition, 1)  # returns a bool: the C-level ``filter`` applies it

        def select(records: Iterator[Any]) -> Iterable[Any]:
            return filter(condition, records)

        return Map(udf=select, selection=self.condition, batch_selection=RowFilter(),
                   **contract_args(self, inputs))
