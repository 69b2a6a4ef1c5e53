"""The PACT programming model as a Python API (VLDB J. 2014, sec. 5: PACT programs written by hand; the
Stratosphere Python binding's word count is its "hello world"):

    env = ExecutionEnvironment()
    counts = (env.read_text("book.txt")
                 .flat_map(lambda line: [(w, 1) for w in line.lower().split()])
                 .group_by(0).sum(1))
    counts.write_csv("counts.csv")
    env.execute()

The program is a PactPlan of contracts (pact_backend.contracts), so the same optimizer and executors run it as
run Meteor scripts. Modules: api_records (keys, UDF adapters), api_datasets (DataSet, Grouping), api_sinks,
api_annotations (user-code annotations, debug checks), api_iterations (bulk / workset iterations),
api_explain (``meteor explain module:function``), io (sources and sinks).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

from pact_backend import contracts as pact
from pact_backend.api_annotations import (AnnotationViolation, constant_fields, constant_fields_except,
                                          output_cardinality, reads, selectivity)
from pact_backend.api_datasets import DataSet, Grouping
from pact_backend.api_records import Collector, field_key, key_of
from pact_backend.api_reorder import push_filters
from pact_backend.executors import registry
from pact_backend.io import (CollectOutput, Csv, DelimitedLines, FixedBinary, JsonArray, JsonLines, MemoryInput,
                             SqlQuery, TextLines)
from pact_backend.io.paths import total_size, with_absolute_path
from pact_backend.iterations import ProgramResult, run_program
from pact_backend.keys import Key

__all__ = ["AnnotationViolation", "Collector", "DataSet", "ExecutionEnvironment", "Grouping", "Key",
           "ProgramResult", "constant_fields", "constant_fields_except", "field_key", "key_of", "make_executor",
           "output_cardinality", "reads", "selectivity"]

def make_executor(executor: str | Any = "inline", parallelism: int | None = None,
                  memory: int | str | None = None) -> Any:
    """An executor by name (the ``meteor.executors`` registry: 'inline', 'process', 'dask', ...) or
    ``executor`` itself when it is an executor object. ``parallelism``/``memory`` (bytes or '512MB')
    configure it. Raises ExecutorError (a ValueError) for an unknown name or bad settings."""
    if not isinstance(executor, str):
        return executor
    return registry.make_executor(executor, parallelism, memory)


class ExecutionEnvironment:
    """Where a PACT program is built and run: sources create DataSets, sinks register on the environment,
    ``execute()`` runs every sink. ``executor``: 'inline' (default), 'process', 'dask' or an executor object;
    ``parallelism``/``memory``: settings of the process executor; ``optimize``: physical optimization and the
    annotation-based reordering (False: default strategies, as written); ``debug``: check every UDF call
    against its annotations (AnnotationViolation)."""

    def __init__(self, executor: str | Any = "inline", parallelism: int | None = None,
                 memory: int | str | None = None, optimize: bool = True, debug: bool = False):
        self.executor = make_executor(executor, parallelism, memory)
        self.parallelism = self.executor.parallelism
        self.optimize, self.debug = optimize, debug
        self.sinks: list[pact.Sink] = []
        self.last_result: ProgramResult | None = None

    # -- sources --------------------------------------------------------------------------------------------------

    def read(self, input_format: Any, name: str | None = None, path: str | None = None) -> DataSet:
        """A data set read through ``input_format`` (any InputFormat); ``path`` gives the size estimate. A
        relative ``input_format.path`` is made absolute here (tasks never use a worker's working directory)."""
        with_absolute_path(input_format)
        source = pact.Source(name=name or input_format.describe(), input_format=input_format)
        if path is not None:
            source.hints.output_bytes = total_size(path)
        return DataSet(self, source)

    def from_collection(self, records: Iterable[Any], name: str = "collection") -> DataSet:
        """A data set of the given records (kept in memory, shipped to the workers)."""
        source = MemoryInput(records, name)
        ds = self.read(source, name)
        ds.contract.hints.output_records = len(source.records)
        return ds

    def read_text(self, path: str, encoding: str = "utf-8") -> DataSet:
        """One str record per line of the text file ``path``."""
        return self.read(TextLines(path, encoding), f"text {os.path.basename(path)}", path)

    def read_delimited(self, path: str, delimiter: str = "\t", types: Sequence[Callable] | None = None,
                       names: Sequence[str] | None = None) -> DataSet:
        """One tuple (dict with ``names``) per line split at ``delimiter``, fields converted by ``types``."""
        return self.read(DelimitedLines(path, delimiter, types, names), f"delimited {os.path.basename(path)}", path)

    def read_csv(self, path: str, **options: Any) -> DataSet:
        """One tuple per CSV row (options of pact_backend.io.Csv: delimiter, quote, header, types, names)."""
        return self.read(Csv(path, **options), f"csv {os.path.basename(path)}", path)

    def read_json(self, path: str) -> DataSet:
        """The elements of the JSON array in ``path``."""
        return self.read(JsonArray(path), f"json {os.path.basename(path)}", path)

    def read_jsonl(self, path: str) -> DataSet:
        """One JSON value per line of ``path``."""
        return self.read(JsonLines(path), f"jsonl {os.path.basename(path)}", path)

    def read_binary(self, path: str, fmt: str) -> DataSet:
        """Fixed-length binary records: one tuple per ``struct`` packing ``fmt``."""
        return self.read(FixedBinary(path, fmt), f"binary {os.path.basename(path)}", path)

    def read_sql(self, connect: Any, query: str, params: Sequence[Any] = (), as_dicts: bool = False) -> DataSet:
        """The rows of an SQL ``query`` (pact_backend.io.SqlQuery: DB-API factory or SQLAlchemy URL)."""
        return self.read(SqlQuery(connect, query, params, as_dicts), "sql query")

    # -- running --------------------------------------------------------------------------------------------------

    def plan(self, sinks: list[pact.Sink] | None = None) -> pact.PactPlan:
        """The PACT program of ``sinks`` (default: every registered sink), filters moved by annotations."""
        plan = pact.PactPlan(list(self.sinks if sinks is None else sinks))
        return push_filters(plan) if self.optimize else plan

    def execute(self) -> ProgramResult:
        """Run every registered sink; returns the statistics (``table()`` prints them)."""
        if not self.sinks:
            raise ValueError("nothing to execute: no sink was defined (write_* or output)")
        return self.run(self.plan())

    def run(self, plan: pact.PactPlan) -> ProgramResult:
        """Run ``plan`` (iterations included) on this environment's executor."""
        self.last_result = run_program(plan, self.executor, self.optimize)
        return self.last_result

    def collect(self, ds: DataSet) -> list[Any]:
        """The records of ``ds`` (runs only what ``ds`` needs)."""
        out = CollectOutput(ds.contract.name)
        self.run(self.plan([pact.Sink(name="collect", inputs=[ds.contract], output_format=out)]))
        return out.records

    def explain(self, fmt: str = "text") -> str:
        """The PACT program with its iterations' step plans and the physical plan this environment's executor
        would run (``meteor explain``)."""
        from pact_backend.api_explain import explain_plan
        return explain_plan(self.plan(), self.executor.resources(), fmt, self.optimize)
