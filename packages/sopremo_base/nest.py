"""``nest $in by <key> [into '<field>']`` and ``unnest $in on <arrayPath> [into <expr>]`` (VLDB J. 2014, Table 1).

The nested-relational pair: ``nest`` collects the records that share a key into an array field of one record
per key; ``unnest`` flattens an array field into one record per element.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import (CONSTANT, EXPRESSION, MISSING, ArrayConstruction, ElementaryOperator, Expression, FieldAccess,
                         FieldAssignment, Map, ObjectConstruction, OperatorError, PropertyError, PropertySpec, Reduce,
                         hashable)

from . import package
from .keys import compile_expr, contract_args, describe, path_steps, set_path


def named_key(expr: Expression) -> ObjectConstruction:
    """The key as an object: ``$r.dept`` -> ``{dept: $r.dept}``; ``[$r.a, $r.b]`` -> ``{a: ..., b: ...}``; an
    object construction as is; any other expression -> ``{key: <expr>}``."""
    if isinstance(expr, ObjectConstruction):
        return expr
    parts = expr.items if isinstance(expr, ArrayConstruction) else (expr,)
    if all(isinstance(p, FieldAccess) for p in parts):
        return ObjectConstruction(tuple(FieldAssignment(p.name, p) for p in parts))
    return ObjectConstruction((FieldAssignment("key", expr),))


@package.operator
class Nest(ElementaryOperator):
    """One record per distinct key: the key's fields plus ``into`` (default ``items``) = the array of the
    records with that key, in input order. In: one data set. PACT Reduce."""

    verb = "nest"
    doc = "nest $in by <key> [into '<field>']: one record per key holding the key fields and the array of records"
    properties = (
        PropertySpec("by", "key", EXPRESSION, required=True,
                     doc="key: a path (field named after it), an array of paths, or an object {name: expr}"),
        PropertySpec("into", "field", CONSTANT, default="items", doc="name of the array field of nested records"),
    )

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.field, str) or not self.field:
            raise PropertyError(f"nest: 'into' must be a field name, got {self.field!r}", "into")

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        key_of, field = compile_expr(named_key(self.key), 1), self.field

        def nest(_key: Any, group: list[Any]) -> Iterable[Any]:
            yield {**key_of(group[0]), field: list(group)}

        return Reduce(key=lambda record: hashable(key_of(record)), udf=nest, **contract_args(self, inputs))


@package.operator
class Unnest(ElementaryOperator):
    """One record per element of the array at ``on``: the record with the element in place of the array, or
    ``into`` computed from that record. A missing or null array gives no record; another non-array raises
    OperatorError naming the record. PACT Map."""

    verb = "unnest"
    doc = "unnest $in on <arrayPath> [into <expr>]: one record per element, the element replacing the array"
    properties = (
        PropertySpec("on", "path", EXPRESSION, required=True, doc="path of the array field ($r.items)"),
        PropertySpec("into", "projection", EXPRESSION,
                     doc="output per element; the input variable is the record with the element in place"),
    )

    def validate(self) -> None:
        super().validate()
        path_steps(self.path, "on")

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        steps, array_of = path_steps(self.path, "on"), compile_expr(self.path, 1)
        projection = compile_expr(self.projection, 1) if self.projection is not None else None

        def unnest(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                array = array_of(record)
                if array is MISSING or array is None:
                    continue
                if not isinstance(array, list):
                    raise OperatorError(f"unnest: the value of 'on' is not an array in record {describe(record)}")
                for element in array:
                    flat = set_path(record, steps, element)
                    yield flat if projection is None else projection(flat)

        return Map(udf=unnest, **contract_args(self, inputs))
