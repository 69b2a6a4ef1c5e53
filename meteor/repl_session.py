"""The state of an interactive Meteor session: statements so far, bound variables, evaluation and explain.

A ``ReplSession`` keeps the parsed statements of every input that succeeded and binds them again, followed by
the new input, with a fresh ``Binder`` each time (binding is cheap; data is read only when evaluated): an input
that fails to parse, bind or run leaves the session exactly as it was. ``write`` statements run at once and are
not kept; ``$x`` alone evaluates ``$x`` through a Sink whose output format hands the records to the caller and
stops the (streaming) inline executor after ``limit`` records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from meteor import ast
from meteor.api import compile_plan, make_executor, read_script, run_plan
from meteor.binder import Binder
from meteor.bind_expressions import Context
from meteor.errors import MeteorBindError, MeteorFrontendError, MeteorSyntaxError, did_you_mean
from meteor.frontend import parse_script
from meteor.highlight import SHOW
from sopremo import engine
from sopremo.errors import MeteorError
from sopremo.io import DataFormat, Sink, encode_json
from sopremo.operator import JsonStream, SopremoPlan
from sopremo.package import PACKAGES, PackageManager
from sopremo.scope import Scope
from sopremo.registry import suggest

DISPLAY_PATH = "<terminal>"
VALUE_NAME = "__value__"  # the constant an expression statement is bound to by ``evaluate``
SAMPLE_SIZE = 50  # records ``sample`` reads to find field names


class _Enough(Exception):
    """Raised by the display writer once it has seen one record more than it shows (stops the executor)."""


class _DisplayWriter:
    """A record writer that passes records to ``emit`` and stops the run after ``limit`` + 1 records."""

    def __init__(self, fmt: "DisplayFormat"):
        self.format = fmt

    def write(self, record: Any) -> None:
        fmt = self.format
        if fmt.shown >= fmt.limit:
            fmt.more = True
            raise _Enough()
        fmt.shown += 1
        fmt.emit(record)

    def commit(self) -> None:
        """Nothing to make visible: every record was already emitted."""

    def abort(self) -> None:
        """Nothing to discard: emitted records are on the screen already."""


class DisplayFormat(DataFormat):
    """The output format of the REPL display: records go to ``emit(record)``; ``limit`` caps how many."""

    name = "display"
    doc = "the REPL display (first records of a data set)"

    def __init__(self, emit: Callable[[Any], None] = lambda record: None, limit: int = 20):
        super().__init__()
        self.emit, self.limit = emit, limit
        self.shown, self.more = 0, False

    def input_format(self, path: str) -> Any:
        raise MeteorError("the REPL display cannot be read as input")

    def output_format(self, path: str) -> "DisplayFormat":
        return self

    def open(self) -> _DisplayWriter:
        """A fresh writer (the OutputFormat protocol of pact_backend.contracts)."""
        return _DisplayWriter(self)

    def describe(self) -> str:
        return f"display (first {self.limit})"


@dataclass
class Shown:
    """What ``ReplSession.show`` displayed: ``count`` records, ``more`` when the data set has further ones."""

    count: int
    more: bool


class ReplSession:
    """Statements entered so far and the variables they bind. ``limit``: records shown by ``show``.

    ``manager``: where packages come from (default: installed packages).
    """

    def __init__(self, manager: PackageManager | None = None, limit: int = 20):
        self.manager = manager or PACKAGES
        self.limit = limit
        self.format = "json"  # how the REPL prints records: 'json' (one line each) or 'table' (see FORMATS)
        self.statements: list[ast.Node] = []
        self.sources: dict = {}
        self.binder = Binder(Scope(self.manager))

    # ---- state ---------------------------------------------------------------------------------------------------

    @property
    def scope(self) -> Scope:
        """The registries in scope after the last successful input."""
        return self.binder.scope

    def packages(self) -> tuple[str, ...]:
        """Names of the packages in scope (``base`` first)."""
        return tuple(self.scope.packages)

    def variables(self) -> dict[str, JsonStream]:
        """The data set variables bound so far (name without ``$`` -> stream)."""
        return dict(self.binder.streams)

    def workdir(self) -> str:
        """The base directory of relative data paths (changed by ``setWorkingDirectory``)."""
        return self.binder.workdir

    # ---- statements ----------------------------------------------------------------------------------------------

    def execute(self, text: str, path: str | None = None) -> list[tuple[str, int]]:
        """Parse, bind and (for ``write`` statements) run ``text`` after the statements kept so far.

        Returns (path, records written) per write statement. On success the non-write statements are kept; on
        any error (MeteorError, PackageError, KeyboardInterrupt) the session is unchanged and the error raised.
        """
        sources = dict(self.sources)
        new = parse_script(text, path, self.manager, sources, packages=self.packages())
        binder = Binder(Scope(self.manager), sources=sources)
        plan = binder.bind_script([*self.statements, *new])
        written: list[tuple[str, int]] = []
        if plan.sinks:
            stats = run_plan(plan)
            written = [(sink.path, entry.records_out) for sink, entry in zip(plan.sinks, stats.sinks())]
        self.statements.extend(s for s in new if not isinstance(s, ast.Write))
        self.sources, self.binder = sources, binder
        return written

    def evaluate(self, text: str, path: str | None = None) -> Any:
        """The value of the expression statement ``text`` (``1 + 2;``, ``x;``, ``upper_case('a');``) computed
        with the constants and functions defined so far; the session is not changed. Raises MeteorSyntaxError
        when ``text`` is no expression, MeteorBindError when it names what is not defined or is not constant (a
        ``$variable`` is a data set: ``$x;`` shows it)."""
        try:  # `name =` on a line of its own before the text keeps the text's columns; lines are moved back
            return self._evaluate(f"{VALUE_NAME} =\n{text}", path)
        except MeteorFrontendError as exc:
            if exc.path != path or exc.line is None or exc.line < 2:
                raise
            raise type(exc)(exc.message, path=exc.path, line=exc.line - 1, column=exc.column,
                            expected=exc.expected, suggestions=exc.suggestions,
                            source_line=exc.source_line) from None

    def _evaluate(self, text: str, path: str | None) -> Any:
        sources = dict(self.sources)
        new = parse_script(text, path, self.manager, sources, packages=self.packages())
        if len(new) != 1 or not isinstance(new[0], ast.ConstDef):
            raise MeteorSyntaxError("not an expression")
        binder = Binder(Scope(self.manager), sources=sources)
        binder.bind_script(list(self.statements))
        node = new[0].value
        return binder.constant(binder.expressions.bind(node, Context()), node, "the expression")

    def sample(self, name: str, size: int = SAMPLE_SIZE) -> list[Any]:
        """Up to ``size`` records of ``$name`` (the first ones: a plain ``read`` stops reading after them, other
        plans run up to their last stage); raises MeteorError as ``show``."""
        records: list[Any] = []
        fmt = DisplayFormat(records.append, size)
        runner = self.display_executor()
        try:
            engine.run(compile_plan(self.display_plan(name, fmt), runner), runner)
        except _Enough:
            pass
        return records

    def load(self, path: str) -> list[tuple[str, int]]:
        """Run the script file ``path`` into the session as one input (all of it or nothing); see ``execute``."""
        return self.execute(read_script(path), path)

    def stream(self, name: str) -> JsonStream:
        """The data set ``$name``; raises MeteorBindError with the closest variable names."""
        streams = self.binder.streams
        if name not in streams:
            close = ["$" + c for c in suggest(name, list(streams))]
            raise MeteorBindError(f"unknown variable ${name}{did_you_mean(close)}", suggestions=close)
        return streams[name]

    def show(self, name: str, emit: Callable[[bytes], None], limit: int | None = None) -> Shown:
        """Evaluate ``$name`` and pass up to ``limit`` (default ``self.limit``) records to ``emit`` as JSON.

        Records are emitted as the inline executor streams them; pulling stops after one record past the limit
        (stages before the last one run to completion).
        Raises MeteorError for unknown variables and runtime errors, KeyboardInterrupt when cancelled.
        """
        fmt = DisplayFormat(lambda record: emit(encode_json(record)), self.limit if limit is None else limit)
        plan = self.display_plan(name, fmt)
        runner = self.display_executor()
        try:
            engine.run(compile_plan(plan, runner), runner)
        except _Enough:
            pass
        return Shown(fmt.shown, fmt.more)

    @staticmethod
    def display_executor() -> Any:
        """The executor ``show`` runs on: inline, whose last stage streams, so showing stops after the limit."""
        return make_executor("inline", quiet=True)

    def display_plan(self, name: str, fmt: DisplayFormat | None = None) -> SopremoPlan:
        """A plan whose one sink sends ``$name`` to the display format ``fmt``."""
        sink = Sink(inputs=[self.stream(name)], path=DISPLAY_PATH, data_format=fmt or DisplayFormat())
        return SopremoPlan(sinks=[sink])

    # ---- explain -------------------------------------------------------------------------------------------------

    def explain(self, target: str) -> str:
        """``meteor explain`` text (Sopremo plan, rewrites, PACT program, physical plan) of ``$variable`` or of
        the write statements in ``target``; raises MeteorError when there is nothing to explain."""
        from meteor.explain import explain

        if (m := SHOW.fullmatch(target)):
            plan = self.display_plan(m.group(1), DisplayFormat(limit=self.limit))
            return explain(plan, executor=self.display_executor())
            sources = dict(self.sources)
            new = parse_script(target, None, self.manager, sources, packages=self.packages())
            plan = Binder(Scope(self.manager), sources=sources).bind_script([*self.statements, *new])
            if not plan.sinks:
                raise MeteorError("explain shows a data set ($x) or write statements")
        return explain(plan, executor=make_executor(quiet=True))
