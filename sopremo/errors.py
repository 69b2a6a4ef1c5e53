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


__all__ = ["MeteorError", "MeteorWarning", "DataError", "InputNotFoundError", "OutputError", "OperatorError"]


class OperatorError(MeteorError):
    """An operator that fails on a record at run time (e.g. ``split array`` on a non-array), naming both."""
