"""The inline executor: runs a PACT program in this process, streaming records through chained generators.

Source -> Map -> ... -> Sink chains stay generators end to end (the chaining of sec. 7.3 of VLDB J. 2014,
in one process): no stage materialises more than its local strategy needs (plus the block of at most 256
records a timed contract pulls at once, see ``pact_backend.runtime.stats.metered``). Reduce and CoGroup
hash-group their inputs, Match builds a hash table on one side and streams the other, Cross materialises its
second input. A contract read by several consumers is computed once and kept as a list until its last consumer has
read it. Sinks commit only after every sink has written all its records; any failure aborts them all.
With a progress reporter (``pact_backend.progress``), every contract shows a line of records emitted so far.
"""

from __future__ import annotations

import itertools
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend import contracts as pact
from pact_backend.io.parts import open_sink
from pact_backend.progress import NoProgress
from pact_backend.runtime.checks import check_plan, consumer_counts
from pact_backend.runtime.grouping import cogroups, reduce_groups
from pact_backend.runtime.join import choose_build_side, hash_join, nested_loop_cross
from pact_backend.runtime.stats import BLOCK, ContractStats, Meter, RunStats, metered_blocks


def _timed(source: Callable[[], Iterable[Any]], meter: Meter, block: int = BLOCK
           ) -> tuple[Iterator[Any], Iterator[Any]]:
    """(records, closer): the records of ``source()`` (called lazily, so its setup time counts too), counted
    and timed into ``meter`` per ``block`` records (``pact_backend.runtime.stats.metered_blocks``); closing
    ``closer`` settles the meter."""
    blocks = metered_blocks(source, meter, block)
    return itertools.chain.from_iterable(blocks), blocks


REPORT_EVERY = 4096  # records between two progress updates of a contract


def _reported(stream: Iterator[Any], progress: Any, contract: pact.Contract) -> Iterator[Any]:
    """Yield ``stream``'s records, telling ``progress`` every REPORT_EVERY records (and at the end)."""
    key = ("contract", contract.id)
    progress.begin(key, f"{contract.kind} {contract.name}", None, unit="record")
    count = 0
    try:
        for record in stream:
            yield record
            count += 1
            if count == REPORT_EVERY:
                progress.advance(key, count, count)
                count = 0
    finally:
        progress.advance(key, count, count)
        progress.end(key)


def _counted(source: Callable[[], Iterable[Any]], meter: Meter, block: int = BLOCK
             ) -> tuple[Iterator[Any], Iterator[Any]]:
    """(records, closer) like ``_timed``, counting the records of ``source()`` into ``meter`` untimed."""
    stream = _counting(source, meter)
    return stream, stream


def _counting(source: Callable[[], Iterable[Any]], meter: Meter) -> Iterator[Any]:
    count = 0
    try:
        for record in source():
            count += 1
            yield record
    finally:
        meter.records += count


class InlineExecutor:
    """Runs a ``PactPlan`` in the calling process; ``run(plan) -> RunStats``.

    ``timing``: measure seconds per contract (two clock reads per ``block`` records and contract: a timed
    contract pulls its records ``block`` at a time, so it runs up to ``block - 1`` records ahead of its
    consumer; ``block=1`` streams strictly record by record at two clock reads per record); when
    False only records are counted and per-contract seconds stay 0 (the total is always measured).
    ``combine_threshold``: a Reduce with a combiner (and no group order) combines a group each time it
    reaches this many records, bounding memory for algebraic aggregations. Hints picked up: a Match builds
    its hash table on the smaller input when both inputs carry ``output_bytes`` or ``output_records`` hints,
    else on input 1. DOP hints are ignored (one process). ``progress``: a ``pact_backend.progress`` reporter
    (default: none) shown the records of every contract as they flow. Raises PlanStructureError for malformed
    programs; exceptions of UDFs and formats propagate unchanged after every opened sink writer was aborted.
    """

    def __init__(self, timing: bool = True, combine_threshold: int = 1024, progress: Any = None,
                 block: int = BLOCK):
        if combine_threshold < 1:
            raise ValueError(f"combine_threshold must be at least 1, got {combine_threshold}")
        if block < 1:
            raise ValueError(f"block must be at least 1, got {block}")
        self.block = block
        self.timing = timing
        self.combine_threshold = combine_threshold
        self.progress = progress if progress is not None else NoProgress()

    def run(self, plan: pact.PactPlan) -> RunStats:
        """Execute ``plan``: every sink writes and commits; returns per-contract statistics."""
        run = _Run(plan, self.timing, self.combine_threshold, self.block)
        run.progress = self.progress
        try:
            return run.execute()
        finally:
            self.progress.close()


class _Run:
    """The state of one execution: meters, shared (materialised) results, open generators and writers."""

    def __init__(self, plan: pact.PactPlan, timing: bool, combine_threshold: int, block: int = BLOCK):
        self.plan = plan
        self.timing = timing
        self.meter, self.block = (_timed if timing else _counted), block
        self.order = check_plan(plan)
        self.consumers = consumer_counts(self.order)
        self.combine_threshold = combine_threshold
        self.out_meters = {c.id: Meter() for c in self.order}
        self.in_meters: dict[int, list[Meter]] = {c.id: [] for c in self.order}
        self.shared: dict[int, list[Any]] = {}
        self.unread: dict[int, int] = {}
        self.generators: list[Iterator[Any]] = []
        self.progress: Any = NoProgress()

    # -- driving the sinks ------------------------------------------------------------------------------------

    def execute(self) -> RunStats:
        start = perf_counter()
        writers: list[Any] = []
        committed = 0
        try:
            for sink in self.plan.sinks:
                self._write(sink, writers)
            self._close_generators(quietly=False)
            for sink, writer in zip(self.plan.sinks, writers):
                self._commit(sink, writer)
                committed += 1
        except BaseException:
            self._close_generators(quietly=True)
            for writer in writers[committed:]:
                _abort_quietly(writer)
            raise
        return self._stats(perf_counter() - start)

    def _close_generators(self, quietly: bool) -> None:
        """Close every pipeline generator (runs UDF cleanup, settles meters); ``quietly`` hides close errors."""
        for generator in reversed(self.generators):
            try:
                generator.close()
            except Exception:
                if not quietly:
                    raise

    def _write(self, sink: pact.Sink, writers: list[Any]) -> None:
        records = self._edge(sink, sink.inputs[0])
        meter = self.out_meters[sink.id]
        start, count = perf_counter(), 0
        try:
            writer = open_sink(sink.output_format)
            writers.append(writer)
            write = writer.write
            for record in records:
                write(record)
                count += 1
        finally:
            meter.records += count
            meter.seconds += perf_counter() - start

    def _commit(self, sink: pact.Sink, writer: Any) -> None:
        start = perf_counter()
        writer.commit()
        self.out_meters[sink.id].seconds += perf_counter() - start

    # -- building the generator pipeline ----------------------------------------------------------------------

    def _edge(self, consumer: pact.Contract, source: pact.Contract) -> Iterator[Any]:
        """The records of ``source`` as read by ``consumer`` (a shared source is read from its list)."""
        if self.consumers[source.id] > 1:
            meter = Meter()
            stream, closer = self.meter(lambda: self._shared_records(source), meter, self.block)
            self.generators.append(closer)
        else:
            meter = self.out_meters[source.id]
            stream = self._open(source)
        self.in_meters[consumer.id].append(meter)
        return stream

    def _open(self, contract: pact.Contract) -> Iterator[Any]:
        inputs = [self._edge(contract, source) for source in contract.inputs]
        driver = _DRIVERS[_kind(contract)]
        stream, closer = self.meter(lambda: driver(self, contract, inputs), self.out_meters[contract.id],
                                    self.block)
        self.generators.append(closer)
        if self.progress.active:
            stream = _reported(stream, self.progress, contract)
            self.generators.append(stream)
        return stream

    def _shared_records(self, contract: pact.Contract) -> Iterator[Any]:
        records = self.shared.get(contract.id)
        if records is None:
            records = self.shared[contract.id] = list(self._open(contract))
            self.unread[contract.id] = self.consumers[contract.id]
        yield from records
        self.unread[contract.id] -= 1
        if not self.unread[contract.id]:
            del self.shared[contract.id]

    # -- statistics -------------------------------------------------------------------------------------------

    def _stats(self, seconds: float) -> RunStats:
        entries = []
        for c in self.order:
            out, ins = self.out_meters[c.id], self.in_meters[c.id]
            records_in = out.records if isinstance(c, pact.Source) else sum(m.records for m in ins)
            own = max(0.0, out.seconds - sum(m.seconds for m in ins)) if self.timing else 0.0
            entries.append(ContractStats(c.id, c.name, c.kind, records_in, out.records, own))
        return RunStats(entries, seconds)


def _abort_quietly(writer: Any) -> None:
    """Abort ``writer``; a failing abort must not hide the error that caused it."""
    try:
        writer.abort()
    except Exception:  # noqa: BLE001 - the original exception is re-raised by the caller
        pass


# -- drivers: one generator function per contract kind (the local strategies) ----------------------------------

def _source(run: _Run, c: pact.Source, inputs: list[Iterator[Any]]) -> Iterable[Any]:
    return c.input_format.read()  # drivers are called lazily, at the first pull: no extra generator layer


def _map(run: _Run, c: pact.Map, inputs: list[Iterator[Any]]) -> Iterable[Any]:
    return c.udf(inputs[0])


def _reduce(run: _Run, c: pact.Reduce, inputs: list[Iterator[Any]]) -> Iterator[Any]:
    udf = c.udf
    for key, group in reduce_groups(inputs[0], c.key, c.group_order, c.combiner, run.combine_threshold, c.limit):
        yield from udf(key, group)


def _match(run: _Run, c: pact.Match, inputs: list[Iterator[Any]]) -> Iterator[Any]:
    build = choose_build_side(c.inputs[0].hints, c.inputs[1].hints)
    probe = 1 - build
    yield from hash_join(inputs[probe], inputs[build], c.keys[probe], c.keys[build], c.udf,
                         build_is_left=build == 0)


def _cross(run: _Run, c: pact.Cross, inputs: list[Iterator[Any]]) -> Iterator[Any]:
    yield from nested_loop_cross(inputs[0], inputs[1], c.udf)


def _cogroup(run: _Run, c: pact.CoGroup, inputs: list[Iterator[Any]]) -> Iterator[Any]:
    udf = c.udf
    for key, left, right in cogroups(inputs[0], inputs[1], c.keys, c.group_order):
        yield from udf(key, left, right)


def _union(run: _Run, c: pact.Union, inputs: list[Iterator[Any]]) -> Iterator[Any]:
    yield from itertools.chain.from_iterable(inputs)


_DRIVERS: dict[type, Callable[[_Run, Any, list[Iterator[Any]]], Iterator[Any]]] = {
    pact.Source: _source, pact.Map: _map, pact.Reduce: _reduce, pact.Match: _match,
    pact.Cross: _cross, pact.CoGroup: _cogroup, pact.Union: _union,
}


def _kind(contract: pact.Contract) -> type:
    """The driver key of ``contract``: its class, or the contract base class it derives from."""
    if type(contract) in _DRIVERS:
        return type(contract)
    return next(cls for cls in _DRIVERS if isinstance(contract, cls))
