"""The sink format of ``meteor.query``: the records of a data set handed to the calling Python program.

A ``CollectFormat`` stands where ``write`` would name a file: its sink is written by the process that runs the
plan (every executor writes a single-output sink in the caller, ``pact_backend.executors.base.write_sinks``), so
the records arrive in the caller whichever executor ran the plan. They are Sopremo values turned into JSON values
(``to_json``: MISSING dropped from objects, null in arrays), in the order the sink received them (the order of a
``sort``).
"""

from __future__ import annotations

from typing import Any

from pact_backend.io.memory import CollectOutput
from sopremo.errors import MeteorError
from sopremo.io.base import DataFormat
from sopremo.values import to_json

PYTHON_PATH = "<python>"


class _JsonCollectOutput(CollectOutput):
    """A CollectOutput whose records are plain JSON values (no MISSING)."""

    def open(self) -> Any:
        writer = super().open()
        append = writer.records.append
        writer.write = lambda record: append(to_json(record))
        return writer


class CollectFormat(DataFormat):
    """The output format whose sink collects the records in the calling process; ``records()`` returns them
    after the run committed (an empty list before). It cannot be read as input."""

    name = "python"
    doc = "records handed to the calling Python program (meteor.query)"

    def __init__(self) -> None:
        super().__init__()
        self.output = _JsonCollectOutput("python")

    def input_format(self, path: str) -> Any:
        raise MeteorError("the records handed to Python cannot be read as input")

    def output_format(self, path: str) -> CollectOutput:
        return self.output

    def records(self) -> list[Any]:
        """What the sink wrote (JSON values in sink order)."""
        return self.output.records

    def describe(self) -> str:
        return "python (records returned to the caller)"

    def __eq__(self, other: object) -> bool:  # every collecting sink is its own destination
        return other is self

    def __hash__(self) -> int:
        return id(self)


__all__ = ["CollectFormat", "PYTHON_PATH"]
