"""Run statistics of an executed PACT program: records in/out and seconds per contract (RunStats)."""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Iterable, Iterator


class Meter:
    """Records passed and seconds spent (inclusive of upstream work) on one stream of a driver chain."""

    __slots__ = ("records", "seconds")

    def __init__(self) -> None:
        self.records, self.seconds = 0, 0.0


def metered(stream: Iterable[Any], meter: Meter) -> Iterator[Any]:
    """Yield ``stream``'s records, counting them and timing every pull into ``meter`` (seconds, inclusive of
    upstream work; a consumer subtracts its inputs' time to get its own)."""
    clock, count, spent = perf_counter, 0, 0.0
    start = clock()
    try:
        for record in stream:
            spent += clock() - start
            count += 1
            yield record
            start = clock()
        spent += clock() - start
    finally:
        meter.records += count
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
    """Statistics of one run: one ``ContractStats`` per contract (topological order) and the wall time.

    Look-ups: ``get(name)`` (first contract with that name, KeyError otherwise), ``of(contract)`` (by contract
    id), ``sinks()`` (the Sink entries). ``table()`` renders everything as an aligned text table.
    """

    contracts: list[ContractStats] = field(default_factory=list)
    seconds: float = 0.0

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
        """An aligned text table: one row per contract (id, kind, name, in, out, seconds), then the total."""
        header = ("#", "kind", "name", "in", "out", "seconds")
        rows = [(str(c.id), c.kind, c.name, str(c.records_in), str(c.records_out), f"{c.seconds:.3f}")
                for c in self.contracts]
        rows.append(("", "total", "", "", "", f"{self.seconds:.3f}"))
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        numeric = {0, 3, 4, 5}

        def line(row: tuple[str, ...]) -> str:
            cells = [cell.rjust(w) if i in numeric else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths))]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])
