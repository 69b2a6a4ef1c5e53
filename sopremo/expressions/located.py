"""Run-time errors that name the script: which node of a compiled expression failed, where it was written and
on which record (issue 16 item 2; DESIGN.md, "Errors and data safety").

Nothing here runs per record. The code generator (``sopremo.expressions.codegen``) wraps the generated text of
every node that carries an ``Origin`` in marks (``mark``); ``strip_marks`` removes them before the source is
compiled and keeps a table of where each node's text lies (line, first and end byte), by the name of the function the
source defines (the generator's names are unique within one generated namespace). A compiled expression
already catches errors (a ``try`` costs nothing in CPython 3.11 until something raises); there, ``annotate``
walks the traceback to the innermost frame of generated code, asks CPython for the position of the failing
instruction (``co_positions``) and takes the smallest marked node around it: its ``Origin`` gives the script
``file:line:col`` of the operator, the Meteor verb of the operator statement and the script line for a caret.
The record the expression was evaluating travels on the error (shortened to ``RECORD_CHARS`` for the message);
the task that ran it finds the file and line it was read from (``pact_backend.runtime.record_origin``).
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from pact_backend.runtime.groups import SpilledGroup
from sopremo.errors import MeteorError, caret_lines
from sopremo.expressions import nodes as n
from sopremo.quick_dataclass import dataclass

OPEN, MID, CLOSE = "\x02", "\x03", "\x04"
_MARKS = re.compile("(\x02[0-9]+\x03|\x04)")
RECORD_CHARS = 200


@dataclass(frozen=True)
class Site:
    """A node of a compiled expression that can fail: its ``origin`` and a ``label`` naming it as written
    (``'/'``, ``sum()``, ``.price``)."""

    origin: n.Origin
    label: str


def label(expr: n.Expression) -> str:
    """How a node is named in an error: its operator or function as the script writes it."""
    if isinstance(expr, (n.Arithmetic, n.Comparison, n.UnaryOp)):
        return f"'{expr.op}'"
    if isinstance(expr, n.FunctionCall):
        return f"{expr.name}()"
    if isinstance(expr, n.ElementIn):
        return "'not in'" if expr.negate else "'in'"
    if isinstance(expr, n.Cast):
        return f"the cast to {expr.type_name}"
    if isinstance(expr, n.FieldAccess):
        return f"'.{expr.name}'"
    if isinstance(expr, n.CopyFields):
        return "'.*'"
    return "'[...]'"


def mark(text: str, index: int) -> str:
    """``text`` (generated Python) wrapped in the marks of site number ``index``."""
    return f"{OPEN}{index}{MID}{text}{CLOSE}"


def strip_marks(source: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """(``source`` without marks, [(line, first byte, end byte, site index)]): columns in UTF-8 bytes, as
    CPython reports instruction positions."""
    lines, table = [], []
    for lineno, line in enumerate(source.split("\n"), 1):
        if OPEN not in line:
            lines.append(line)
            continue
        out, col, stack = [], 0, []
        for piece in _MARKS.split(line):
            if piece.startswith(OPEN):
                stack.append((int(piece[1:-1]), col))
            elif piece == CLOSE:
                index, start = stack.pop()
                table.append((lineno, start, col, index))
            elif piece:
                out.append(piece)
                col += len(piece.encode("utf-8"))
        lines.append("".join(out))
    return "\n".join(lines), table


def failing_site(tb: TracebackType | None, spans: dict[str, list], sites: list[Site]) -> Site | None:
    """The site of the innermost frame of generated code in ``tb`` whose failing instruction lies in a marked
    node (the smallest such node)."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        table = spans.get(code.co_qualname.partition(".")[0])  # co_filename does not survive cloudpickle
        if table:
            position = _position(code, tb.tb_lasti)
            if position is not None:
                site = _innermost(table, position, sites)
                found = site or found
        tb = tb.tb_next
    return found


def _position(code: Any, lasti: int) -> tuple[int, int, int] | None:
    """(line, first byte, end byte) of the instruction at byte offset ``lasti`` of ``code``."""
    positions = list(code.co_positions())
    index = lasti // 2
    if not 0 <= index < len(positions):
        return None
    line, end_line, col, end_col = positions[index]
    if line is None or col is None or end_col is None or end_line != line:
        return None
    return line, col, end_col


def _innermost(table: list, position: tuple[int, int, int], sites: list[Site]) -> Site | None:
    line, col, end = position
    best = None
    for lineno, start, stop, index in table:
        if lineno == line and start <= col and end <= stop and (best is None or stop - start < best[0]):
            best = (stop - start, index)
    return None if best is None else sites[best[1]]


def shorten(value: Any, limit: int = RECORD_CHARS) -> str:
    """``value`` as compact JSON (missing values left out), at most ``limit`` characters ('...' where cut)."""
    from sopremo.types import string_form

    try:
        # a group may hold millions of records (or be on disk, a SpilledGroup): render no more than needed
        if type(value) is list or type(value) is SpilledGroup:
            parts, size = [], 1
            for item in value:
                parts.append(string_form(item))
                size += len(parts[-1]) + 1
                if size > limit:
                    break
            text = "[" + ",".join(parts) + ("]" if len(parts) == len(value) else ",")
        else:
            text = string_form(value)
    except Exception:  # noqa: BLE001 - a message must not fail on an odd value
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def annotate(error: MeteorError, spans: dict[str, list], sites: list[Site], inputs: tuple[Any, ...],
             tb: TracebackType | None = None) -> MeteorError:
    """``error`` (raised inside a compiled expression evaluating ``inputs``; ``tb`` its traceback, default the
    error's own) located at the failing node: see ``annotate_site``. Returns ``error``."""
    if _annotated(error):
        return error
    site = failing_site(tb if tb is not None else error.__traceback__, spans, sites)
    return annotate_site(error, site, inputs)


def error_at(error: MeteorError, expr: n.Expression, inputs: tuple[Any, ...]) -> MeteorError:
    """``error`` raised while ``expr`` (e.g. an aggregation call an operator folds itself) evaluated ``inputs``,
    annotated at ``expr``'s origin; an operator's slow path calls it from one ``except`` around its loop.
    Returns ``error``."""
    if _annotated(error):
        return error
    return annotate_site(error, Site(expr.origin, label(expr)) if expr.origin is not None else None, inputs)


def _annotated(error: MeteorError) -> bool:
    """Whether an inner expression already annotated ``error`` (the innermost one knows best)."""
    return getattr(error, "site", None) is not None or getattr(error, "record_text", None) is not None


def annotate_site(error: MeteorError, site: Site | None, inputs: tuple[Any, ...]) -> MeteorError:
    """Put on ``error``: the script location of ``site`` (when the error has none), a caret line, the node
    and operator statement, and the record (``inputs``: one value, or the records of a join). Returns it."""
    error.site = site
    if site is not None:
        _locate(error, site)
    if not inputs:  # a constant expression: no record to show
        error.refresh()
        return error
    value = inputs[0] if len(inputs) == 1 else list(inputs)
    error.record_text = shorten(value)
    if len(inputs) > 1:
        error.record_noun = "records"
    elif type(value) in (list, SpilledGroup) and site is not None and site.origin.statement == "group":
        error.record_noun = "group"
    error.record = value if len(inputs) == 1 and type(value) is dict else None
    error.refresh()
    return error


def _locate(error: MeteorError, site: Site) -> None:
    """Put ``site`` on ``error``: its script location (unless the error names one, e.g. a data file), the
    caret lines, and which node of which operator statement failed."""
    origin = site.origin
    context = []
    if error.path is None and error.line is None:
        error.path, error.line, error.column = origin.path, origin.line, origin.column
        if origin.source_line is not None:
            context.extend(caret_lines(origin.source_line, origin.column))
        where = ""
    else:
        where = f" at {origin}"
    statement = f" of {origin.statement}" if origin.statement else ""
    context.append(f"  in {site.label}{statement}{where}")
    error.context = (*error.context, *context)
