"""User errors of every layer: bad data, missing inputs, outputs that cannot be written; printed without a traceback.

``UserError`` is the one base the command line and the APIs report as a user's mistake (DESIGN.md, "Errors and
data safety"): it carries where it happened, ``path`` (script or data file), ``line`` and ``column`` (1-based,
None when unknown), and ``str(error)`` is the message with that location first (``orders.jsonl:7:12: ...``).
The Meteor and Sopremo errors (``sopremo.errors.MeteorError`` and its subclasses) build on it; the data errors
below are raised by the inputs and outputs of ``pact_backend.io`` and mean the same at every layer.
"""

from __future__ import annotations

import os


class UserError(Exception):
    """Base of all user errors. ``message`` is the text without location; ``str()`` prefixes the location.

    An error raised while a record was evaluated also carries, once the layers above have said so (``context``):
    lines shown under the message (where in the script it failed), ``record_text``: the record, shortened,
    ``record``: the record itself (None when it is not worth locating), ``record_noun`` (record, records of a
    join, group) and ``record_file`` and ``record_line``: where it was read (set by the task that ran it,
    ``pact_backend.runtime.record_origin``; shown relative to the working directory when it lies below it).
    """

    context: tuple[str, ...] = ()
    record: object = None
    record_text: str | None = None
    record_file: str | None = None
    record_line: int | None = None
    record_noun: str = "record"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.message, self.path, self.line, self.column = message, path, line, column
        super().__init__(self.format())

    def refresh(self) -> None:
        """Recompute ``str(self)`` after a change of the location or the context."""
        self.args = (self.format(),)

    def location(self) -> str:
        """``path:line:column`` with the unknown parts left out ('' when nothing is known)."""
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def format(self) -> str:
        """The full message: location, then the message."""
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        for line in self.context:
            text += "\n" + line
        if self.record_file is not None:
            text += f"\n  on the {self.record_noun} at {shown_path(self.record_file)}:{self.record_line}"
            text += f": {self.record_text}" if self.record_text else ""
        elif self.record_text is not None:
            text += f"\n  on the {self.record_noun} {self.record_text}"
        return text

    def __reduce__(self):
        """Pickled with its location (errors of worker processes travel back to the caller)."""
        return _rebuild, (type(self), self.message, self.path, self.line, self.column, self.__dict__)


def shown_path(path: str) -> str:
    """How messages show a file: ``path`` relative to the working directory when it lies below it, else as it is."""
    try:
        relative = os.path.relpath(path)
    except (ValueError, OSError):  # another drive, or no working directory any more
        return path
    return path if relative.startswith("..") else relative


def _rebuild(cls: type, message: str, path: str | None, line: int | None, column: int | None,
             state: dict) -> UserError:
    error = cls.__new__(cls)
    UserError.__init__(error, message, path=path, line=line, column=column)
    error.__dict__.update(state)
    error.refresh()  # the state may hold context
    return error


class DataError(UserError):
    """Malformed input data (a bad JSON line, a CSV row with too many fields), naming the file and line."""


class InputNotFoundError(UserError):
    """An input file, directory or pattern that names nothing; the message names the path."""


class OutputError(UserError):
    """An output that cannot be written (directory missing, permission denied, a value JSON cannot hold)."""
