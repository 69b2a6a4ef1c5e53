"""Reordering of hand-written PACT programs by their annotations (VLDB J. 2014, sec. 6.2): a selection (a Map
that keeps records, annotated with the fields it reads) moves below a Match or Cross when every field it reads
is a constant field of one of their inputs: the same records survive, but the join sees fewer of them.

    Map(filter reads f) <- Match(A, B) with f constant from A   ==>   Match(Map(filter) <- A, B)
"""

from __future__ import annotations

import copy

from pact_backend import contracts as pact
from pact_backend.iterations.steps import rewire
from pact_backend.runtime.checks import consumer_counts

MAX_MOVES = 1000


def _movable(m: pact.Contract, readers: dict[int, int]) -> int | None:
    """The input of ``m``'s producer a selection ``m`` may move to, or None."""
    hints = m.hints
    if not (isinstance(m, pact.Map) and hints.preserves_records and hints.read_fields is not None):
        return None
    below = m.inputs[0]
    if not isinstance(below, (pact.Match, pact.Cross)) or readers[below.id] != 1:
        return None
    for constant in below.hints.constant_fields:
        if all(constant.keeps(f) for f in hints.read_fields) and constant.input < len(below.inputs):
            return constant.input
    return None


def _move(plan: pact.PactPlan) -> pact.PactPlan | None:
    """``plan`` with one selection moved one join down, or None when none can move."""
    order = plan.contracts()
    readers = consumer_counts(order)
    for m in order:
        side = _movable(m, readers)
        if side is None:
            continue
        join = m.inputs[0]
        moved = pact.Map(name=m.name, inputs=[join.inputs[side]], dop=m.dop, hints=m.hints, udf=m.udf)
        new_join = copy.copy(join)
        new_join.inputs = [moved if i == side else source for i, source in enumerate(join.inputs)]
        return pact.PactPlan(rewire(list(plan.sinks), {m.id: new_join}))
    return None


def push_filters(plan: pact.PactPlan) -> pact.PactPlan:
    """``plan`` with every annotated selection moved as far below joins as its annotations allow."""
    for _ in range(MAX_MOVES):
        moved = _move(plan)
        if moved is None:
            return plan
        plan = moved
    return plan
