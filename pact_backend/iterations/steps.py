"""Preparing a step plan for its supersteps: the constant data path is computed once and cached, joins with a
cached side become look-ups in a hash table built once, and joins with the solution set become look-ups in the
solution set's index (VLDB J. 2014, sec. 5.3: "the optimizer ... caches the constant data path", and the
solution set kept as an index for the incremental iteration).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from pact_backend import contracts as pact
from pact_backend.io.memory import CollectOutput, MemoryInput
from pact_backend.iterations.contracts import SOLUTION, Placeholder


def rewire(sinks: list[pact.Contract], replace: dict[int, pact.Contract]) -> list[pact.Contract]:
    """Copies of ``sinks`` and their inputs in which every contract whose id is in ``replace`` is swapped for
    its replacement (a fresh contract: its own inputs, if any, are rewired too); contracts whose inputs do not
    change are kept as they are (copies keep their ids)."""
    done: dict[int, pact.Contract] = {}

    def visit(c: pact.Contract) -> pact.Contract:
        if c.id in done:
            return done[c.id]
        new = replace.get(c.id)
        if new is not None:
            done[c.id] = new
            new.inputs = [visit(i) for i in new.inputs]
            return new
        inputs = [visit(i) for i in c.inputs]
        new = c
        if any(a is not b for a, b in zip(inputs, c.inputs)):
            new = copy.copy(c)
            new.inputs = inputs
        done[c.id] = new
        return new

    return [visit(s) for s in sinks]


def dynamic_ids(plan: pact.PactPlan) -> set[int]:
    """Ids of the contracts of ``plan`` that read a Placeholder, directly or indirectly (the dynamic path)."""
    dynamic: set[int] = set()
    for c in plan.contracts():
        if isinstance(c, Placeholder) or any(i.id in dynamic for i in c.inputs):
            dynamic.add(c.id)
    return dynamic


class SolutionIndex:
    """The solution set of a workset iteration: a dict from ``key(record)`` to the record (insertion order)."""

    def __init__(self, key: pact.Key | Callable[[Any], Any], records: Iterable[Any] = ()):
        self.key = key = pact.Key.of(key).fn
        self.table: dict[Any, Any] = {key(r): r for r in records}

    def merge(self, delta: Iterable[Any]) -> None:
        """Replace (or add) the record of every delta record's key."""
        key, table = self.key, self.table
        for record in delta:
            table[key(record)] = record


class _Lookup:
    """Map UDF of a join turned into look-ups: each record of the streamed input ``probe_key``s into ``table``
    (a key -> list of records dict, or a SolutionIndex: key -> one record); ``udf(left, right)`` keeps the
    Match's argument order (``table_is_left``). With ``cogroup`` the UDF is a CoGroup's (key, left, right)."""

    def __init__(self, table: Any, probe_key: pact.Key, udf: Any, table_is_left: bool, single: bool):
        self.table, self.probe_key, self.udf = table, probe_key.fn, udf
        self.table_is_left, self.single = table_is_left, single

    def __call__(self, records: Iterator[Any]) -> Iterator[Any]:
        udf, left, probe_key, single = self.udf, self.table_is_left, self.probe_key, self.single
        get = (self.table.table if isinstance(self.table, SolutionIndex) else self.table).get
        for record in records:
            found = get(probe_key(record))
            if found is None:
                continue
            for other in ((found,) if single else found):
                yield from (udf(other, record) if left else udf(record, other))


class _CoGroupLookup(_Lookup):
    """Reduce UDF of a CoGroup with the solution set: the group of the streamed side and the solution record of
    its key (or none); called only for keys of the streamed side."""

    def __call__(self, key: Any, group: list[Any]) -> Iterator[Any]:  # type: ignore[override]
        table = self.table.table
        found = table.get(key)
        other = [] if found is None else [found]
        yield from (self.udf(key, other, group) if self.table_is_left else self.udf(key, group, other))


@dataclass
class PreparedStep:
    """A step plan ready for its supersteps: ``plan`` (sinks collecting into ``outputs``), the run-local
    ``placeholders`` by role, the ``index`` of the solution set (workset iterations) and what was cached."""

    plan: pact.PactPlan
    outputs: list[CollectOutput]
    placeholders: dict[str, Placeholder]
    index: SolutionIndex | None = None
    constant_contracts: int = 0
    constant_records: int = 0
    cached_joins: int = 0
    solution_lookups: int = 0

    def outputs_records(self) -> list[list[Any]]:
        return [out.records for out in self.outputs]


def same_key(a: Any, b: Any) -> bool:
    """Whether keys ``a`` and ``b`` (Keys or plain functions) are the same key (equal fields, equal
    descriptions or the same function)."""
    return a is not None and pact.Key.of(a) == pact.Key.of(b)


def prepare(step: pact.PactPlan, compute: Callable[[list[pact.Contract]], list[list[Any]]],
            solution_key: Any = None) -> PreparedStep:
    """Prepare ``step`` for its supersteps: run-local placeholders, collecting sinks, the constant path computed
    once through ``compute(contracts) -> records per contract`` and replaced by memory sources or cached join
    tables, and solution-set joins (on ``solution_key``) turned into look-ups."""
    placeholders = {p.id: copy.copy(p) for p in step.contracts() if isinstance(p, Placeholder)}
    outputs = [CollectOutput(s.name) for s in step.sinks]
    sinks = []
    for sink, out in zip(step.sinks, outputs):
        sinks.append(copy.copy(sink))
        sinks[-1].output_format = out
    plan = pact.PactPlan(rewire(sinks, dict(placeholders)))
    prepared = PreparedStep(plan, outputs, {p.role: p for p in placeholders.values()})
    if solution_key is not None:
        prepared.index = SolutionIndex(solution_key)
    _cache_constant_path(prepared, compute)
    if prepared.index is not None:
        _solution_lookups(prepared, solution_key)
    prepared.placeholders = {p.role: p for p in prepared.plan.contracts() if isinstance(p, Placeholder)}
    return prepared


def _cache_constant_path(prepared: PreparedStep, compute: Callable) -> None:
    """Compute the static contracts read by dynamic ones once; cache them as memory sources or join tables."""
    plan = prepared.plan
    dynamic = dynamic_ids(plan)
    frontier = {i.id: i for c in plan.contracts() if c.id in dynamic or isinstance(c, pact.Sink)
                for i in c.inputs if i.id not in dynamic}
    if not frontier:
        return
    results = dict(zip(frontier, compute(list(frontier.values()))))
    static = [c for c in plan.contracts() if c.id not in dynamic and not isinstance(c, pact.Sink)]
    prepared.constant_contracts = len(static)
    prepared.constant_records = sum(len(r) for r in results.values())
    replace: dict[int, pact.Contract] = {}
    for c in plan.contracts():
        if isinstance(c, pact.Match) and c.id in dynamic and sum(i.id in frontier for i in c.inputs) == 1:
            side = 0 if c.inputs[0].id in frontier else 1
            table: dict[Any, list[Any]] = {}
            for record in results[c.inputs[side].id]:
                table.setdefault(c.keys[side].fn(record), []).append(record)
            replace[c.id] = _lookup_map(c, side, table, single=False, note="cached join table")
            prepared.cached_joins += 1
    for cid, records in results.items():
        old = frontier[cid]
        source = pact.Source(name=f"cached {old.name}", input_format=MemoryInput(records, f"cached {old.name}"))
        source.hints.output_records = len(records)
        replace.setdefault(cid, source)
    prepared.plan = pact.PactPlan(rewire(plan.sinks, replace))


def _lookup_map(c: pact.Contract, table_side: int, table: Any, single: bool, note: str) -> pact.Contract:
    """The Map (Match) or Reduce (CoGroup) streaming the other input of ``c`` through look-ups in ``table``."""
    probe = 1 - table_side
    if isinstance(c, pact.CoGroup):
        order = c.group_order[probe] if c.group_order else None
        udf = _CoGroupLookup(table, c.keys[probe], c.udf, table_side == 0, single)
        new: pact.Contract = pact.Reduce(name=f"{c.name} ({note})", inputs=[c.inputs[probe]], key=c.keys[probe],
                                         udf=udf, group_order=order, dop=c.dop,
                                         sequence_groups=c.sequence_groups)
    else:
        udf = _Lookup(table, c.keys[probe], c.udf, table_side == 0, single)
        new = pact.Map(name=f"{c.name} ({note})", inputs=[c.inputs[probe]], udf=udf, dop=c.dop)
    new.id = c.id
    new.hints = copy.copy(c.hints)
    return new


def _solution_lookups(prepared: PreparedStep, solution_key: Any) -> None:
    """Matches and CoGroups reading the solution set directly on its key become look-ups in its index."""
    solution = prepared.placeholders.get(SOLUTION)
    if solution is None:
        return
    replace = {}
    for c in prepared.plan.contracts():
        if not isinstance(c, (pact.Match, pact.CoGroup)) or c.keys is None:
            continue
        sides = [i for i, source in enumerate(c.inputs) if source is solution and same_key(c.keys[i], solution_key)]
        if len(sides) == 1 and c.inputs[1 - sides[0]] is not solution:
            replace[c.id] = _lookup_map(c, sides[0], prepared.index, single=True, note="solution set look-up")
            prepared.solution_lookups += 1
    if replace:
        prepared.plan = pact.PactPlan(rewire(prepared.plan.sinks, replace))
