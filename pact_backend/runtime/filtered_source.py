"""A source stage whose first chained Maps are selections, read as row batches and filtered before records exist.

A stage ``Source -> selection Map* -> ...`` (a join's probe or build side, a shipped filtered input) used to build
one record per input line and call each selection on it. A selection Map may declare a batch hook
(``Map.batch_selection``, from the layer above, opaque here): ``hook.plan(input_format, selections)`` returns
None or a *filtered source* with

- ``batches(split)``: the input of one split (None: the whole input) as opaque batches;
- ``filter(batch) -> (records, [records passing selection 1, 2, ...]) | None``: the records of ``batch`` that
  pass every selection, built only for those (None: this batch cannot be filtered so);
- ``records(batch)``: every record of the batch as the source would have produced it.

``filtered_records`` drives it: a batch ``filter`` refuses or that raises goes record by record through the
selection UDFs, so the records, their order and any error are those of the unfiltered stage. The rest of the
chain consumes the records as usual.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.stats import Meter


def leading_hooks(hooks: list[Any]) -> int:
    """How many of ``hooks`` (one per chain entry, None where it declares none) come first without a gap."""
    count = 0
    while count < len(hooks) and hooks[count] is not None:
        count += 1
    return count


def filtered_plan(kind: str, head: dict[str, Any], hooks: list[Any], selections: list[Any]) -> tuple[Any, int]:
    """(filtered source, number of leading chained selections it runs) of a source stage, or (None, 0).
    ``hooks``: the declared ``batch_selection`` of every chain entry (None where a Map has none)."""
    if kind != "source":
        return None, 0
    count = leading_hooks(hooks)
    if count == 0:
        return None, 0
    plan = hooks[0].plan(head["input_format"], selections[:count])
    return (plan, count) if plan is not None else (None, 0)


def timed_batches(plan: Any, splits: list[Any] | None, source: Meter) -> Iterator[tuple[Any, float, float]]:
    """``(batch, clock after reading it, seconds reading it took)`` for every batch of ``plan`` over ``splits``
    (None: the whole input); the reading time is added to ``source.seconds``. What the caller does with a batch
    between two readings is not counted here."""
    clock = perf_counter
    for split in (splits if splits is not None else [None]):
        batches = iter(plan.batches(split))
        while True:
            start = clock()
            batch = next(batches, None)
            read = clock()
            source.seconds += read - start
            if batch is None:
                break
            yield batch, read, read - start


def select_batch(kernel: Callable[[Any], Any], plan: Any, batch: Any,
                 udfs: list[Callable[[Iterator[Any]], Iterable[Any]]], source: Meter, meters: list[Meter]
                 ) -> tuple[Any, list[Any] | None]:
    """``(kept, None)`` where ``kernel(batch)`` (``plan.filter`` or ``plan.rows``) gives ``(kept, passed counts)``,
    else ``(None, records)``: every record of the batch through the selection UDFs ``udfs``, which raises the
    record path's error where the kernel failed. Counts records into ``source`` and ``meters``."""
    try:
        done = kernel(batch)
    except Exception:  # noqa: BLE001 - redone record by record, which raises the user-facing error
        done = None
    if done is None:
        records = list(plan.records(batch))
        source.records += len(records)
        for udf, meter in zip(udfs, meters):
            records = list(udf(iter(records)))
            meter.records += len(records)
        return None, records
    kept, passed = done
    source.records += len(batch)
    for meter, count in zip(meters, passed):
        meter.records += count
    return kept, None


def filtered_records(plan: Any, splits: list[Any] | None, udfs: list[Callable[[Iterator[Any]], Iterable[Any]]],
                     source: Meter, meters: list[Meter]) -> Iterator[Any]:
    """The records that pass the selections ``udfs`` (whose meters are ``meters``), read through ``plan``;
    ``source`` meters the records read. A meter's seconds include its upstream's, as ``stats.metered``."""
    clock, spent = perf_counter, 0.0
    for batch, read, took in timed_batches(plan, splits, source):
        kept, records = select_batch(plan.filter, plan, batch, udfs, source, meters)
        records = kept if records is None else records
        spent += took + clock() - read
        for meter in meters:
            meter.seconds = spent
        yield from records
