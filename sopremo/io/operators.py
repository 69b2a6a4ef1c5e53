"""The Source and Sink Sopremo operators behind ``read ... from`` and ``write ... to``.

As in the original Sopremo, sources and sinks are elementary operators without a Meteor verb of their own (the
``read`` / ``write`` statements create them); each maps to one PACT Source / Sink contract whose InputFormat /
OutputFormat comes from a ``DataFormat`` (VLDB J. 2014, sec. 5.1: data sources and sinks of a PACT program).
An ad-hoc source (``$data = [{...}, ...];``) reads an in-memory list of values (fresh copies on every read).
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts
from pact_backend.io import MemoryInput
from pact_backend.io.paths import absolute
from sopremo.io.base import DataFormat
from sopremo.io.formats import format_for_path, input_format_for_path
from sopremo.operator import CONSTANT, ElementaryOperator, PropertyError, PropertySpec


def _default_format(op: Any) -> None:
    """Give a Source or Sink with a path and no format the format of the path (its extension; file by file
    for a directory or pattern a Source reads)."""
    if op.path is not None and op.data_format is None:
        op.data_format = (input_format_for_path if isinstance(op, Source) else format_for_path)(op.path)()


def _check_path(op: Any) -> None:
    """Check the path and format of a Source or Sink; a relative path is made absolute here, where the plan is
    built (against this process's working directory), so no task depends on a worker's."""
    if not isinstance(op.path, str) or not op.path:
        raise PropertyError(f"{type(op).__name__} needs a file path, got {op.path!r}", "path")
    op.path = absolute(op.path)
    _default_format(op)
    if isinstance(op.data_format, type) and issubclass(op.data_format, DataFormat):
        op.data_format = op.data_format()
    if not isinstance(op.data_format, DataFormat):
        raise PropertyError(f"not a data format: {op.data_format!r}", "format")


class Source(ElementaryOperator):
    """``read [format] from <path> [options]``: ``Source(path=..., data_format=fmt)`` or ``Source(values=[...])``.

    ``path`` is absolute (the binder resolves relative paths; ``validate`` any others); ``data_format`` defaults to the format of the
    path's extension. ``validate()`` raises PropertyError; reading a missing file raises InputNotFoundError
    and malformed data DataError (at run time, so ``explain`` works before the data exists).
    """

    verb = ""
    min_inputs = 0
    max_inputs = 0
    properties = (
        PropertySpec("from", "path", CONSTANT, doc="the file or directory to read"),
        PropertySpec("format", "data_format", CONSTANT, doc="a DataFormat (default: by extension)"),
        PropertySpec("values", "values", CONSTANT, doc="the records of an ad-hoc source"),
    )

    def __init__(self, inputs: list | None = None, **props: Any):
        super().__init__(inputs, **props)
        _default_format(self)

    def validate(self) -> None:
        super().validate()
        if self.values is not None:
            if self.path is not None:
                raise PropertyError("a source reads either a path or ad-hoc values, not both", "values")
            if not isinstance(self.values, (list, tuple)):
                raise PropertyError(f"ad-hoc values must be an array, got {self.values!r}", "values")
            return
        _check_path(self)

    def input_format(self) -> Any:
        """The InputFormat this source reads through."""
        if self.values is not None:
            return MemoryInput(self.values, "ad-hoc values", copies=True)
        self.validate()
        return self.data_format.input_format(self.path)

    def to_contract(self, inputs: list[Any], ctx: Any) -> contracts.Source:
        """A PACT Source contract (``inputs`` is empty); size hints from the file or the values. When the
        context's ``source_fields`` (``sopremo.projection``) names the fields read of this source, a format
        that can ``project`` materialises only those."""
        fmt = self.input_format()
        fields = getattr(ctx, "source_fields", {}).get(id(self))
        if fields is not None and hasattr(fmt, "project"):
            fmt = fmt.project(fields)  # only the fields the plan reads (sopremo.projection)
        size = getattr(fmt, "size_bytes", None)
        hints = contracts.Hints(output_bytes=size() if size is not None else None,
                                output_records=len(self.values) if self.values is not None else None)
        return contracts.Source(name=self.display_name(), dop=self.dop, hints=hints, input_format=fmt)

    def describe(self) -> str:
        """``read json from /abs/x.json`` or ``ad-hoc source (3 values)``, for explain output."""
        if self.values is not None:
            return f"ad-hoc source ({len(self.values)} values)"
        fmt = self.data_format.describe() if self.data_format is not None else "?"
        return f"read {fmt} from {self.path}"

    def display_name(self) -> str:
        return self.name or ("values" if self.values is not None else f"read {self.path}")


class Sink(ElementaryOperator):
    """``write [format] $var to <path> [options]``: ``Sink(inputs=[stream], path=..., data_format=fmt)``.

    One input, no outputs. The output appears atomically on commit (temp file + rename); ``ordered`` (None =
    derive) tells the PACT sink that its input is sorted: true when the producing operator is a ``sort`` or
    declares ``ordered_output = True``.
    """

    verb = ""
    min_inputs = 1
    max_inputs = 1
    outputs = 0
    properties = (
        PropertySpec("to", "path", CONSTANT, doc="the file to write"),
        PropertySpec("format", "data_format", CONSTANT, doc="a DataFormat (default: by extension)"),
        PropertySpec("ordered", "ordered", CONSTANT, doc="the input order is meaningful (default: derived)"),
    )

    def __init__(self, inputs: list | None = None, **props: Any):
        super().__init__(inputs, **props)
        _default_format(self)

    def validate(self) -> None:
        super().validate()
        _check_path(self)

    def output_format(self) -> Any:
        """The OutputFormat this sink writes through."""
        self.validate()
        return self.data_format.output_format(self.path)

    def is_ordered(self) -> bool:
        """Whether the input arrives in a meaningful order (explicit ``ordered`` or a sort upstream)."""
        if self.ordered is not None:
            return bool(self.ordered)
        producer = self.inputs[0].operator if self.inputs else None
        return bool(getattr(producer, "ordered_output", False) or getattr(producer, "verb", "") == "sort")

    def to_contract(self, inputs: list[Any], ctx: Any) -> contracts.Sink:
        """A PACT Sink contract over the single input contract."""
        return contracts.Sink(name=self.display_name(), inputs=list(inputs[:1]), dop=self.dop,
                              output_format=self.output_format(), ordered=self.is_ordered())

    def describe(self) -> str:
        """``write json to /abs/out.json``, for explain output."""
        fmt = self.data_format.describe() if self.data_format is not None else "?"
        return f"write {fmt} to {self.path}"

    def display_name(self) -> str:
        return self.name or f"write {self.path}"
