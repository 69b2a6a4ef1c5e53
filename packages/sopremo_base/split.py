"""``split array``, ``split object`` and ``split value``: one output record per element, field or projection.

The original's ArraySplit and ValueSplit (and its internal ObjectSplit, here with Meteor syntax); the paper's
Table 1 "split" operator. All are PACT Maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from sopremo.api import (EXPRESSION, MISSING, ArrayIndex, Constant, ElementaryOperator, Expression, InputRef, Map,
                         OperatorError, PropertySpec)

from . import package
from .keys import compile_expr, contract_args, describe

FIRST = ArrayIndex(InputRef(0), Constant(0))  # the element (value) of [element, index, array, record]


@dataclass(frozen=True)
class Expansion:
    """What a ``split array`` Map declares as its ``Map.expansion`` (read by ``GroupCombiner``'s fusion hook,
    ``sopremo_base.batch_explode``): per record, the elements of the array ``path`` (over ``InputRef(0)``, the
    record) computes, each turned into ``projection`` (over ``InputRef(0)`` = ``[element, index, array,
    record]``; None: the element itself, the default ``into``)."""

    path: Expression
    projection: Expression | None


class _ContainerSplit(ElementaryOperator):
    """Shared Map of ``split array`` / ``split object``: ``into`` sees ``[item, position, container, record]``."""

    container: type = list
    noun = "array"
    properties = (
        PropertySpec("on", "path", EXPRESSION, doc="the value to split, computed from the record (default: it)"),
        PropertySpec("into", "projection", EXPRESSION,
                     doc="output per item; the input variable is [item, position, container, record]"),
    )

    def items(self, container: Any) -> Iterable[tuple[Any, Any]]:
        """(item, position) pairs of ``container``."""
        return ((element, index) for index, element in enumerate(container))

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        path = compile_expr(self.path if self.path is not None else InputRef(0), 1)
        projection = compile_expr(self.projection if self.projection is not None else FIRST, 1)
        container, items, verb, noun = self.container, self.items, self.verb, self.noun

        def split(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                value = path(record)
                if not isinstance(value, container):
                    raise OperatorError(f"{verb}: the value of 'on' is not an {noun} ({describe(value)}) in record "
                                        f"{describe(record)}")
                for item, position in items(value):
                    yield projection([item, position, value, record])

        expansion = None
        if self.container is list:  # the batch kernel of a following combiner may run it (batch_explode)
            expansion = Expansion(self.path if self.path is not None else InputRef(0),
                                  None if self.projection in (None, FIRST) else self.projection)
        return Map(udf=split, expansion=expansion, **contract_args(self, inputs))


@package.operator
class ArraySplit(_ContainerSplit):
    """One record per element of the array at ``on``; ``into`` sees ``[element, index, array, record]`` and
    defaults to the element. A non-array raises OperatorError naming the record."""

    verb = "split array"
    doc = "split array $in on <arrayPath> [into <expr>]: one record per element; into sees [elem, index, array, rec]"


@package.operator
class ObjectSplit(_ContainerSplit):
    """One record per field of the object at ``on``; ``into`` sees ``[value, field name, object, record]`` and
    defaults to the value. A non-object raises OperatorError naming the record."""

    verb = "split object"
    doc = "split object $in on <objectPath> [into <expr>]: one record per field; into sees [value, name, obj, rec]"
    container = dict
    noun = "object"

    def items(self, container: Any) -> Iterable[tuple[Any, Any]]:
        return ((value, name) for name, value in container.items())


@package.operator
class ValueSplit(ElementaryOperator):
    """One record per element of the array ``into`` computes from each record (``into [$x.a, $x.b]`` yields
    two records); missing elements yield nothing. A non-array ``into`` value raises OperatorError."""

    verb = "split value"
    doc = "split value $in into [<expr>, ...]: one record per projection"
    properties = (
        PropertySpec("into", "projections", EXPRESSION, required=True,
                     doc="an array of projections of the record; each becomes one record"),
    )

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        projections = compile_expr(self.projections, 1)

        def split(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                values = projections(record)
                if not isinstance(values, list):
                    raise OperatorError(f"split value: 'into' must give an array, got {describe(values)} for record "
                                        f"{describe(record)}")
                yield from (v for v in values if v is not MISSING)

        return Map(udf=split, **contract_args(self, inputs))
