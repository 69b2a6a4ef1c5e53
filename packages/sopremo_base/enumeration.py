"""``enumerate $in [by <path>] [with key 'f'] [retain value in 'v']``: a unique id for every record.

The original's GlobalEnumeration (sopremo-base): an object record gets the id in its field ``with key`` (default
``_ID``); any other record is wrapped as ``{_ID: id, value: record}`` (the field named by ``retain value in``);
``by $r.path`` stores the id at that path of the record instead (``by $r.meta.nr``, ``by $r[0]``). Ids are the
ints 0, 1, 2, ... in input order: a PACT Reduce without a key at DOP 1. The original numbered each parallel task
on its own, the task number in the high bits of a long, which gives the same ids at DOP 1.
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import (CONSTANT, EXPRESSION, MISSING, ElementaryOperator, OperatorError, PropertyError,
                         PropertySpec, Reduce, contract_args, expressions, type_name)

from . import package

ID_FIELD, VALUE_FIELD = "_ID", "value"


def id_path(expr: Any) -> tuple[Any, ...]:
    """The steps (field names and int indexes) of a ``by`` path such as ``$r.meta.nr`` or ``$r[0]``.

    Raises PropertyError when ``expr`` is not a path of fields and constant indexes starting at the record.
    """
    steps: list[Any] = []
    while not isinstance(expr, expressions.InputRef):
        if isinstance(expr, expressions.FieldAccess) and not expr.safe:
            steps.append(expr.name)
            expr = expr.base
        elif isinstance(expr, expressions.ArrayIndex) and isinstance(expr.index, expressions.Constant) \
                and type(expr.index.value) is int and not expr.safe:
            steps.append(expr.index.value)
            expr = expr.base
        else:
            raise PropertyError("enumerate: 'by' names where the id goes, a path such as $r.id, $r.meta.nr "
                                "or $r[0]", "by")
    if not steps:
        raise PropertyError("enumerate: 'by' needs a path into the record such as $r.id", "by")
    return tuple(reversed(steps))


def with_id(value: Any, steps: tuple[Any, ...], ident: int) -> Any:
    """A copy of ``value`` with ``ident`` stored at ``steps`` (copied along the path; the input is not changed).

    Raises OperatorError when a step meets no object (for a field) or no array holding that index.
    """
    step, rest = steps[0], steps[1:]
    if type(step) is str and type(value) is dict:
        inner = value.get(step, MISSING)
        copy = dict(value)
        copy[step] = ident if not rest else with_id(inner, rest, ident)
        return copy
    if type(step) is int and type(value) is list and -len(value) <= step < len(value):
        copy = list(value)
        copy[step] = ident if not rest else with_id(value[step], rest, ident)
        return copy
    where = f"field {step!r}" if type(step) is str else f"index {step}"
    raise OperatorError(f"enumerate: cannot store the id at {where} of {type_name(value)} {value!r:.60}")


@package.operator
class GlobalEnumeration(ElementaryOperator):
    """Adds a unique id to each record (see the module docstring). In: one data set; out: the same records
    with their ids, in input order."""

    verb = "enumerate"
    min_inputs = max_inputs = 1
    doc = "enumerate $in [by <path>] [with key '_ID'] [retain value in 'value']: number the records 0, 1, ..."
    properties = (
        PropertySpec("by", "id_at", EXPRESSION,
                     doc="the path of the record that receives the id (default: the field 'with key')"),
        PropertySpec("with key", "id_field", CONSTANT, default=ID_FIELD, doc="name of the id field"),
        PropertySpec("retain value in", "value_field", CONSTANT, default=VALUE_FIELD,
                     doc="field holding a record that is not an object, wrapped as {_ID: n, value: record}"),
    )

    def validate(self) -> None:
        super().validate()
        for words, value in (("with key", self.id_field), ("retain value in", self.value_field)):
            if value is not None and not (isinstance(value, str) and value):
                raise PropertyError(f"enumerate: {words!r} must be a non-empty field name, got {value!r}", words)
        if self.id_at is not None:
            id_path(self.id_at)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        id_field, value_field = self.id_field or ID_FIELD, self.value_field or VALUE_FIELD
        steps = id_path(self.id_at) if self.id_at is not None else None

        def number(_key: Any, group: list[Any]) -> Iterable[Any]:
            for ident, record in enumerate(group):
                if steps is not None:
                    yield with_id(record, steps, ident)
                elif type(record) is dict:
                    yield {**record, id_field: ident}
                else:
                    yield {id_field: ident, value_field: record}

        return Reduce(key=None, udf=number, **contract_args(self, inputs))
