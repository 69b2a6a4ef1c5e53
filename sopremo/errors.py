"""User-facing errors of the Sopremo layer and above: printed without a Python traceback by the CLI.

Every error a user can cause (bad script, bad data, missing file, bad property) is a ``MeteorError``: the one
user-error class of the engine, ``pact_backend.errors.UserError``, under the name the Meteor and Sopremo layers
use. It carries where it happened: ``path`` (script or data file), ``line`` and ``column`` (1-based, None when
unknown); ``str(error)`` is the full message, location first (``q1.meteor:3:14: ...``). The errors of the data
(``DataError``, ``InputNotFoundError``, ``OutputError``) are raised by ``pact_backend.io`` and re-exported here.
"""

from __future__ import annotations

from pact_backend.errors import DataError, InputNotFoundError, OutputError, UserError

MeteorError = UserError


class MeteorWarning(UserWarning):
    """Something a user most likely did not mean but that does not stop the run (an unused parameter); the
    CLI prints it as ``warning: ...`` on stderr, Python code sees a standard ``warnings`` warning."""


__all__ = ["MeteorError", "MeteorWarning", "DataError", "InputNotFoundError", "OutputError", "OperatorError",
           "excerpt_around", "caret_lines"]


EXCERPT_WIDTH = 100
_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}  # NUL shows as U+2400 and so on


def excerpt_around(line: str, index: int) -> tuple[str, int]:
    """At most ``EXCERPT_WIDTH`` characters of ``line`` around ``index`` ('...' where cut) with control
    characters made visible, and the caret's index in that excerpt."""
    line = line.translate(_CONTROL_PICTURES)
    if len(line) <= EXCERPT_WIDTH:
        return line, index
    start = max(0, min(index - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
    head = "..." if start > 0 else ""
    tail = "..." if start + EXCERPT_WIDTH < len(line) else ""
    return head + line[start:start + EXCERPT_WIDTH] + tail, index - start + len(head)


def caret_lines(source_line: str, column: int) -> tuple[str, str]:
    """The excerpt of ``source_line`` around 1-based ``column`` and the line with a caret under it, each
    indented by four spaces (how every error shows the script)."""
    excerpt, caret = excerpt_around(source_line.rstrip("\n").expandtabs(1), column - 1)
    return f"    {excerpt}", f"    {' ' * caret}^"


class OperatorError(MeteorError):
    """An operator that fails on a record at run time (e.g. ``split array`` on a non-array), naming both."""
