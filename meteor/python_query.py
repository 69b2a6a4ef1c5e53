"""``meteor.query``: run a Meteor script from Python and get its last data set back as records or a data frame.

The script's last statement is a bare ``$name;``: that data set is the result, collected in the calling process
through a sink of its own (``sopremo.io.collect``). Keyword arguments bind Python data to ``$variables`` the
script reads without defining them (``meteor/pydata.py`` says how rows become records). The script is parsed,
bound, compiled, planned and run exactly as ``meteor run`` does (``meteor.api``, then ``sopremo.engine``), on
the executor named by ``executor`` (default: ``inline``, one process, which suits data that fits a Python list;
``process`` uses every core). Write statements in the script run too.
"""

from __future__ import annotations

import html
from typing import Any

from meteor.api import compile_plan, make_executor
from meteor.binder import Binder
from meteor.deep_stack import call_deep
from meteor.errors import MeteorBindError, MeteorSyntaxError, source_line
from meteor.frontend import parse_script
from meteor.highlight import scan, show_target, split_statements
from meteor.pydata import to_arrow, to_pandas, to_polars, to_records
from meteor.tables import SHOWN_ROWS, table_html, table_text
from sopremo import engine
from sopremo.errors import MeteorError
from sopremo.io import Sink, Source
from sopremo.io.collect import PYTHON_PATH, CollectFormat
from sopremo.operator import JsonStream, SopremoPlan
from sopremo.package import PACKAGES, PackageError
from sopremo.scope import Scope

QUERY_EXECUTOR = "inline"


class Result:
    """The data set a ``query`` returned, with the plan that made it.

    ``records()`` is the list of records (JSON values: dict, list, str, int, float, bool, None); ``to_pandas()``,
    ``to_arrow()`` and ``to_polars()`` make data frames of them (one column per field; non-object records make
    one column ``value``); ``explain()`` is ``meteor explain`` of the query as it ran; ``stats`` the run's
    statistics (``engine.RunStats``). ``len()`` and iteration go over the records. In a notebook a Result
    shows as a table of its first rows.
    """

    def __init__(self, name: str, records: list[Any], plan: SopremoPlan, executor: Any, stats: engine.RunStats):
        self.name, self._records, self._plan, self._executor, self.stats = name, records, plan, executor, stats

    def records(self) -> list[Any]:
        """The records of the data set, in the order the script made them (a new list each call)."""
        return list(self._records)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the records; raises MeteorError when pandas is not installed."""
        return to_pandas(self._records)

    def to_arrow(self) -> Any:
        """A pyarrow Table of the records; raises MeteorError when pyarrow is not installed or a column's
        values have no common Arrow type."""
        return to_arrow(self._records)

    def to_polars(self) -> Any:
        """A polars DataFrame of the records; raises MeteorError when polars is not installed."""
        return to_polars(self._records)

    def explain(self, fmt: str = "text") -> str:
        """``meteor explain`` of the query for the executor it ran on: ``fmt`` 'text', 'json' or 'dot' (the
        physical plan as a Graphviz digraph)."""
        from meteor.explain import explain

        return explain(self._plan, fmt, executor=self._executor)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        return iter(self._records)

    def __repr__(self) -> str:
        return f"<meteor.Result ${self.name}: {len(self)} record(s)>\n" + table_text(self._records, SHOWN_ROWS)

    def _repr_html_(self) -> str:
        return table_html(self._records, SHOWN_ROWS) + f"<p>${html.escape(self.name)}: {len(self)} record(s)</p>"


def query(script: str, /, *, params: dict[str, Any] | None = None, executor: str | None = None,
          parallelism: int | None = None, memory: str | int | None = None, **inputs: Any) -> Result:
    """Run the Meteor ``script`` and return its last statement's data set (a bare ``$name;``) as a Result.

    ``inputs``: ``name=data`` binds ``$name`` to Python data (a list of dicts, a pandas or polars DataFrame, an
    Arrow table) before the script runs; a script that assigns ``$name`` itself overrides it. ``params``:
    constants, as ``meteor run --param``. ``executor``, ``parallelism``, ``memory``: as ``meteor run``
    (default executor: inline). Relative paths and ``pyudf`` modules resolve against the working directory.
    Raises MeteorError subclasses for user errors (MeteorSyntaxError and MeteorBindError with line and column).
    """
    try:
        return call_deep(_query, script, params, inputs, executor, parallelism, memory)
    except PackageError as exc:
        raise MeteorError(str(exc)) from None


def _query(script: str, params: dict | None, inputs: dict[str, Any], executor: str | None,
           parallelism: int | None, memory: str | int | None) -> Result:
    plan, name, collect = prepare(script, params, inputs)
    runner = make_executor(executor or QUERY_EXECUTOR, parallelism, memory, quiet=True)
    stats = engine.run(compile_plan(plan, runner), runner)
    return Result(name, collect.records(), plan, runner, stats)


def prepare(script: str, params: dict | None = None, inputs: dict[str, Any] | None = None
            ) -> tuple[SopremoPlan, str, CollectFormat]:
    """The plan of a ``query`` (not run): its sinks are the script's writes and, last, the sink collecting
    the data set of the last statement; with that data set's name and the collecting format. Raises
    MeteorError subclasses as ``query``."""
    body, name = split_result(script)
    sources: dict = {}
    statements = parse_script(body, None, PACKAGES, sources)
    binder = Binder(Scope(PACKAGES), params=params, sources=sources)
    for variable, data in (inputs or {}).items():
        binder.streams[variable] = input_stream(variable, data)
    binder.bind_script(statements)
    stream = binder.streams.get(name)
    if stream is None:
        line, column = last_statement_position(script)
        raise MeteorBindError(f"the last statement names ${name}, which the script does not define and no "
                                f"keyword argument binds", line=line, column=column,
                                source_line=source_line(script, line))
    collect = CollectFormat()
    sink = Sink(inputs=[stream], path=PYTHON_PATH, data_format=collect)
    sink.name = f"${name} returned to Python"  # how explain names the sink
    return SopremoPlan(sinks=[*binder.sinks, sink]), name, collect


def input_stream(name: str, data: Any) -> JsonStream:
    """The data set ``$name`` reading the Python ``data`` (an ad-hoc source); raises MeteorError."""
    source = Source(values=to_records(name, data))
    source.name = "$" + name
    return source.output(0)


def _statements(script: str) -> list[str]:
    """The statements of ``script`` that hold code (``split_statements``: padded to keep lines and columns)."""
    return [s for s in split_statements(script) if any(kind not in ("space", "comment", ";")
                                                        for kind, _, _ in scan(s))]


def split_result(script: str) -> tuple[str, str]:
    """The script up to its last statement, and the variable that statement names (``$name;``); raises
    MeteorSyntaxError at the last statement when it is not a bare ``$name``."""
    statements = _statements(script)
    name = show_target(statements[-1]) if statements else None
    if name is None:
        line, column = last_statement_position(script)
        raise MeteorSyntaxError("meteor.query returns the data set named by the script's last statement: end "
                                "the script with one like '$result;'", line=line, column=column,
                                source_line=source_line(script, line))
    return (script[:len(statements[-2])] if len(statements) > 1 else ""), name


def last_statement_position(script: str) -> tuple[int, int]:
    """The 1-based line and column where the code of the last statement of ``script`` starts (1, 1 when the
    script has none)."""
    statements = _statements(script)
    if not statements:
        return 1, 1
    last = statements[-1]
    offset = next(lo for kind, lo, _ in scan(last) if kind not in ("space", "comment"))
    return last.count("\n", 0, offset) + 1, offset - (last.rfind("\n", 0, offset) + 1) + 1


__all__ = ["QUERY_EXECUTOR", "Result", "prepare", "query", "split_result"]
