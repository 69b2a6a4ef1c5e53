"""A join's probe side read as row batches: the ``batch_probe`` hook of the Matches a ``join`` expands to.

A source stage that probes a chained Match (TPC-H Q3's lineitem against the orders it joins) built a record per
line that passed its filters, computed the join key from it and looked it up, though most lines find no
partner. ``RowProbe`` (declared by ``TwoSourceJoin`` on its Match) lets the runtime
(``pact_backend.runtime.probed_source``) hand it whole chunks instead: the input format decodes a chunk into
tuples of the projected fields (``RowDecoder``), the filters run column-wise in a batch kernel
(``batch_filter``), the key is read from the row, and a record is built only for a row whose key is in the
hash table. A chunk that is not rows, or whose filters fail, goes record by record through the Maps and the
record key, with their results and errors.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, Sequence

from sopremo.api import Expression, FieldAccess, InputRef, RowBatch

from .batch_filter import FilteredSource, filtered_source
from .keys import join_key_function


class RowProbe:
    """The ``Match.batch_probe`` hook of a join step: ``keys[side]`` are the equi-join expressions over the raw
    record of input ``side`` (read as ``InputRef(0)``; None when that input carries join tuples), ``missing``
    the key each side's record gets when a part is missing. ``plan(input_format, selections, side)``: a
    ``ProbedSource`` reading input ``side`` from ``input_format`` through the conditions ``selections``, or
    None when that input is no raw record, a key is no top-level field, or the format cannot decode rows."""

    def __init__(self, keys: tuple[tuple[Expression, ...] | None, tuple[Expression, ...] | None],
                 missing: tuple[Any, Any]):
        self.keys, self.missing = keys, missing

    def plan(self, input_format: Any, selections: Sequence[Any], side: int) -> "ProbedSource | None":
        exprs = self.keys[side]
        if exprs is None:
            return None
        fields = [_top_field(expr) for expr in exprs]
        if None in fields:
            return None
        source = filtered_source(input_format, list(selections), ProbedSource)
        if source is None or not set(fields) <= set(source.decoder.names):
            return None
        source.key_fields, source.missing = tuple(fields), self.missing[side]
        return source


class ProbedSource(FilteredSource):
    """The probed source of ``pact_backend.runtime.probed_source``: a FilteredSource (``batches``, ``rows``,
    ``filter``, ``records``, ``records_of(rows, batch)``) that also gives the join key of a row
    (``row_key(batch)``). ``key_fields``: the fields the key reads, in key order; ``missing``: the key of a
    row missing one of them."""

    key_fields: tuple[str, ...] = ()
    missing: Any = None

    def row_key(self, batch: RowBatch) -> Callable[[tuple], Any]:
        """The key of a row of ``batch``, equal to the record key of the join (``join_key_function``): the
        field values as they are where the batch's types guarantee numbers or strings (their own keys),
        else through the record key's rules (missing, booleans, containers)."""
        layout = batch.layout
        positions = [layout.index(name) for name in self.key_fields]
        if all(batch.types.get(name) in ("number", "string") for name in self.key_fields):
            return itemgetter(*positions)
        return join_key_function([itemgetter(p) for p in positions], self.missing)



def _top_field(expr: Expression) -> str | None:
    """The field name of ``$0.name`` (``$0?.name``), else None."""
    if isinstance(expr, FieldAccess) and expr.base == InputRef(0):
        return expr.name
    return None
