"""Binding of Meteor's ``iterate`` statement to a ``sopremo.iterate.Iterate`` operator (docs/language.md,
"Iterations"; VLDB J. 2014, sec. 5.3 brought to the language).

    $ranks = iterate $r from $initial times 10 { $r = transform $r into {...}; };
    $cc = iterate $s from $vertices by $s.id, $w from $vertices { ...; $s = <delta>; $w = <next workset>; };

Inside the body the iteration variables denote the current partial solution (bulk) or the solution set and the
workset; every outer variable is visible; the body's assignments stay local, except that the values the
iteration variables hold at its end are the step's results (the next partial solution; the delta and the next
workset). ``until empty $t`` ends a bulk iteration once the body's ``$t`` is empty.
"""

from __future__ import annotations

from typing import Any

from meteor import ast
from meteor.bind_expressions import Context
from sopremo.errors import MeteorError
from sopremo.iterate import BULK, WORKSET_KIND, IterationInput, IterationOutput, Iterate, roles_for
from sopremo.operator import JsonStream, PropertyError


def bind_iterate(binder: Any, node: ast.Iterate, target: str) -> JsonStream:
    """The stream of the iteration's result; raises MeteorBindError for a malformed iteration."""
    kind = _kind(binder, node)
    initial = [binder.stream(v.initial, v) for v in node.variables]
    key = None
    if kind == WORKSET_KIND:
        key = binder.expressions.bind(node.variables[0].key, Context(inputs={node.variables[0].name: 0}))
    saved = dict(binder.streams)
    try:
        for variable, role in zip(node.variables, roles_for(kind)):
            placeholder = IterationInput(role=role)
            placeholder.name = f"${variable.name}"
            placeholder.source_span = variable.span
            binder.streams[variable.name] = placeholder.output(0)
        for statement in node.body:
            if not isinstance(statement, ast.Assign):
                raise binder.error("only assignments ($x = ...) may stand inside an iterate body", statement)
            binder._assign(statement)
        outputs = _outputs(binder, node, kind)
    finally:
        binder.streams = saved
    times = None
    if node.times is not None:
        times = binder.constant(binder.expressions.bind(node.times, Context()), node.times, "times")
    until = "empty" if node.until_variable else node.until
    return _create(binder, node, target, kind, initial, outputs, key, times, until)


def _kind(binder: Any, node: ast.Iterate) -> str:
    variables = node.variables
    if len(variables) == 1:
        if variables[0].key is not None:
            raise binder.error("a keyed solution set needs a workset: iterate $s from $a by <key>, $w from $b",
                               variables[0])
        return BULK
    if variables[0].key is None or variables[1].key is not None:
        raise binder.error("a workset iteration names the solution set first, with its key "
                           "(iterate $s from $a by $s.id, $w from $b)", node)
    if node.until or node.until_variable:
        raise binder.error("a workset iteration ends when its workset is empty: 'until' is for bulk iterations",
                           node)
    return WORKSET_KIND


def _result(binder: Any, node: ast.Iterate, name: str) -> JsonStream:
    stream = binder.streams.get(name)
    if stream is None:
        raise binder.error(f"the iterate body never defines ${name}", node)
    return stream


def _outputs(binder: Any, node: ast.Iterate, kind: str) -> list[IterationOutput]:
    """The body's results as IterationOutput sinks (bulk: next, [termination]; workset: delta, next workset)."""
    results = []
    for variable, role in zip(node.variables, roles_for(kind, outputs=True)):
        stream = _result(binder, node, variable.name)
        if isinstance(stream.operator, IterationInput):
            raise binder.error(f"the iterate body must assign ${variable.name} (its next value)", variable)
        results.append((stream, role))
    if node.until_variable:
        results.append((_result(binder, node, node.until_variable), "termination criterion"))
    sinks = []
    for stream, role in results:
        sink = IterationOutput(inputs=[stream], role=role)
        sink.name = role
        sink.source_span = node.span
        sinks.append(sink)
    return sinks


def _create(binder: Any, node: ast.Iterate, target: str, kind: str, initial: list, outputs: list, key: Any,
            times: Any, until: str | None) -> JsonStream:
    try:
        op = Iterate(inputs=initial, kind=kind, outputs_=tuple(outputs), key=key, times=times, until=until)
        op.name = f"${target}"
        op.source_span = node.span
        op.validate()
    except PropertyError as exc:
        raise binder.error(str(exc), node) from None
    except MeteorError as exc:
        raise binder.error(exc.message, node) from None
    return op.output(0)
