"""Iterations in the PACT API (VLDB J. 2014, sec. 5.3): ``ds.iterate(step, times, until)`` (bulk) and
``solution.iterate_delta(workset, key, step)`` (incremental). The step function receives placeholder data sets
and returns data sets built from them and from any other data set of the program (those form the constant data
path, computed once); the iteration is one node of the program (pact_backend.iterations).

    ranks = pages.iterate(lambda ranks: ranks.join(links, 0).group_by(0).reduce_group(share), times=20)
    components = vertices.iterate_delta(vertices, 0, step)   # step(solution, workset) -> (delta, next workset)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from pact_backend import contracts as pact
from pact_backend.api_records import KeySpec, key_of
from pact_backend.iterations import (PARTIAL, SOLUTION, WORKSET, BulkIteration, Placeholder, WorksetIteration,
                                     unchanged)

if TYPE_CHECKING:
    from pact_backend.api_datasets import DataSet


def _step_sink(ds: "DataSet", role: str) -> pact.Sink:
    from pact_backend.io.memory import CollectOutput

    return pact.Sink(name=role, inputs=[ds.contract], output_format=CollectOutput(role))


def _placeholder(env: Any, role: str, like: pact.Contract) -> "DataSet":
    from pact_backend.api_datasets import DataSet

    placeholder = Placeholder(name=role, role=role)
    placeholder.hints.output_records = like.hints.output_records
    return DataSet(env, placeholder)


def bulk(initial: "DataSet", step: Callable[["DataSet"], Any], times: int | None = None,
         until: Callable[[list, list, int], bool] | str | None = None) -> "DataSet":
    """The result of a bulk iteration: ``step(partial)`` returns the next partial solution, or the pair
    (next partial solution, termination criterion): the loop ends when the criterion is empty. ``times``:
    the number of supersteps (a bound when another criterion is given); ``until``: ``'unchanged'`` (the
    partial solution did not change) or ``f(previous, current, superstep) -> bool``. Raises ValueError when
    nothing bounds the loop."""
    from pact_backend.api_datasets import DataSet

    partial = _placeholder(initial.env, PARTIAL, initial.contract)
    out = step(partial)
    next_partial, termination = out if isinstance(out, tuple) else (out, None)
    if times is None and until is None and termination is None:
        raise ValueError("a bulk iteration needs times=N, until=... or a termination criterion")
    criterion = unchanged if until == "unchanged" else until
    if isinstance(criterion, str):
        raise ValueError(f"until must be 'unchanged' or a function, not {until!r}")
    sinks = [_step_sink(next_partial, "next partial solution")]
    if termination is not None:
        sinks.append(_step_sink(termination, "termination criterion"))
    contract = BulkIteration(name="bulk iteration", inputs=[initial.contract], step=pact.PactPlan(sinks),
                             max_supersteps=times, partial=partial.contract,
                             has_termination=termination is not None, until=criterion)
    return DataSet(initial.env, contract)


def incremental(solution: "DataSet", workset: "DataSet", key: KeySpec,
                step: Callable[["DataSet", "DataSet"], tuple["DataSet", "DataSet"]],
                max_supersteps: int | None = None) -> "DataSet":
    """The final solution set of a workset iteration. ``solution`` (the initial solution set) is keyed by
    ``key``; ``step(solution_set, workset)`` returns (delta, next workset): every delta record replaces the
    solution record of its key (or is added), and the loop ends when the workset is empty (or after
    ``max_supersteps``). A join or cogroup of the solution set on ``key`` runs as a look-up in its index."""
    from pact_backend.api_datasets import DataSet

    solution_key = key_of(key)
    solution_ds = _placeholder(solution.env, SOLUTION, solution.contract)
    workset_ds = _placeholder(solution.env, WORKSET, workset.contract)
    out = step(solution_ds, workset_ds)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("the step of a workset iteration returns (delta, next workset)")
    delta, next_workset = out
    plan = pact.PactPlan([_step_sink(delta, "delta"), _step_sink(next_workset, "next workset")])
    contract = WorksetIteration(name="workset iteration", inputs=[solution.contract, workset.contract], step=plan,
                                max_supersteps=max_supersteps, solution_key=solution_key,
                                solution=solution_ds.contract, workset=workset_ds.contract)
    return DataSet(solution.env, contract)
