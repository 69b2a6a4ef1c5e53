"""Records shown as tables: aligned text (the REPL's ``:format table``, ``repr`` of a ``meteor.Result``) and
HTML (a Result in a notebook). A column per field of the objects shown (first-seen order), one column ``value``
when the records are not all objects; strings show as they are, every other value as compact JSON; a last line
tells how many records were not shown.
"""

from __future__ import annotations

import html
from typing import Any

import orjson

from meteor.pydata import VALUE_COLUMN, frame_columns

SHOWN_ROWS = 20  # rows of a Result shown in a notebook or by repr()


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _table(records: list[Any], limit: int) -> tuple[list[str], list[list[str]]]:
    """Header and rows (cells as text: strings as they are, other values as JSON) of the first ``limit``."""
    shown = records[:limit]
    names = frame_columns(shown) if all(isinstance(r, dict) for r in shown) else None
    if names is None:
        return [VALUE_COLUMN], [[_cell(r)] for r in shown]
    return names, [["" if n not in r else _cell(r[n]) for n in names] for r in shown]


def table_text(records: list[Any], limit: int = SHOWN_ROWS, width: int = 40) -> str:
    """The first ``limit`` records as an aligned text table (cells cut to ``width`` characters), with a last
    line ``… N more`` when there are more."""
    header, rows = _table(records, limit)
    flat = [[c.replace("\n", "\\n") for c in row] for row in [header, *rows]]  # one line per record
    cut = [[c if len(c) <= width else c[:width - 1] + "…" for c in row] for row in flat]
    widths = [max(len(row[i]) for row in cut) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cut]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    if len(records) > limit:
        lines.append(f"… {len(records) - limit} more")
    return "\n".join(lines)


def table_html(records: list[Any], limit: int = SHOWN_ROWS) -> str:
    """The first ``limit`` records as an HTML table (a last row says how many more there are)."""
    header, rows = _table(records, limit)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    if len(records) > limit:
        body += f"<tr><td colspan='{len(header)}'>… {len(records) - limit} more</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


__all__ = ["SHOWN_ROWS", "table_html", "table_text"]
