"""User-facing errors of the Sopremo layer and above: printed without a Python traceback by the CLI.

Every error a user can cause (bad script, bad data, missing file, bad property) derives from ``MeteorError``
and carries where it happened: ``path`` (script or data file), ``line`` and ``column`` (1-based, None when
unknown). ``str(error)`` is the full message, location first (``q1.meteor:3:14: ...``).
"""

from __future__ import annotations


class MeteorError(Exception):
    """Base of all user errors. ``message`` is the text without location; ``str()`` prefixes the location."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.message, self.path, self.line, self.column = message, path, line, column
        super().__init__(self.format())

    def location(self) -> str:
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def format(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class MeteorWarning(UserWarning):
    """Something a user most likely did not mean but that does not stop the run (an unused parameter); the
    CLI prints it as ``warning: ...`` on stderr, Python code sees a standard ``warnings`` warning."""


class DataError(MeteorError):
    """Malformed input data (bad JSON line, wrong CSV row), naming the data file and line."""


class InputNotFoundError(MeteorError):
    """An input file or directory that does not exist; the message names the path."""


class OperatorError(MeteorError):
    """An operator that fails on a record at run time (e.g. ``split array`` on a non-array), naming both."""


class OutputError(MeteorError):
    """A sink that cannot write its output (directory missing, permission denied)."""
