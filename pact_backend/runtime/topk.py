"""Top-k: the first ``limit`` records of an order, kept with a bounded heap instead of a full sort.

A Reduce with a ``limit`` (``pact_backend.contracts.Reduce``; a Meteor ``sort ... limit N``) needs only the first
``limit`` records of each group in its group order. ``first_records`` keeps them while the input streams by
(heapq's bounded selection over chunks, O(n log limit) time, memory for ``limit`` records plus one chunk) and
falls back to the external sort when the kept records alone outgrow the task's memory budget. ``FirstRecords``
is the same cut as a combiner, run on every producer partition before records are shipped, so a top-k of a
large input ships at most ``limit`` records per partition (the combiner of VLDB J. 2014, sec. 7.3). Both are
stable: among equal keys the earlier record wins, exactly as the first ``limit`` of a stable sort.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable, Iterable, Iterator

from pact_backend.combiners import Combiner
from pact_backend.runtime.memory import SizeEstimator
from pact_backend.runtime.sorter import SpillDir, external_sort

CHUNK = 4096  # records read between two selections (at least ``limit``)


def first_records(records: Iterable[Any], key: Callable[[Any], Any], descending: bool, limit: int,
                  budget: float = float("inf"), spill: SpillDir | None = None) -> Iterator[Any]:
    """The first ``limit`` records of ``records`` ordered by ``key`` (largest first when ``descending``), in
    that order; ties keep input order. Holds about ``limit`` + one chunk of records; when ``limit`` records
    exceed ``budget`` bytes (and ``spill`` is given) the rest is sorted externally. Raises whatever ``key`` or
    the comparison of keys raises."""
    if limit <= 0:
        return iter(())
    select = heapq.nlargest if descending else heapq.nsmallest
    stream, estimator = iter(records), SizeEstimator()
    chunk_size = max(limit, CHUNK)
    best: list[Any] = []
    while chunk := list(itertools.islice(stream, chunk_size)):
        best = select(limit, itertools.chain(best, chunk), key=key)
        if spill is not None and _bytes(best, estimator) > budget:
            ordered = external_sort(itertools.chain(best, stream), key, budget, spill, reverse=descending)
            return itertools.islice(ordered, limit)
    return iter(best)


def _bytes(records: list[Any], estimator: SizeEstimator) -> float:
    """Estimated bytes of ``records`` (a few of them measured)."""
    for record in records[:: max(1, len(records) // 4)][:4]:
        estimator.measure(record)
    return estimator.average * len(records)


class FirstRecords(Combiner):
    """The combiner of a Reduce with a limit: ``(key, partial group) -> its first `limit` records`` in the
    group order (``order``: key function, descending). Picklable when the order's key function is."""

    def __init__(self, order: tuple[Callable[[Any], Any], bool], limit: int):
        self.order, self.limit = order, limit

    def combine(self, _key: Any, group: list[Any]) -> list[Any]:
        key, descending = self.order
        return list(first_records(group, key, descending, self.limit))
