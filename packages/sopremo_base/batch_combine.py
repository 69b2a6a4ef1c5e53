"""Source -> filter -> combine fused over batches of decoded rows: the ``fuse_source`` hook of ``GroupCombiner``.

A PACT stage that reads a projected JSON Lines source, applies selections and pre-aggregates for a ``group ...
into`` (TPC-H Q1, Q15) spends most of its time on per-record plumbing. When every expression of that chain
reads decoded top-level fields, ``FusedSource`` lets the runtime (``pact_backend.runtime.fused_source``) hand it
whole chunks: the input format decodes a chunk into tuples of field values (``RowDecoder``), a generated kernel
(``sopremo.expressions.batch_kernel``) filters and buckets them by key and folds each bucket column by column into
the group's ``Partial``; a record is built only for the first row of a group (its ``$g[0]``). The Partials are
those the combiner itself would produce, so the Reduce merges them as usual (VLDB J. 2014, sec. 7.3).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable, Iterator, Sequence

from sopremo.api import (MISSING, BatchKernel, FieldAccess, InputRef, NotFusable, RowBatch, RowDecoder,
                         aggregation_kind, compile_batch_kernel)

from .combine import ELEMENT, GroupCombiner, Partial

_RAW_TYPES = frozenset({str, int, float})  # values whose group key (``hashable``) is the value itself


class FusedSource:
    """Reads ``input_format`` in batches and folds batches of rows into a table {key: Partial}.

    ``batches(split)``: batches of one split (None: the whole input); ``fold(batch, table)``: records read and
    passing each filter (a list of ints), or None when the batch holds records rather than rows (the caller
    then feeds ``records(batch)`` through the generic chain). ``fold`` changes ``table`` only after the whole
    batch folded, so a batch that raises can be redone record by record (which raises the user-facing error).

    Counting mode (``raw_first``: the key is one field, every slot counts the group and ``into`` reads nothing
    of ``$g[0]`` but that field): while every group key is a str, int or float (its own key, ``hashable``), the
    table holds plain counts keyed by the first raw value of each group, counted in C for batches whose key
    field has a known type (``BatchKernel.raw_key``); ``settle(table)`` turns them into Partials with the first
    record ``{field: first value}`` before the table is read, or before a batch with other keys is folded. A
    table holds only counts or only Partials.
    """

    def __init__(self, input_format: Any, decoder: RowDecoder, kernel: BatchKernel,
                 compile_for: Callable[[tuple[str, ...], dict[str, str]], BatchKernel | None],
                 counts: int | None = None, raw_first: str | None = None):
        self.input_format, self.decoder = input_format, decoder
        self.counts = counts  # every slot counts the group's records: how many slots (None: other slots)
        self.raw_first = raw_first  # see ``fold``: the key field, when it is all ``into`` reads of ``$g[0]``
        # kernels by row layout and known field types; ``kernel`` serves untyped rows in name order
        self._compile = compile_for
        self._kernels: dict[tuple, BatchKernel | None] = {(decoder.names, ()): kernel}

    def _kernel(self, batch: RowBatch) -> BatchKernel | None:
        """The kernel for ``batch`` (its row layout, its fields of known types), or None (not fusable)."""
        signature = (batch.layout, tuple(sorted(batch.types.items())))
        if signature not in self._kernels:
            self._kernels[signature] = (self._compile(batch.layout, batch.types)
                                        or self._compile(batch.layout, {}))
        return self._kernels[signature]

    def batches(self, split: Any) -> Iterator[Iterable[Any]]:
        """RowBatches or iterables of records, chunk by chunk; raises DataError (file and line)."""
        return self.input_format.read_batches(split, self.decoder)

    def fold(self, batch: Iterable[Any], table: dict[Any, Partial]) -> list[int] | None:
        """Fold ``batch`` into ``table``; returns [rows read, rows passing filter 1, ...] or None (see class)."""
        kernel = self._kernel(batch) if type(batch) is RowBatch else None
        if kernel is None:
            return None
        counting = self.raw_first is not None and (not table or type(next(iter(table.values()))) is int)
        if counting and kernel.raw_key is not None:
            rows, passed = kernel.select(batch)  # may raise: before the table changes
            Counter.update(table, map(kernel.raw_key, rows))  # type: ignore[arg-type]  # in C
            return [len(batch), *passed]
        buckets: dict[Any, list[Any]] = {}
        passed = kernel.bucketize(batch, buckets)
        if counting and all(type(key) in _RAW_TYPES for key in buckets):  # each key is its first raw value
            get = table.get
            for key, rows in buckets.items():
                table[key] = get(key, 0) + len(rows)
            return [len(batch), *passed]
        self.settle(table)
        if self.counts is not None:
            self._count(buckets, table, batch.layout)
            return [len(batch), *passed]
        fold, initial, get = kernel.fold, kernel.initial, table.get
        pending = []
        for key, rows in buckets.items():
            partial = get(key)
            pending.append((key, partial, rows, fold(rows, initial() if partial is None else partial.accumulators)))
        record, layout = self.decoder.record, batch.layout
        for key, partial, rows, accumulators in pending:
            if partial is None:
                table[key] = Partial(record(rows[0], layout), accumulators)
            else:
                partial.accumulators = accumulators
        return [len(batch), *passed]

    def settle(self, table: dict[Any, Any]) -> None:
        """Turn the plain counts of the counting mode into the combiner's Partials (the runtime calls it before
        it reads the table; ``fold`` before it folds a batch another way)."""
        if table and type(next(iter(table.values()))) is int:
            name, slots = self.raw_first, self.counts
            for raw, n in table.items():
                table[raw] = Partial({name: raw}, [n] * slots)

    def _count(self, buckets: dict[Any, list[Any]], table: dict[Any, Partial], layout: tuple[str, ...]) -> None:
        """Add every bucket's row count to its group's count slots in ``table``, one short step per group (a
        filter on a foreign key leaves about one row per group in a batch: TPC-H Q13's orders per customer).
        Nothing here can raise, so ``table`` may change as it goes; a group's accumulators are its own list."""
        record, get, slots = self.decoder.record, table.get, self.counts
        if slots == 1:
            for key, rows in buckets.items():
                partial = get(key)
                if partial is None:
                    table[key] = Partial(record(rows[0], layout), [len(rows)])
                else:
                    partial.accumulators[0] += len(rows)
            return
        for key, rows in buckets.items():
            partial, n = get(key), len(rows)
            if partial is None:
                table[key] = Partial(record(rows[0], layout), [n] * slots)
            else:
                partial.accumulators = [a + n for a in partial.accumulators]

    def records(self, batch: Iterable[Any]) -> Iterable[Any]:
        """The records of ``batch`` as the unfused source yields them."""
        return self.decoder.records(batch) if type(batch) is RowBatch else batch


def fuse_source(combiner: GroupCombiner, input_format: Any, selections: Sequence[Any]) -> FusedSource | None:
    """A FusedSource for ``input_format`` followed by Maps declaring ``selections`` (their conditions; None for
    a Map that is no selection) and ``combiner``, or None when the format cannot decode rows (not projected JSON
    Lines), a Map is not a selection, or an expression reads the record otherwise than through a decoded
    field."""
    predicates = list(selections)
    make_decoder = getattr(input_format, "row_decoder", None)
    decoder = make_decoder(MISSING) if make_decoder is not None and None not in predicates else None
    if decoder is None:
        return None
    slots = [(slot.aggregation, slot.source) for slot in combiner.slots]

    def compile_for(layout: tuple[str, ...], types: dict[str, str] | None) -> BatchKernel | None:
        positions = {name: i for i, name in enumerate(layout)}
        try:
            return compile_batch_kernel(positions, predicates, combiner.key, slots, ELEMENT, types)
        except NotFusable:
            return None

    kernel = compile_for(decoder.names, None)
    counting = all(source is None and aggregation_kind(aggregation) == "count" for aggregation, source in slots)
    key = combiner.key
    by_field = isinstance(key, FieldAccess) and key.base == InputRef(0)
    raw_first = key.name if counting and by_field and combiner.first_fields is not None and \
        combiner.first_fields <= {key.name} else None
    return None if kernel is None else FusedSource(input_format, decoder, kernel, compile_for,
                                                   len(slots) if counting else None, raw_first)
