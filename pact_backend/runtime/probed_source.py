"""A source stage whose records probe a chained Match, read as row batches: keys are computed from decoded rows and
records are built only for the rows that find a match (VLDB J. 2014, sec. 7.3: a chained hash join).

A stage ``Source -> selection Map* -> chained Match`` (TPC-H's lineitem probing the orders it joins) used to build
one record per input line that passed the selections, compute its key and look it up, though most of them find
no partner. A Match may declare a batch hook (``Match.batch_probe``, from the layer above, opaque here):
``hook.plan(input_format, selections, side)`` returns None or a *probed source* with

- ``batches(split)``: the input of one split (None: the whole input) as opaque batches;
- ``rows(batch) -> (rows, [rows passing selection 1, 2, ...]) | None``: the rows of ``batch`` that pass every
  selection, as opaque rows (None: this batch cannot be read so);
- ``row_key(batch)``: a function from a row of ``batch`` to the key the Match's key function gives for its record;
- ``records_of(rows, batch)``: the records of some rows of ``batch``, as the source would have produced them;
- ``records(batch)`` and ``filter(batch)``: as a filtered source (``filtered_source``), for the record path.

``probed_matches`` drives it: the build side is read into a hash table as the Match driver does; a batch ``rows``
refuses or that raises goes record by record through the selection UDFs and the record key, so the pairs, their
order (probe order, a key's build records in their order) and any error are those of the record path. A build
side past the memory budget turns the whole probe side into records for the grace hash join.
"""

from __future__ import annotations

from itertools import compress
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.filtered_source import filtered_records, leading_hooks, select_batch, timed_batches
from pact_backend.runtime.spill import build_table, grace_hash_join, probe_table
from pact_backend.runtime.stats import Meter


def probed_plan(kind: str, head: dict[str, Any], chain: list[tuple[int, Any]], hooks: list[Any],
                selections: list[Any]) -> tuple[Any, int]:
    """(probed source, number of leading chained selections it runs) of a source stage whose chain is selection
    Maps declaring batch hooks (``hooks``: each chain entry's ``batch_selection``, None where there is none)
    followed by a chained Match (an entry with ``batch_probe``, ``build`` and ``keys``) declaring a batch
    probe hook; else (None, 0)."""
    if kind != "source":
        return None, 0
    count = leading_hooks(hooks)
    if count >= len(chain):
        return None, 0
    hook = getattr(chain[count][1], "batch_probe", None)
    if hook is None:
        return None, 0
    plan = hook.plan(head["input_format"], selections[:count], 1 - chain[count][1].build)
    return (plan, count) if plan is not None else (None, 0)


def probed_matches(plan: Any, match: Any, splits: list[Any] | None, build: Iterable[Any],
                   udfs: list[Callable[[Iterator[Any]], Iterable[Any]]], meters: list[Meter], ctx: Any
                   ) -> Iterator[Any]:
    """The output of the chained Match ``match`` (``keys``, ``udf``, ``build`` index) for the probe records read
    through ``plan`` and the selections ``udfs`` against ``build`` (every build record). ``meters``: the
    source's and each selection's (seconds inclusive of upstream, as ``stats.metered``); ``ctx`` the task's
    DriverContext (budget, spill directory)."""
    side = match.build
    probe_key, build_key = match.keys[1 - side], match.keys[side]
    table, rest, record_bytes = build_table(build, build_key, ctx.budget)
    if rest is not None:  # past the budget: the grace hash join reads the probe side as records
        records = filtered_records(plan, splits, udfs, meters[0], meters[1:])
        yield from grace_hash_join(records, table, rest, record_bytes, (probe_key, build_key), match.udf,
                                   side == 0, ctx.budget, ctx.spill)
        return
    source, selected = meters[0], meters[1:]
    clock, spent = perf_counter, 0.0
    for batch, read, took in timed_batches(plan, splits, source):
        rows, records = select_batch(plan.rows, plan, batch, udfs, source, selected)
        if records is not None:
            out = list(probe_table(records, table, probe_key, match.udf, side == 0))
        else:
            out = _probe_rows(plan, batch, rows, table, match.udf, side == 0)
        spent += took + clock() - read
        for meter in selected:
            meter.seconds = spent
        yield from out


def _probe_rows(plan: Any, batch: Any, rows: list[Any], table: dict[Any, list[Any]],
                udf: Callable[[Any, Any], Iterable[Any]], build_is_left: bool) -> list[Any]:
    """The pairs' output for the ``rows`` of ``batch``: keys looked up in C, records built for hits only."""
    found = list(map(table.get, map(plan.row_key(batch), rows)))
    probes = plan.records_of(list(compress(rows, found)), batch)
    out = []
    for probe, matches in zip(probes, filter(None, found)):  # a key's build records: never an empty list
        for other in matches:
            out.extend(udf(other, probe) if build_is_left else udf(probe, other))
    return out
