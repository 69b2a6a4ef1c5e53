"""The sinks of a PACT API data set: ``write_*`` methods registering a Sink on the environment (run by
``env.execute()``) and ``collect()``, which runs what the data set needs and returns its records."""

from __future__ import annotations

import os
from typing import Any

from pact_backend import contracts as pact
from pact_backend.io.paths import with_absolute_path


class SinkMethods:
    """Mixed into DataSet (which provides ``env`` and ``contract``)."""

    env: Any
    contract: pact.Contract

    def output(self, output_format: Any, name: str | None = None) -> pact.Sink:
        """Write through ``output_format`` (an OutputFormat, e.g. pact_backend.io.Csv(path)) when the
        environment executes; returns the registered Sink (ordered when it follows ``sort_by``). A relative
        ``output_format.path`` is made absolute here (tasks never use a worker's working directory)."""
        with_absolute_path(output_format)
        c = self.contract
        ordered = isinstance(c, pact.Reduce) and c.key is None and c.group_order is not None
        path = getattr(output_format, "path", None)
        default = f"write {os.path.basename(path)}" if isinstance(path, str) else output_format.describe()
        sink = pact.Sink(name=name or default, inputs=[c], output_format=output_format, ordered=ordered)
        self.env.sinks.append(sink)
        return sink

    def write_text(self, path: str, **options: Any) -> pact.Sink:
        """One line per record (``str(record)``), see pact_backend.io.TextLines."""
        from pact_backend.io import TextLines
        return self.output(TextLines(path, **options))

    def write_delimited(self, path: str, **options: Any) -> pact.Sink:
        """Fields joined by a delimiter (default tab), see pact_backend.io.DelimitedLines."""
        from pact_backend.io import DelimitedLines
        return self.output(DelimitedLines(path, **options))

    def write_csv(self, path: str, **options: Any) -> pact.Sink:
        """CSV rows (``header``, ``names``, ``delimiter``, ``quote``), see pact_backend.io.Csv."""
        from pact_backend.io import Csv
        return self.output(Csv(path, **options))

    def write_json(self, path: str) -> pact.Sink:
        """One JSON array holding every record."""
        from pact_backend.io import JsonArray
        return self.output(JsonArray(path))

    def write_jsonl(self, path: str) -> pact.Sink:
        """One JSON value per line."""
        from pact_backend.io import JsonLines
        return self.output(JsonLines(path))

    def write_binary(self, path: str, fmt: str) -> pact.Sink:
        """Fixed-length records packed with the ``struct`` format ``fmt`` (records are tuples)."""
        from pact_backend.io import FixedBinary
        return self.output(FixedBinary(path, fmt))

    def write_sql(self, connect: Any, table: str, columns: list[str], create: str | None = None) -> pact.Sink:
        """Rows inserted into ``table`` in one transaction, see pact_backend.io.SqlTable."""
        from pact_backend.io import SqlTable
        return self.output(SqlTable(connect, table, columns, create))

    def collect(self) -> list[Any]:
        """Run the part of the program this data set needs and return its records (other sinks are not run)."""
        return self.env.collect(self)
