"""The check that a run executed what ``meteor explain`` printed (issue "One engine": explain and run agree).

``assert_ran_as_explained(script, executor, stats)`` explains ``script`` as JSON for the executor ``executor``
(the same name and default settings as the run) and compares, contract by contract in topological order, the
physical plan printed (ship strategies, local strategy, chained, combined, fused) with what the executor
reported it ran (``RunStats.executed``: the drivers and stages as the tasks ran them).
"""

from __future__ import annotations

import json
from typing import Any

FIELDS = ("ship", "local", "chained", "combined", "fused")


def explained(script: str, executor: str) -> list[dict[str, Any]]:
    """The physical nodes of ``meteor explain --format json --executor <executor> <script>``."""
    from meteor.api import compile_file, make_executor
    from meteor.explain import explain

    text = explain(compile_file(script), "json", executor=make_executor(executor, quiet=True))
    return json.loads(text)["physical"]


def assert_ran_as_explained(script: str, executor: str, stats: Any) -> int:
    """Assert that every contract of the run of ``script`` ran as explained; returns how many contracts
    reported a local strategy (a stage that got no input runs no task and reports none)."""
    nodes = explained(script, executor)
    ran = stats.contracts
    assert [(n["kind"], n["name"]) for n in nodes] == [(c.kind, c.name) for c in ran], "different programs"
    compared = 0
    for node, entry in zip(nodes, ran):
        executed = stats.executed[entry.id]
        for field in FIELDS:
            if field == "local" and executed["local"] is None:
                continue  # no task of its stage ran (all of its input partitions were empty)
            assert executed[field] == node[field], (
                f"{executor}: #{entry.id} {entry.kind} {entry.name}: explain says {field}={node[field]!r}, "
                f"the run did {executed[field]!r}")
        compared += executed["local"] is not None
    return compared
