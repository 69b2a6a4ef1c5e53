"""Run statistics of an executed PACT program: records in/out and seconds per contract (RunStats)."""

from __future__ import annotations

from dataclasses import field
from itertools import chain, islice
from operator import length_hint
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.quick_dataclass import dataclass


class Meter:
    """Records passed and seconds spent (inclusive of upstream work) on one stream of a driver chain."""

    __slots__ = ("records", "seconds")

    def __init__(self) -> None:
        self.records, self.seconds = 0, 0.0


BLOCK = 256  # records pulled per clock reading by ``metered``


def metered(stream: Iterable[Any], meter: Meter, block: int = BLOCK) -> Iterator[Any]:
    """Yield ``stream``'s records (in order, unchanged), counting them exactly and timing their pulls into
    ``meter`` (seconds, inclusive of upstream work; a consumer subtracts its inputs' time to get its own).

    Timing per block: the records are pulled in blocks (1, 2, 4, ... up to ``block`` records) into a list
    between two clock readings and the lists are flattened by ``itertools.chain`` (in C), so a record costs
    neither a clock reading nor a generator resumption, and the time the consumer spends between two records
    is never counted. The price: upstream runs ahead of the consumer by less than the current block (at most
    ``block - 1`` records, and never more than the consumer has taken so far, so a consumer that stops early
    makes upstream read at most about twice what it took); no record is lost or reordered, and an upstream
    error surfaces at its block.
    """
    return chain.from_iterable(metered_blocks(lambda: stream, meter, block))


def metered_call(source: Callable[[], Iterable[Any]], meter: Meter, block: int = BLOCK) -> Iterator[Any]:
    """Like ``metered`` over ``source()``, called lazily at the first pull so that its setup time counts too."""
    return chain.from_iterable(metered_blocks(source, meter, block))


def metered_blocks(source: Callable[[], Iterable[Any]], meter: Meter, block: int = BLOCK
                   ) -> Iterator[Iterator[Any]]:
    """The records of ``source()`` (called at the first pull) as iterators over blocks of up to ``block``
    records, metered as ``metered`` describes; flatten with ``itertools.chain.from_iterable``. Closing the
    generator (or exhausting it) settles ``meter``: records handed out minus those left in the last block."""
    clock, take, count, spent, size = perf_counter, islice, 0, 0.0, 1
    pending = iter(())  # the current block's records not taken by the consumer yet
    start, pulling = clock(), True
    try:
        records = iter(source())
        while True:
            chunk = list(take(records, size))
            size = min(block, 2 * size)
            spent += clock() - start
            pulling = False
            if not chunk:
                break
            count += len(chunk)
            pending = iter(chunk)
            yield pending
            start, pulling = clock(), True
    finally:
        if pulling:
            spent += clock() - start
        meter.records += count - length_hint(pending)  # a consumer that stopped early did not take those
        meter.seconds += spent


@dataclass
class ContractStats:
    """What one contract did in a run.

    ``records_in``: records it pulled from its inputs (for a Source: records read from its format);
    ``records_out``: records it emitted (for a Sink: records written); ``seconds``: time spent in the contract
    itself (its driver and UDF), excluding the time its inputs took to produce their records.
    """

    id: int
    name: str
    kind: str
    records_in: int = 0
    records_out: int = 0
    seconds: float = 0.0


@dataclass
class RunStats:
    """Statistics of one run: one ``ContractStats`` per contract (topological order) and the wall time;
    ``executed``: contract id -> how the executor ran it (ship and local strategies, chained, combined,
    fused; the keys of ``PhysicalNode.execution()``), as its stages and tasks report it; ``iterations``: the
    IterationStats of the program's iterations (``pact_backend.iterations``), if it had any.

    Look-ups: ``get(name)`` (first contract with that name, KeyError otherwise), ``of(contract)`` (by contract
    id), ``sinks()`` (the Sink entries). ``table()`` renders everything as an aligned text table.
    """

    contracts: list[ContractStats] = field(default_factory=list)
    seconds: float = 0.0
    executed: dict[int, dict[str, Any]] = field(default_factory=dict)
    iterations: list[Any] = field(default_factory=list)

    def get(self, name: str) -> ContractStats:
        """The stats of the first contract called ``name``; raises KeyError naming the known names."""
        for entry in self.contracts:
            if entry.name == name:
                return entry
        raise KeyError(f"no contract named {name!r}; known: {', '.join(c.name for c in self.contracts)}")

    def of(self, contract) -> ContractStats:
        """The stats of ``contract`` (matched by its id); raises KeyError if it was not part of the run."""
        for entry in self.contracts:
            if entry.id == contract.id:
                return entry
        raise KeyError(f"contract {contract!r} was not part of this run")

    def sinks(self) -> list[ContractStats]:
        """The entries of all sinks, in plan order."""
        return [entry for entry in self.contracts if entry.kind == "Sink"]

    def table(self) -> str:
        """An aligned text table: one row per contract (id, kind, name, in, out, seconds), then the run's
        wall-clock seconds (``seconds``; not the sum of the rows: chained contracts overlap, and a run also
        starts workers and waits for them)."""
        header = ("#", "kind", "name", "in", "out", "seconds")
        rows = [(str(c.id), c.kind, c.name, str(c.records_in), str(c.records_out), f"{c.seconds:.3f}")
                for c in self.contracts]
        rows.append(("", "run", "wall clock of the whole run", "", "", f"{self.seconds:.3f}"))
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        numeric = {0, 3, 4, 5}

        def line(row: tuple[str, ...]) -> str:
            cells = [cell.rjust(w) if i in numeric else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths))]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])
