"""One copy-on-write pass over a Sopremo plan: the driver the rewriting stages share (``sopremo.decorrelate``,
``sopremo.rewrite``; VLDB J. 2014, sec. 6.2).

A pass visits the operators in dependency order (what an operator reads before the operator). Each is first
rewired to the replacements of what it reads, its inputs and the streams its expressions read (nested operators,
data sets), then offered once to ``offer``, which returns the stream that replaces the operator's output or None.
Operators on a changed path are shallow copies; the others, and the plan given, stay as they were.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from sopremo.nested import map_streams
from sopremo.operator import JsonStream, Operator, SopremoPlan


def rewrite_pass(plan: SopremoPlan, offer: Callable[[Operator], JsonStream | None]) -> tuple[SopremoPlan, bool]:
    """(``plan`` after one pass, whether anything changed); ``offer(op)`` sees each (rewired) operator once."""
    replaced: dict[int, Operator] = {}
    streams: dict[int, JsonStream] = {}

    def rewire(s: JsonStream) -> JsonStream:
        if s.index == 0 and id(s.operator) in streams:
            return streams[id(s.operator)]
        return JsonStream(replaced[id(s.operator)], s.index) if id(s.operator) in replaced else s

    for op in plan.operators():
        current = map_streams(op, rewire)
        inputs = [rewire(s) for s in current.inputs]
        if any(a is not b for a, b in zip(inputs, current.inputs)):
            current = copy.copy(current)
            current.inputs = inputs
        stream = offer(current)
        if stream is not None:
            streams[id(op)] = stream
        if current is not op:
            replaced[id(op)] = current
    if not replaced and not streams:
        return plan, False
    return dataclasses.replace(plan, sinks=[replaced.get(id(s), s) for s in plan.sinks]), True
