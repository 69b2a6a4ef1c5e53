"""``transform $in [into <expr>]``: the relational projection of sopremo-base (VLDB J. 2014, Table 1; a PACT Map).

Without ``into`` every record stays as it is, as the original's Projection, whose projection defaulted to the
record itself.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import EXPRESSION, ElementaryOperator, Map, PropertySpec, RecordFlow, expressions

from . import package
from .keys import compile_expr, contract_args


@package.operator
class Projection(ElementaryOperator):
    """Replaces every record by the value of its ``into`` expression (one output record per input record).

    In: one data set; out: the projected values, in input order. The original's Projection.
    """

    verb = "transform"
    min_inputs = max_inputs = 1
    doc = "transform $in [into <expr>]: one output value per record"
    properties = (
        PropertySpec("into", "projection", EXPRESSION, default=expressions.InputRef(0),
                     doc="the output value computed from the record (default: the record itself)"),
    )

    def record_flow(self) -> RecordFlow:
        """One ``into`` value per record."""
        return RecordFlow.map(self.projection, attr="projection")

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        projection = compile_expr(self.projection, 1)

        def project(records: Iterator[Any]) -> Iterable[Any]:
            return map(projection, records)

        return Map(udf=project, **contract_args(self, inputs))
