"""Selections run over row batches of a projected JSON Lines source: the ``batch_selection`` hook of ``filter``.

A source stage whose first Maps are selections (TPC-H Q3's three filtered inputs of its joins, Q13's orders) built
a record per line and called each condition on it. ``RowFilter`` (declared by ``Selection`` on its Map) lets the
runtime (``pact_backend.runtime.filtered_source``) hand it whole chunks instead: the input format decodes a
chunk into tuples of the projected fields (``RowDecoder``), the filters of a generated batch kernel
(``sopremo.expressions.batch_kernel``, the same code as the fused group stages) run column by column, and records
are built only for the rows that pass. A chunk the kernel cannot take (not rows, an expression that reads the
record otherwise than through decoded fields, an error) is filtered record by record by the Maps themselves.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any, Sequence

from sopremo.api import MISSING, BatchKernel, NotFusable, RowBatch, compile_batch_kernel

ELEMENT = "__filter_element"  # no slots fold elements; the kernel needs the name


class RowFilter:
    """The ``Map.batch_selection`` hook of a selection: ``plan(input_format, selections)`` returns a
    ``FilteredSource`` for the conditions ``selections`` (of the stage's leading selection Maps, in order) over
    ``input_format``, or None when the format cannot decode rows (not projected JSON Lines) or a condition
    reads the record otherwise than through decoded fields. Plans are built once per format and chain in the
    process that runs them."""

    def __init__(self) -> None:
        self._plans: dict[tuple, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_plans": {}}  # generated kernels are rebuilt where they run

    def plan(self, input_format: Any, selections: Sequence[Any]) -> "FilteredSource | None":
        cache_key = (id(input_format), tuple(id(s) for s in selections))
        if cache_key not in self._plans:
            self._plans[cache_key] = (filtered_source(input_format, list(selections)), input_format, selections)
        return self._plans[cache_key][0]


class FilteredSource:
    """The filtered source of ``pact_backend.runtime.filtered_source``: ``batches(split)``, ``filter(batch)``
    (the passing rows as records and the rows passing each condition; None for a batch of records) and
    ``records(batch)``."""

    def __init__(self, input_format: Any, decoder: Any, predicates: list[Any]):
        self.input_format, self.decoder, self.predicates = input_format, decoder, predicates
        self._kernels: dict[tuple, BatchKernel | None] = {}
        self._names = decoder.names
        self._getters: dict[tuple[str, ...], Any] = {}  # row layout -> the values of ``names`` of a row

    def _kernel(self, batch: RowBatch) -> BatchKernel | None:
        signature = (batch.layout, tuple(sorted(batch.types.items())))
        if signature not in self._kernels:
            self._kernels[signature] = _compile(batch.layout, batch.types, self.predicates) or _compile(
                batch.layout, {}, self.predicates)
        return self._kernels[signature]

    def batches(self, split: Any) -> Any:
        """RowBatches or lists of records, chunk by chunk; raises DataError (file and line)."""
        return self.input_format.read_batches(split, self.decoder)

    def rows(self, batch: Any) -> tuple[list[Any], list[int]] | None:
        """(the rows of ``batch`` passing every condition, rows passing each condition) or None when ``batch``
        holds records or the conditions cannot run on its rows."""
        if type(batch) is not RowBatch:
            return None
        if not self.predicates:
            return batch, []
        kernel = self._kernel(batch)
        if kernel is None:
            return None
        buckets: dict[Any, list[Any]] = {}
        passed = kernel.bucketize(batch, buckets)
        return buckets.get(None, []), passed

    def filter(self, batch: Any) -> tuple[list[Any], list[int]] | None:
        """(records of the rows passing every condition, rows passing each condition) or None."""
        done = self.rows(batch)
        if done is None:
            return None
        rows, passed = done
        return self.records_of(rows, batch), passed

    def records_of(self, rows: list[Any], batch: RowBatch) -> list[dict[str, Any]]:
        """The records of ``rows`` (rows of ``batch``) as the source builds them: present fields in name order."""
        layout, names = batch.layout, self._names
        if len(batch.types) == len(names) and len(names) > 1:
            # every field present in every row (typed): the records built in C, fields in name order
            getter = self._getters.get(layout)
            if getter is None:
                getter = self._getters[layout] = itemgetter(*(layout.index(name) for name in names))
            return list(map(dict, map(zip, itertools.repeat(names), map(getter, rows))))
        record = self.decoder.record
        return [record(row, layout) for row in rows]

    def records(self, batch: Any) -> Any:
        """The records of ``batch`` as the unfiltered source yields them."""
        return self.decoder.records(batch) if type(batch) is RowBatch else batch


def _compile(layout: tuple[str, ...], types: dict[str, str], predicates: list[Any]) -> BatchKernel | None:
    positions = {name: i for i, name in enumerate(layout)}
    try:
        return compile_batch_kernel(positions, predicates, None, [], ELEMENT, types)
    except NotFusable:
        return None


def filtered_source(input_format: Any, selections: list[Any], kind: type = FilteredSource) -> Any:
    """A ``kind`` (FilteredSource or a subclass) reading ``input_format`` filtered by the conditions
    ``selections``, or None when the format cannot decode rows (not projected JSON Lines) or a condition reads
    the record otherwise than through decoded fields."""
    make_decoder = getattr(input_format, "row_decoder", None)
    decoder = make_decoder(MISSING) if make_decoder is not None and None not in selections else None
    if decoder is None or (selections and _compile(decoder.names, {}, selections) is None):
        return None
    return kind(input_format, decoder, selections)
