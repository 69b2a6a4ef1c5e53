"""Memory-bounded grouping and joining: a hash table that spills sorted runs, and a grace hash join.

Past its budget the grouping table is written as a run sorted by the keys' canonical bytes (keys are opaque
and need not be comparable) and emptied; at the end the runs are merged and equal keys reunited, so inputs
larger than memory finish (VLDB J. 2014, sec. 7.3). A run holds one ``(canonical bytes, key, side, record)``
entry per record, so the merge reads bounded blocks however large a group is; a group is either rebuilt as
lists (what most UDFs receive), or, for a UDF that streams its group, read straight from the merged runs
(``groups(stream=True)``), or, for a UDF that takes sequences, collected into a list or past a limit into a
``groups.SpilledGroup`` (``groups(limit=...)``), so a group larger than memory never is in memory. The join builds in memory and,
past the budget, partitions both sides into bucket files and joins bucket by bucket (grace hash join).
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.digest import blake2b
from pact_backend.runtime.blocks import BucketWriter, read_records
from pact_backend.runtime.groups import GroupCollector, collect_group
from pact_backend.runtime.memory import SizeEstimator, merge_layout
from pact_backend.runtime.partition import canonical_bytes
from pact_backend.runtime.sorter import SpillDir, merge_runs

KeyFunction = Callable[[Any], Any]
PairFunction = Callable[[Any, Any], Iterable[Any]]
Combiner = Callable[[Any, list[Any]], Iterable[Any]]
GRACE_FANOUT = 16
ENTRY_BYTES = 200  # bytes charged per key of a grouping table (its dict slot, key and per-side lists)
SPILLED_ENTRY_BYTES = 80  # the (canonical bytes, key, side, record) tuple around a spilled record


class SpillingGrouper:
    """Groups records of ``sides`` inputs by key; ``add(side, records)`` then ``groups()``.

    ``keys[side]`` is the key function of each input (None: one global group). Groups come as
    ``(key, [records of side 0, records of side 1, ...])``, each side's records in input order; in first-seen
    key order while nothing spilled, else in canonical-bytes order. ``combiner`` (one side only) replaces a
    group of ``threshold`` records by its combination, and combines groups before they spill. ``spilled``
    counts runs written. The table holds about ``budget`` bytes; the merge of the runs at most that too.
    """

    def __init__(self, keys: list[KeyFunction | None], budget: float, spill: SpillDir,
                 combiner: Combiner | None = None, threshold: int = 1024):
        self.keys = keys
        self.budget = budget
        self.spill = spill
        self.combiner = combiner if len(keys) == 1 else None
        self.threshold = threshold
        self.table: dict[Any, list[list[Any]]] = {}
        self.limits: dict[Any, int] = {}
        self.runs: list[Iterable[Any]] = []
        self.used = 0.0
        self.estimator = SizeEstimator()
        self.spilled = 0

    def add(self, side: int, records: Iterable[Any]) -> None:
        """Put every record of ``records`` into its group on input ``side``; spills past the budget."""
        key = self.keys[side]
        if key is None or self.combiner is not None:
            self.add_keyed(side, ((None, r) for r in records) if key is None else ((key(r), r) for r in records))
            return
        # no combiner: the loop of add_keyed with the key computed inline and the estimator's charge inlined
        sides, budget, estimator = len(self.keys), self.budget, self.estimator
        table, used, get = self.table, self.used, self.table.get
        sample, size, countdown = estimator.sample, estimator.average, estimator.countdown
        for record in records:
            k = key(record)
            entry = get(k)
            if entry is None:
                table[k] = entry = [[] for _ in range(sides)]
            entry[side].append(record)
            countdown -= 1
            if not countdown:
                countdown = sample
                size = estimator.measure(record)
            used += size
            if used > budget:
                estimator.countdown = countdown
                self._spill()
                table, used = self.table, 0.0
                get = table.get
        self.used, estimator.countdown = used, countdown

    def add_keyed(self, side: int, pairs: Iterable[tuple[Any, Any]]) -> None:
        """Like ``add`` for (key, record) pairs whose key was computed upstream (combined partial groups)."""
        sides, charge, budget = len(self.keys), self.estimator.charge, self.budget
        combiner, threshold, limits = self.combiner, self.threshold, self.limits
        table, used = self.table, self.used
        for k, record in pairs:
            entry = table.get(k)
            if entry is None:
                table[k] = entry = [[] for _ in range(sides)]
                used += ENTRY_BYTES
            group = entry[side]
            group.append(record)
            used += charge(record)
            if combiner is not None and len(group) >= threshold and len(group) >= limits.get(k, threshold):
                self.used = used
                self._combine(k, group)
                used = self.used
            if used > budget:
                self._spill()
                table, limits, used = self.table, self.limits, 0.0
        self.used = used

    def _combine(self, k: Any, group: list[Any]) -> None:
        before = len(group)
        group[:] = list(self.combiner(k, group))
        self.used -= (before - len(group)) * self.estimator.average
        self.limits[k] = max(self.threshold, 2 * len(group))

    def _sorted_entries(self) -> Iterator[tuple[bytes, Any, int, Any]]:
        """The table as (canonical bytes, key, side, record) entries in canonical-bytes order, every side's
        records in input order; empties the table."""
        if self.combiner is not None:
            for k, entry in self.table.items():
                if len(entry[0]) > 1:
                    entry[0][:] = list(self.combiner(k, entry[0]))
        keyed = [(canonical_bytes(k), k, entry) for k, entry in self.table.items()]
        self.table, self.limits = {}, {}
        keyed.sort(key=itemgetter(0))
        for canon, k, entry in keyed:
            for side, records in enumerate(entry):
                for record in records:
                    yield canon, k, side, record

    def _layout(self) -> tuple[int, int]:
        return merge_layout(self.budget, self.estimator.average + SPILLED_ENTRY_BYTES)

    def _spill(self) -> None:
        segments = self.spill.write_run(self._sorted_entries(), "group", self._layout()[1])
        self.runs.append(read_records(segments))
        self.used = 0.0
        self.spilled += 1

    def groups(self, stream: bool = False, limit: float | None = None) -> Iterator[tuple[Any, list[Any]]]:
        """Every (key, per-side records) once; consumes the grouper. The per-side records are lists, unless
        the grouper spilled and either ``stream`` (one side only: each group's records are an iterator read
        straight from the merged runs, valid until the next group is asked for) or ``limit`` (bytes: each
        side of a group is collected by a ``groups.GroupCollector`` with that limit, so a side larger than it
        comes as a ``SpilledGroup``, which the caller releases)."""
        if not self.runs:
            table, self.table = self.table, {}
            yield from table.items()
            return
        if self.used > self.budget / 2:  # the merge's blocks need the other half of the budget
            self._spill()
        runs = self.runs + ([self._sorted_entries()] if self.table else [])
        self.runs = []
        fan_in, block_records = self._layout()
        merged = merge_runs(runs, itemgetter(0), self.spill, fan_in=fan_in, block_records=block_records)
        sides = len(self.keys)
        estimator = SizeEstimator()  # of the collected groups' records, shared by all groups
        for _, entries in itertools.groupby(merged, itemgetter(0)):
            first = next(entries)
            if stream and sides == 1:
                yield first[1], [_records_of(first, entries)]
                continue
            if limit is not None:
                yield first[1], self._collected(first, entries, limit, estimator)
                continue
            lists: list[list[Any]] = [[] for _ in range(sides)]
            lists[first[2]].append(first[3])
            for _, _, side, record in entries:
                lists[side].append(record)
            yield first[1], lists


    def _collected(self, first: tuple[bytes, Any, int, Any], rest: Iterable[tuple[bytes, Any, int, Any]],
                   limit: float, estimator: SizeEstimator) -> list[Any]:
        """The sides of one spilled group, each collected with ``limit`` bytes (a list or a SpilledGroup)."""
        if len(self.keys) == 1:
            return [collect_group(_records_of(first, rest), limit, self.spill, estimator)]
        collectors = [GroupCollector(limit, self.spill, estimator) for _ in self.keys]
        collectors[first[2]].append(first[3])
        for _, _, side, record in rest:
            collectors[side].append(record)
        return [collector.group() for collector in collectors]


def _records_of(first: tuple[bytes, Any, int, Any], rest: Iterable[tuple[bytes, Any, int, Any]]
                ) -> Iterator[Any]:
    """The records of one spilled group: its first entry's, then the rest's."""
    yield first[3]
    for entry in rest:
        yield entry[3]


def probe_table(probe: Iterable[Any], table: dict[Any, list[Any]], probe_key: KeyFunction, udf: PairFunction,
                build_is_left: bool = False) -> Iterator[Any]:
    """Records of ``udf(left, right)`` for every probe record and its matches in the built ``table``
    (key -> build records); probe order, the build records of one key in their order."""
    get = table.get
    for record in probe:
        matches = get(probe_key(record))
        if matches is None:
            continue
        if build_is_left:
            for other in matches:
                yield from udf(other, record)
        else:
            for other in matches:
                yield from udf(record, other)


def _grace_bucket(fanout: int) -> Callable[[Any], int]:
    """A bucket function over canonical key bytes, independent of the CRC-32 used for shipping."""
    def bucket(key: Any) -> int:
        digest = blake2b(canonical_bytes(key), digest_size=8).digest()
        return int.from_bytes(digest, "little") % fanout
    return bucket


def build_table(build: Iterable[Any], build_key: KeyFunction, budget: float
                ) -> tuple[dict[Any, list[Any]], Iterator[Any] | None, float]:
    """The hash table {key: build records in input order} of ``build``, read until its estimated size passes
    ``budget``: (table, None, bytes per record) when the whole input fits, else (the table so far, an iterator
    over the unread rest, bytes per record) for ``grace_hash_join``."""
    table: dict[Any, list[Any]] = {}
    estimator = SizeEstimator()
    charge, used = estimator.charge, 0.0
    build_iter = iter(build)
    for record in build_iter:
        table.setdefault(build_key(record), []).append(record)
        used += charge(record)
        if used > budget:
            return table, build_iter, estimator.average
    return table, None, estimator.average


def spilling_hash_join(probe: Iterable[Any], build: Iterable[Any], probe_key: KeyFunction,
                       build_key: KeyFunction, udf: Callable[[Any, Any], Iterable[Any]], build_is_left: bool,
                       budget: float, spill: SpillDir, fanout: int = GRACE_FANOUT) -> Iterator[Any]:
    """``udf(left, right)`` output for every pair with equal keys, holding about ``budget`` bytes of build side.

    While the build side fits, this is a plain hash join (probe order). Past the budget both sides are written to
    ``fanout`` bucket files by a hash of the key and joined bucket by bucket (one bucket's build side must
    fit). The probe side is always read to its end.
    """
    table, rest, record_bytes = build_table(build, build_key, budget)
    if rest is None:
        yield from probe_table(probe, table, probe_key, udf, build_is_left)
        return
    yield from grace_hash_join(probe, table, rest, record_bytes, (probe_key, build_key), udf, build_is_left, budget,
                           spill, fanout)


def grace_hash_join(probe: Iterable[Any], table: dict[Any, list[Any]], rest: Iterable[Any], record_bytes: float,
                    keys: tuple[KeyFunction, KeyFunction], udf: PairFunction, build_is_left: bool, budget: float,
                    spill: SpillDir, fanout: int = GRACE_FANOUT) -> Iterator[Any]:
    """The join of ``probe`` with a build side that did not fit: the ``table`` read so far and the ``rest``
    (``build_table``) are written to ``fanout`` bucket files by a hash of the key, so is ``probe``, and the
    buckets are joined one by one. ``keys``: (probe key, build key)."""
    probe_key, build_key = keys
    bucket = _grace_bucket(fanout)
    # the writers' buffers (one block per bucket) fill at most half the budget
    block_records = max(1, int(budget / 2 / fanout / max(1.0, record_bytes)))
    build_out = BucketWriter(spill.new_path("build"), fanout, lambda r: bucket(build_key(r)), block_records,
                            what="spill file")
    for records in table.values():
        build_out.write_all(records)
    table.clear()
    build_out.write_all(rest)
    build_parts = build_out.close()
    probe_out = BucketWriter(spill.new_path("probe"), fanout, lambda r: bucket(probe_key(r)), block_records,
                            what="spill file")
    probe_out.write_all(probe)
    probe_parts = probe_out.close()
    spill.files += 2
    spill.bytes += build_out.file.bytes_written + probe_out.file.bytes_written
    for build_segments, probe_segments in zip(build_parts, probe_parts):
        part: dict[Any, list[Any]] = {}
        for record in read_records(build_segments):
            part.setdefault(build_key(record), []).append(record)
        yield from probe_table(read_records(probe_segments), part, probe_key, udf, build_is_left)
