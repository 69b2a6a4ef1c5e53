"""Iteration contracts (VLDB J. 2014, sec. 5.3): a bulk iteration and an incremental (workset) iteration, each a
node of a PACT program whose step function is itself a PACT program over placeholder sources.

The executors never see these contracts: ``pact_backend.iterations.driver`` computes an iteration's inputs,
runs its step plan once per superstep through the executor's ``run`` and puts the result in its place.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Callable

from pact_backend import contracts as pact
from pact_backend.io.memory import MemoryInput
from pact_backend.quick_dataclass import dataclass

PARTIAL, SOLUTION, WORKSET = "partial solution", "solution set", "workset"


@dataclass(eq=False, repr=False)
class Placeholder(pact.Source):
    """A source inside a step plan standing for the partial solution, the solution set or the workset of the
    current superstep (``role``); the driver fills ``input_format`` before every superstep."""

    role: str = PARTIAL
    kind = "Placeholder"

    def __post_init__(self) -> None:
        if self.input_format is None:
            self.input_format = MemoryInput([], self.role)


@dataclass(eq=False, repr=False)
class Iteration(pact.Contract):
    """Base of the iteration contracts: ``step`` is the step plan (its sinks are the step's outputs),
    ``max_supersteps`` bounds the loop (None: no bound)."""

    step: pact.PactPlan | None = None
    max_supersteps: int | None = None

    def derive_estimate(self, inputs: list[Any]) -> Any:
        """The optimizer's estimate of the result: the size of the initial (partial) solution."""
        from pact_backend.optimizer.estimates import Sized
        from pact_backend.physical import Estimate

        first = inputs[0].estimate
        return Sized(Estimate(first.records, first.bytes), None, ["as large as the initial solution"])


@dataclass(eq=False, repr=False)
class BulkIteration(Iteration):
    """Bulk iteration: ``inputs[0]`` is the initial partial solution; every superstep runs ``step`` with the
    ``partial`` placeholder holding the current partial solution and takes the records of ``step.sinks[0]`` as
    the next one. It stops after ``max_supersteps``, when the termination criterion (``step.sinks[1]``, if
    ``has_termination``) is empty, or when ``until(previous, current, superstep) -> bool`` says so."""

    partial: Placeholder | None = None
    has_termination: bool = False
    until: Callable[[list[Any], list[Any], int], bool] | None = None
    kind = "BulkIteration"


@dataclass(eq=False, repr=False)
class WorksetIteration(Iteration):
    """Incremental iteration: ``inputs`` are the initial solution set and the initial workset. The solution set
    is keyed by ``solution_key``; every superstep runs ``step`` with the ``solution`` and ``workset`` placeholders;
    the records of ``step.sinks[0]`` (the delta) replace the solution records of equal key (or are added), those
    of ``step.sinks[1]`` are the next workset. It stops when the workset is empty (or after ``max_supersteps``)."""

    solution_key: pact.KeyFunction | None = None
    solution: Placeholder | None = None
    workset: Placeholder | None = None
    kind = "WorksetIteration"


def iterations_of(plan: pact.PactPlan) -> list[Iteration]:
    """The iteration contracts of ``plan`` (not of nested step plans), inputs before consumers."""
    return [c for c in plan.contracts() if isinstance(c, Iteration)]


@dataclass
class SuperstepStats:
    """One superstep: records of the partial solution or workset going in (``records_in``), of the next one
    (``records_out``), of the delta (workset iterations), the solution set's size after the delta, the records
    all contracts of the step read (``records_processed``: the work of the superstep) and the seconds."""

    superstep: int
    records_in: int
    records_out: int
    delta: int | None = None
    solution: int | None = None
    records_processed: int = 0
    seconds: float = 0.0


@dataclass
class IterationStats:
    """A run of one iteration contract: its supersteps, the constant path computed once (contracts, records
    cached, joins turned into look-ups in cached hash tables) and why it stopped."""

    name: str
    kind: str
    supersteps: list[SuperstepStats] = field(default_factory=list)
    constant_contracts: int = 0
    constant_records: int = 0
    cached_joins: int = 0
    solution_lookups: int = 0
    stopped: str = ""
    seconds: float = 0.0

    def table(self) -> str:
        """Per-superstep rows: in, out, delta, solution, processed, seconds; a header and a summary line."""
        workset = self.kind == WorksetIteration.kind
        head = ["step", "workset" if workset else "partial", "next", *(["delta", "solution"] if workset else []),
                "processed", "seconds"]
        rows = [[str(s.superstep), str(s.records_in), str(s.records_out),
                 *([str(s.delta), str(s.solution)] if workset else []), str(s.records_processed),
                 f"{s.seconds:.3f}"] for s in self.supersteps]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = [f"{self.kind} {self.name}: {len(self.supersteps)} supersteps, {self.stopped}; constant path "
                 f"{self.constant_contracts} contracts / {self.constant_records} records computed once, "
                 f"{self.cached_joins} cached join tables, {self.solution_lookups} solution-set look-ups"]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in [head, *rows]]
        return "\n".join(lines)
