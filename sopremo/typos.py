"""No silent typos (issue 16 item 3): field reads that can never find a value, found before a plan runs.

Two kinds, each reported with the script location of the path and what the user most likely meant:

- a field of a source's records that no record has (``$s.qtty``, a misspelled group key): the fields the plan
  reads of each source (``Compilation.source_fields``, the projection pushdown; for a source read whole, the
  fields its direct record-at-a-time consumers read) are checked against the input with
  ``field_presence`` (a sample of records, then a byte scan of the files for the names the sample lacks;
  nothing is decoded twice and the record loops of the run carry no counters). The fields the records do have
  are listed, closest first (``difflib``);
- a field read on a group array inside ``group ... into`` (``$g.price``, ``sum($g.price)``) that is not the
  group's key: an array has no fields, so it is always missing.

``meteor run`` prints them as warnings after the run; ``--strict`` makes them an error before the run, so no
output is replaced.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from pact_backend.errors import shown_path
from sopremo.errors import MeteorError, caret_lines
from sopremo.expressions.nodes import (ArrayConstruction, ArrayIndex, ArrayProjection, Constant, ElementRef,
                                       Expression, FieldAccess, InputRef, NestedOperator, Origin)
from sopremo.io.operators import Source
from sopremo.nested import property_expressions
from sopremo.operator import Operator, SopremoPlan
from sopremo.quick_dataclass import dataclass
from sopremo.readwrite import reads

SHOWN_FIELDS = 8
_RECORD_AT_A_TIME = ("filter", "transform", "join", "sort")  # base operators whose inputs are single records


@dataclass(frozen=True)
class Typo:
    """One field read that never finds a value: where it is written (None when unknown) and why."""

    origin: Origin | None
    message: str

    def format(self) -> str:
        """``file:line:col: message`` and the script line with a caret under the path."""
        if self.origin is None:
            return self.message
        text = f"{self.origin}: {self.message}"
        if self.origin.source_line is not None:
            text += "\n" + "\n".join(caret_lines(self.origin.source_line, self.origin.column))
        return text


class TypoError(MeteorError):
    """``--strict``: the plan reads fields that never hold a value (the message lists every ``Typo``)."""


def find_typos(compilation: Any) -> list[Typo]:
    """Every typo of a ``Compilation`` (see the module docstring), in script order."""
    typos = group_array_fields(compilation.sopremo) + absent_fields(compilation)
    return sorted(set(typos), key=lambda t: (t.origin is None, t.origin and (t.origin.path or "", t.origin.line,
                                                                              t.origin.column), t.message))


def raise_typos(typos: list[Typo]) -> None:
    """Raise a TypoError listing ``typos`` (``--strict``), when there are any."""
    if typos:
        count = "1 field read never finds" if len(typos) == 1 else f"{len(typos)} field reads never find"
        raise TypoError(f"--strict: {count} a value:\n" + "\n".join(t.format() for t in typos))


# ---- fields of a group array -------------------------------------------------------------------------------------

def group_array_fields(plan: SopremoPlan) -> list[Typo]:
    """``$g.field`` inside a group's ``into`` where ``$g`` is the group array and ``field`` not its key."""
    typos = []
    for op in _all_operators(plan):
        if op.package != "base" or op.verb != "group" or not isinstance(op.projection, Expression):
            continue
        keys = op.keys if isinstance(op.keys, tuple) else (op.keys,)
        for index in range(len(op.inputs)):
            key = keys[index] if index < len(keys) else None
            allowed = set(_key_parts(key))
            for node in _reads_on(op.projection, InputRef(index)):
                if node not in allowed:
                    typos.append(Typo(node.origin, _group_message(node)))
    return typos


def _key_parts(key: Any) -> Iterator[Expression]:
    if isinstance(key, ArrayConstruction):
        yield from key.items
    elif isinstance(key, Expression):
        yield key


def _reads_on(expr: Expression, group: InputRef) -> Iterator[FieldAccess]:
    """The field reads directly on ``group`` in ``expr`` (outside projections' elements, where ``[*]`` is bound)."""
    if isinstance(expr, FieldAccess) and expr.base == group:
        yield expr
        return
    if isinstance(expr, NestedOperator):
        return
    for child in expr.children():
        yield from _reads_on(child, group)


def _group_message(node: FieldAccess) -> str:
    alias = _alias(node.origin) or "$g"
    return (f"{alias}.{node.name} reads a field of the group array {alias}, which has none (inside 'into' {alias} "
            f"is the array of the group's records): write {alias}[*].{node.name} for every record's value or "
            f"{alias}[0].{node.name} for the first record's")


def _alias(origin: Origin | None) -> str | None:
    """The ``$name`` written at ``origin`` (the start of the path), if any."""
    if origin is None or origin.source_line is None:
        return None
    found = re.match(r"\$\w+", origin.source_line[origin.column - 1:])
    return found.group(0) if found else None


# ---- fields no record has ----------------------------------------------------------------------------------------

def absent_fields(compilation: Any) -> list[Typo]:
    """Fields the plan reads of a source that no record of the source has."""
    typos = []
    plan = compilation.rewritten
    for op in plan.operators():
        if not isinstance(op, Source):
            continue
        names = compilation.source_fields.get(id(op))
        names = _direct_reads(plan, op) if names is None else names
        if not names:
            continue
        try:
            presence = getattr(op.input_format(), "field_presence", None)
            found = presence(frozenset(names)) if presence is not None else None
        except Exception:  # noqa: BLE001 - a missing or unreadable input: the run reports it; a check never fails
            continue
        if found is None:
            continue
        absent, present = found
        for name in sorted(absent):
            typos.extend(_absent(compilation.sopremo, op, name, present))
    return typos


def _direct_reads(plan: SopremoPlan, source: Source) -> frozenset[str]:
    """The fields the base operators reading ``source`` directly read of its records: every expression of a
    record-at-a-time operator, a group's key and the ``$g[*].x`` / ``$g[0].x`` of its ``into``."""
    names: set[str] = set()
    for op in plan.operators():
        if op.package != "base" or op.verb not in (*_RECORD_AT_A_TIME, "group"):
            continue
        for index, stream in enumerate(op.inputs):
            if stream.operator is not source:
                continue
            if op.verb == "group":
                keys = op.keys if isinstance(op.keys, tuple) else (op.keys,)
                exprs = [keys[index]] if index < len(keys) and isinstance(keys[index], Expression) else []
                if isinstance(op.projection, Expression):
                    names |= _element_reads(op.projection, InputRef(index))
            else:
                exprs = property_expressions(op)
            for expr in exprs:
                names |= reads(expr).fields.get(index) or set()
    return frozenset(names)


def _element_reads(expr: Expression, group: InputRef) -> set[str]:
    """The fields read of the records of ``group`` in ``expr``: ``$g[*].x`` and ``$g[<constant>].x``."""
    names = set()
    for node in expr.walk():
        if isinstance(node, ArrayProjection) and node.base == group and isinstance(node.element, FieldAccess) \
                and node.element.base == ElementRef():
            names.add(node.element.name)
        elif isinstance(node, FieldAccess) and isinstance(node.base, ArrayIndex) and node.base.base == group \
                and isinstance(node.base.index, Constant):
            names.add(node.name)
    return names


def _absent(plan: SopremoPlan, source: Source, name: str, present: list[str]) -> list[Typo]:
    import difflib  # only when there is something to report

    close = difflib.get_close_matches(name, present, n=len(present), cutoff=0)
    shown = ", ".join(repr(f) for f in close[:SHOWN_FIELDS]) + (", ..." if len(close) > SHOWN_FIELDS else "")
    where = shown_path(source.path) if source.path is not None else "the values"
    has = f"; its records have {shown}" if shown else ""
    message = f"no record of {where} has a field '{name}'{has}"
    origins = [node.origin for node in _field_reads(plan, name)]
    return [Typo(origin, message) for origin in dict.fromkeys(origins)] or [Typo(None, message)]


def _field_reads(plan: SopremoPlan, name: str) -> Iterator[FieldAccess]:
    for op in _all_operators(plan):
        for expr in property_expressions(op):
            for node in expr.walk():
                if isinstance(node, FieldAccess) and node.name == name and node.origin is not None:
                    yield node


# ---- walking plans -------------------------------------------------------------------------------------------------



def _all_operators(plan: SopremoPlan) -> list[Operator]:
    """The operators of ``plan`` and of the nested operators inside its expressions."""
    found, queue = [], list(plan.operators())
    while queue:
        op = queue.pop(0)
        found.append(op)
        for expr in property_expressions(op):
            for node in expr.walk():
                if isinstance(node, NestedOperator) and isinstance(node.operator, Operator):
                    queue.append(node.operator)
    return found
