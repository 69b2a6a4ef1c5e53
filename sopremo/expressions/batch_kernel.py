"""Batch kernels: a source's filters, a group key and the algebraic aggregations of ``group ... into``, generated
as two Python functions over decoded rows, so a chunk of input is filtered, grouped and folded without building a
record per line (VLDB J. 2014, sec. 7: source -> map -> combine chained in one task, each UDF compiled once).

The rows are tuples of projected field values (``pact_backend.io.projected.RowDecoder``): the field ``name`` of a
row is at index ``positions[name]``, an absent field reads ``MISSING``. ``bucketize`` (``batch_bucketize``) filters
the rows and groups them by the key of the generic path (``fused.key_code``); ``fold`` (``batch_fold``) folds
one group's rows column by column. A kernel compiled for known field ``types`` (fields the decoder validated as
numbers or strings in every row of a batch) skips the per-value type checks those fields would need; it is
only ever applied to batches carrying those types.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from sopremo.errors import MeteorError
from sopremo.expressions.codegen import Generator
from sopremo.expressions.nodes import Expression, FieldAccess, Var, map_children
from sopremo.quick_dataclass import dataclass

FIELD = "__row field "  # prefix of the Var standing for a field of the row (read once)


class NotFusable(Exception):
    """The expressions read the row otherwise than through decoded top-level fields."""


@dataclass
class BatchKernel:
    """The generated functions of one filter -> group -> combine chain (see the module docstring).

    ``bucketize(rows, buckets) -> [records passing filter 1, filter 2, ...]`` fills ``buckets`` {key: rows in
    input order}; ``fold(rows, accumulators) -> accumulators`` (one per slot: a number, ``[sum, count]`` for
    mean, or the aggregation's own state; the given ones are left unchanged); ``initial()`` the accumulators
    of an empty group. ``source`` holds the generated code (for debugging). ``select(rows) -> (rows passing
    every filter, [records passing filter 1, filter 2, ...])`` filters without grouping; ``raw_key`` (None
    unless the key is one field of known type) reads a row's group key, which is that field's raw value.
    """

    bucketize: Callable[[list[Any], dict[Any, list[Any]]], list[int]]
    fold: Callable[[list[Any], list[Any]], list[Any]]
    initial: Callable[[], list[Any]]
    source: str
    select: Callable[[list[Any]], tuple[list[Any], list[int]]] | None = None
    raw_key: Callable[[Any], Any] | None = None


def compile_batch_kernel(positions: dict[str, int], predicates: list[Expression], key: Expression | None,
                         slots: list[tuple[Any, Expression | None]], element: str,
                         types: dict[str, str] | None = None) -> BatchKernel:
    """The kernel for rows with ``positions`` (field name -> index in the row), filtered by ``predicates`` (over
    ``InputRef(0)``, the record), grouped by ``key`` (over ``InputRef(0)``; None: one group) and folding
    ``slots`` (aggregation, element expression over ``Var(element)`` or None = the record itself); ``types``
    ({field: "number" | "string"}) are guaranteed for every row it will see.

    Raises NotFusable when an expression reads the record other than by a decoded field, or a slot other than
    ``count`` folds the record itself."""
    from sopremo.expressions.batch_bucketize import BUCKETIZE_NAMESPACE, bucketize_source, raw_key_position
    from sopremo.expressions.batch_fold import FOLD_NAMESPACE, fold_source

    fields = {name: f"_f{i}" for i, name in enumerate(sorted(positions))}
    known = {fields[name]: kind for name, kind in (types or {}).items() if name in fields}
    generator = Generator(0, ())
    generator.variables.update({FIELD + name: var for name, var in fields.items()})
    source = (bucketize_source(generator, positions, fields, known, predicates, key) + "\n"
              + fold_source(generator, fields, positions, known, slots, element))
    namespace = generator.namespace
    namespace.update(FOLD_NAMESPACE, **BUCKETIZE_NAMESPACE)
    namespace.update({f"_get{fields[name]}": operator.itemgetter(i) for name, i in positions.items()})
    namespace.update({f"_add{i}": aggregation.add for i, (aggregation, _) in enumerate(slots)})
    generator.define(source, "_bucketize")
    initials = [aggregation.initial for aggregation, _ in slots]
    raw = raw_key_position(generator, positions, fields, known, key)
    return BatchKernel(namespace["_bucketize"], namespace["_batch_fold"],
                       lambda: [initial() for initial in initials], source, namespace["_select"],
                       None if raw is None else operator.itemgetter(raw))


def hoist(expr: Expression, base: Expression, fields: dict[str, str]) -> Expression:
    """``expr`` with every field read of ``base`` (``base.name`` or ``base?.name``: the row is an object) replaced
    by the Var of that field; NotFusable for a field the rows do not hold."""
    if isinstance(expr, FieldAccess) and expr.base == base:
        if expr.name not in fields:
            raise NotFusable(expr.name)
        return Var(FIELD + expr.name)
    return map_children(expr, lambda child: hoist(child, base, fields))


def emit(generator: Generator, expr: Expression, predicate: bool = False) -> str:
    """Source of ``expr`` (its truth as a bool when ``predicate``); NotFusable when it still reads the record
    (an input or variable the generator does not know) or needs a per-record preamble."""
    try:
        code = generator.emit(expr)
    except MeteorError:
        raise NotFusable(str(expr)) from None
    if generator.records:
        raise NotFusable(str(expr))
    return generator.truth(code) if predicate else code.text


def var_names(expr: Expression, prefix: str) -> list[str]:
    """Names (without ``prefix``) of the Vars with ``prefix`` that ``expr`` reads, in first-read order."""
    names = dict.fromkeys(node.name[len(prefix):] for node in expr.walk()
                          if isinstance(node, Var) and node.name.startswith(prefix))
    return list(names)
