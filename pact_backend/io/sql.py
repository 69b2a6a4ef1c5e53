"""SQL sources and sinks of the PACT API through DB-API 2.0 (PEP 249) or SQLAlchemy; not parallel.

``connect`` is either a zero-argument callable returning a DB-API connection (``functools.partial(sqlite3.connect,
'x.db')``) or an SQLAlchemy URL string (``'postgresql+pg8000://user@host/db'``; needs SQLAlchemy), whose
engine's raw DB-API connection is used. Both must survive pickling (they travel to worker processes), which a URL
or a partial does; an Engine object does not. The source streams rows as tuples (dicts with ``as_dicts``); the
sink inserts every record in one transaction, committed with the other sinks and rolled back on failure.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterator, Sequence

_BATCH = 1000  # rows per fetchmany / executemany


def _connection(connect: str | Callable[[], Any]) -> tuple[Any, str]:
    """(a DB-API connection, its paramstyle) for ``connect``."""
    if isinstance(connect, str):
        import sqlalchemy

        engine = sqlalchemy.create_engine(connect, poolclass=sqlalchemy.pool.NullPool)
        return engine.raw_connection(), engine.dialect.paramstyle
    conn = connect()
    module = sys.modules.get(type(conn).__module__.split(".")[0])
    return conn, getattr(module, "paramstyle", "qmark")


def placeholders(paramstyle: str, count: int) -> str:
    """``?, ?`` / ``%s, %s`` / ``:1, :2`` / ``:c0, :c1`` / ``%(c0)s, ...`` for ``count`` parameters (PEP 249)."""
    marks = {"qmark": lambda i: "?", "format": lambda i: "%s", "numeric": lambda i: f":{i + 1}",
             "named": lambda i: f":c{i}", "pyformat": lambda i: f"%(c{i})s"}[paramstyle]
    return ", ".join(marks(i) for i in range(count))


def _parameters(paramstyle: str, values: Sequence[Any]) -> Any:
    return {f"c{i}": v for i, v in enumerate(values)} if paramstyle in ("named", "pyformat") else tuple(values)


def _describe_target(connect: Any) -> str:
    return connect.split("@")[-1] if isinstance(connect, str) else getattr(connect, "__name__", "db-api")


class SqlQuery:
    """Source: the rows of ``query`` (with DB-API ``params``) as tuples, or dicts by column name (``as_dicts``)."""

    name = "sql"

    def __init__(self, connect: str | Callable[[], Any], query: str, params: Sequence[Any] = (),
                 as_dicts: bool = False):
        self.connect, self.query, self.params, self.as_dicts = connect, query, tuple(params), as_dicts

    def describe(self) -> str:
        return f"sql query {self.query!r} on {_describe_target(self.connect)}"

    def read(self) -> Iterator[Any]:
        conn, _ = _connection(self.connect)
        try:
            cursor = conn.cursor()
            cursor.execute(self.query, self.params) if self.params else cursor.execute(self.query)
            names = [d[0] for d in cursor.description or ()]
            while rows := cursor.fetchmany(_BATCH):
                for row in rows:
                    yield dict(zip(names, row)) if self.as_dicts else tuple(row)
        finally:
            conn.close()


class SqlTable:
    """Sink: inserts every record (a tuple in ``columns`` order, or a dict by column name) into ``table``.

    ``create``: a statement run first in the same transaction (e.g. ``CREATE TABLE ...``). Table and column
    names are written into the SQL as given (trusted identifiers).
    """

    name = "sql"

    def __init__(self, connect: str | Callable[[], Any], table: str, columns: Sequence[str],
                 create: str | None = None):
        self.connect, self.table, self.columns, self.create = connect, table, tuple(columns), create

    def describe(self) -> str:
        return f"sql table {self.table}({', '.join(self.columns)}) on {_describe_target(self.connect)}"

    def open(self) -> "_SqlWriter":
        return _SqlWriter(self)


class _SqlWriter:
    """One transaction of a SqlTable sink: rows are inserted in batches, committed or rolled back at the end."""

    def __init__(self, sink: SqlTable):
        self.conn, style = _connection(sink.connect)
        self.columns, self.style, self.rows = sink.columns, style, []
        self.insert = (f"INSERT INTO {sink.table} ({', '.join(sink.columns)}) "
                       f"VALUES ({placeholders(style, len(sink.columns))})")
        self.cursor = self.conn.cursor()
        if sink.create:
            self.cursor.execute(sink.create)

    def write(self, record: Any) -> None:
        values = [record[c] for c in self.columns] if isinstance(record, dict) else record
        if len(values) != len(self.columns):
            raise ValueError(f"record {record!r} has {len(values)} fields for columns {self.columns}")
        self.rows.append(_parameters(self.style, values))
        if len(self.rows) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.cursor.executemany(self.insert, self.rows)
            self.rows = []

    def commit(self) -> None:
        try:
            self._flush()
            self.conn.commit()
        finally:
            self.conn.close()

    def abort(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
