"""Running a source stage whose records end in a combiner as one fused loop over batches (VLDB J. 2014, sec. 7.3).

A stage ``Source -> Map* -> combining output`` normally moves every record through a generator per driver and
the combiner's table. A combiner may offer a faster way, its declared fusion hook
``combiner.fuse_source(input_format, selections)`` (``pact_backend.combiners``; ``selections``: the declared
``Map.selection`` of every chained Map) returns None or a *fused source* (``FusedSource``) with

- ``batches(split)``: the input of one split (None: the whole input) as a sequence of opaque batches;
- ``fold(batch, table) -> [records read, records out of Map 1, Map 2, ...] | None``: folds a batch into
  ``table`` ({key: combined record}), changing ``table`` only once the whole batch is folded; None when this
  batch cannot be folded this way;
- ``records(batch)``: the batch's records as the source would have produced them;
- optionally ``settle(table)``: a plan may keep its table's values in a cheaper form while folding (plain
  counts); ``settle`` turns them into combined records, and is called before the table is read (flushed or
  handed over).

``run_fused`` drives it: batches are folded while ``fold`` accepts them; the first batch it refuses or that
raises, and every batch after it, go record by record through the Map UDFs into the ordinary combining table
(seeded with what was folded so far), so the result, and any error, is that of the unfused stage. The table is
flushed to the output (pairs of key and combined record) when its estimated size passes the task's budget.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Callable, Iterable

from pact_backend.runtime.memory import SizeEstimator
from pact_backend.runtime.stats import Meter, metered


def fused_plan(kind: str, head: dict[str, Any], selections: list[Any], outputs: list[Any]) -> Any:
    """The fused source of a stage (see the module docstring), or None when the stage is not a source whose
    single output is combined or its combiner offers no fusion for this input and chained Maps' ``selections``."""
    if kind != "source" or len(outputs) != 1 or outputs[0].combiner is None:
        return None
    return outputs[0].combiner.fuse_source(head["input_format"], selections)


class FusedRun:
    """One task's fused loop. ``meters``: the Meter of the source and of every chained Map (in chain order);
    ``combining``: the output's combining sink (``write_all(records)``, ``table`` {key: [records]},
    ``seconds``), fed record by record once fusion stops; ``write(pair)``: the output's writer."""

    def __init__(self, plan: Any, chain: list[tuple[int, Callable]], meters: list[Meter], combining: Any,
                 write: Callable[[Any], None], budget: int):
        self.plan, self.chain, self.meters, self.combining = plan, chain, meters, combining
        self.write, self.budget = write, budget
        self.table: dict[Any, Any] = {}
        self.fused = True
        self.estimator = SizeEstimator()

    def run(self, splits: Iterable[Any]) -> None:
        """Read and fold every batch of ``splits``, then flush; raises what the source or a UDF raises."""
        clock = perf_counter
        for split in splits:
            batches = iter(self.plan.batches(split))
            while True:
                start = clock()
                batch = next(batches, None)
                read = clock()
                self.meters[0].seconds += read - start
                if batch is None:
                    break
                if self.fused and self._fold(batch, read):
                    continue
                self._generic(batch)
        self.flush()

    def _fold(self, batch: Any, start: float) -> bool:
        """Fold ``batch``; False (fusion stops for good) when the plan refuses it or folding raises."""
        try:
            counts = self.plan.fold(batch, self.table)
        except Exception:  # noqa: BLE001 - redone record by record, which raises the user-facing error
            counts = None
        if counts is None:
            self._stop()
            return False
        spent = perf_counter() - start
        self.meters[0].records += counts[0]
        for meter, count in zip(self.meters[1:], counts[1:]):
            meter.records += count
        self.combining.seconds += spent  # charged to the consuming Reduce, like the combiner's own time
        if self.table and self.estimator.measured == 0:
            self.estimator.measure(next(iter(self.table.items())))
        if len(self.table) * self.estimator.average > self.budget:
            self.flush()
        return True

    def _stop(self) -> None:
        """Hand the folded groups to the combining table and continue record by record."""
        self.fused = False
        self._settle()
        for key, combined in self.table.items():
            self.combining.table[key] = [combined]
        self.table = {}

    def _generic(self, batch: Any) -> None:
        records = list(self.plan.records(batch))
        self.meters[0].records += len(records)
        stream: Iterable[Any] = records
        for meter, (_, udf) in zip(self.meters[1:], self.chain):
            stream = metered(udf(stream), meter)
        self.combining.write_all(stream)

    def _settle(self) -> None:
        settle = getattr(self.plan, "settle", None)
        if settle is not None:
            settle(self.table)

    def flush(self) -> None:
        """Write the folded groups (key, combined record) to the output and empty the table."""
        self._settle()
        for pair in self.table.items():
            self.write(pair)
        self.table = {}
