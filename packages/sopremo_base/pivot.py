"""``pivot $in around $v = <path> into {...}``: restructure a data set around a pivot value (VLDB J. 2014, Table 1).

One output record per distinct pivot value, computed from the records that carry it: when the path yields an
array (``$a.annotations[*].entity``) every distinct element is a pivot value of that record. A composite of a
Map emitting ``[value, record]`` pairs and a Reduce by value.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import (BINDING, EXPRESSION, MISSING, CompositeOperator, ElementaryOperator, Expression,
                         FieldAssignment, InputRef, JsonStream, Map, ObjectConstruction, PropertyError, PropertySpec,
                         Reduce, Var, hashable)

from . import package
from .keys import compile_expr, contract_args, internal


class PivotPairs(ElementaryOperator):
    """Map: ``[value, record]`` for each distinct pivot value of each record (a missing value gives none)."""

    verb = ""

    def __init__(self, inputs: list, *, around: Expression):
        super().__init__(inputs)
        self.around = around

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        around = compile_expr(self.around, 1)

        def pairs(records: Iterator[Any]) -> Iterable[list]:
            for record in records:
                value = around(record)
                values = value if isinstance(value, list) else [value]
                seen = set()
                for v in values:
                    key = hashable(v)
                    if v is not MISSING and key not in seen:
                        seen.add(key)
                        yield [v, record]

        return Map(udf=pairs, **contract_args(self, inputs))


class PivotGroups(ElementaryOperator):
    """Reduce by pivot value: ``projection`` with the input variable = the records (input order) and the bound
    variable ``name`` = the pivot value."""

    verb = ""

    def __init__(self, inputs: list, *, name: str, projection: Expression):
        super().__init__(inputs)
        self.variable, self.projection = name, projection

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        projection = compile_expr(self.projection, 1, (self.variable,))

        def group(_key: Any, pairs: list[list]) -> Iterable[Any]:
            yield projection([record for _, record in pairs], pairs[0][0])

        return Reduce(key=lambda pair: hashable(pair[0]), udf=group, **contract_args(self, inputs))


@package.operator
class Pivot(CompositeOperator):
    """One record per distinct value of ``around``. In: one data set; out: the ``into`` values. Default
    ``into``: ``{<v>: value, records: [...]}``. Raises PropertyError when ``around`` is no ``$v = <expr>``."""

    verb = "pivot"
    doc = "pivot $in around $v = <path> into {...}: one record per distinct value, over the records carrying it"
    properties = (
        PropertySpec("around", "around", BINDING, required=True,
                     doc="$v = <expr>: the pivot value(s) of a record; an array gives one value per element"),
        PropertySpec("into", "projection", EXPRESSION,
                     doc="output per pivot value; the input variable is the array of records, $v the value"),
    )

    def validate(self) -> None:
        super().validate()
        around = self.around
        if not (isinstance(around, tuple) and len(around) == 2 and isinstance(around[0], str)
                and isinstance(around[1], Expression)):
            raise PropertyError("pivot: 'around' must bind a variable: around $v = <expr>", "around")

    def expand(self) -> list[JsonStream]:
        name, around = self.around
        projection = self.projection
        if projection is None:
            projection = ObjectConstruction((FieldAssignment(name, Var(name)), FieldAssignment("records", InputRef(0))))
        pairs = internal(PivotPairs, self.inputs, self, "pairs", around=around)
        groups = internal(PivotGroups, [pairs.output()], self, "groups", name=name, projection=projection)
        return [groups.output()]
