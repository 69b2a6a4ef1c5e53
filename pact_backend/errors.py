"""User errors of every layer: bad data, missing inputs, outputs that cannot be written; printed without a traceback.

``UserError`` is the one base the command line and the APIs report as a user's mistake (DESIGN.md, "Errors and
data safety"): it carries where it happened, ``path`` (script or data file), ``line`` and ``column`` (1-based,
None when unknown), and ``str(error)`` is the message with that location first (``orders.jsonl:7:12: ...``).
The Meteor and Sopremo errors (``sopremo.errors.MeteorError`` and its subclasses) build on it; the data errors
below are raised by the inputs and outputs of ``pact_backend.io`` and mean the same at every layer.
"""

from __future__ import annotations


class UserError(Exception):
    """Base of all user errors. ``message`` is the text without location; ``str()`` prefixes the location."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.message, self.path, self.line, self.column = message, path, line, column
        super().__init__(self.format())

    def location(self) -> str:
        """``path:line:column`` with the unknown parts left out ('' when nothing is known)."""
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def format(self) -> str:
        """The full message: location, then the message."""
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message

    def __reduce__(self):
        """Pickled with its location (errors of worker processes travel back to the caller)."""
        return _rebuild, (type(self), self.message, self.path, self.line, self.column, self.__dict__)


def _rebuild(cls: type, message: str, path: str | None, line: int | None, column: int | None,
             state: dict) -> UserError:
    error = cls.__new__(cls)
    UserError.__init__(error, message, path=path, line=line, column=column)
    error.__dict__.update(state)
    return error


class DataError(UserError):
    """Malformed input data (a bad JSON line, a CSV row with too many fields), naming the file and line."""


class InputNotFoundError(UserError):
    """An input file, directory or pattern that names nothing; the message names the path."""


class OutputError(UserError):
    """An output that cannot be written (directory missing, permission denied, a value JSON cannot hold)."""
