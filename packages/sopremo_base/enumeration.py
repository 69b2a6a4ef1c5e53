"""``enumerate $in [by <expr>] [with key 'id'] [retain value in 'v']``: unique ids for all records.

The original's GlobalEnumeration. Ids are the consecutive ints 0, 1, 2, ... assigned in input order, or in the
order of the ``by`` expression when given (stable; cross-type order). A PACT Reduce with no key at DOP 1.
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import CONSTANT, EXPRESSION, ElementaryOperator, PropertyError, PropertySpec, Reduce

from . import package
from .keys import contract_args
from .sort_order import order_key


@package.operator
class GlobalEnumeration(ElementaryOperator):
    """Adds a unique id to each record: field ``with key`` (default ``id``) of an object record; a non-object
    record, or any record when ``retain value in`` names a field, is wrapped as ``{id: n, <field>: record}``
    (field default ``value``). In: one data set; out: the same number of records.
    """

    verb = "enumerate"
    doc = "enumerate $in [by <expr>] [with key 'id'] [retain value in 'v']: number the records 0, 1, ..."
    properties = (
        PropertySpec("by", "order_by", EXPRESSION,
                     doc="ids follow the order of this expression (default: input order)"),
        PropertySpec("with key", "id_field", CONSTANT, default="id", doc="name of the id field"),
        PropertySpec("retain value in", "value_field", CONSTANT,
                     doc="wrap every record as {id: n, <this field>: record}"),
    )

    def validate(self) -> None:
        super().validate()
        for words, value in (("with key", self.id_field), ("retain value in", self.value_field)):
            if value is not None and not (isinstance(value, str) and value):
                raise PropertyError(f"enumerate: {words!r} must be a non-empty field name, got {value!r}", words)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        id_field, value_field = self.id_field or "id", self.value_field
        wrap_field = value_field or "value"
        group_order = (order_key(self.order_by), False) if self.order_by is not None else None
        key = group_order[0] if group_order else None

        def number(_key: Any, group: list[Any]) -> Iterable[Any]:
            records = sorted(group, key=key) if key is not None else group
            for n, record in enumerate(records):
                if isinstance(record, dict) and value_field is None:
                    yield {**record, id_field: n}
                else:
                    yield {id_field: n, wrap_field: record}

        return Reduce(key=None, udf=number, group_order=group_order, **contract_args(self, inputs, 1))
