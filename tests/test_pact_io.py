"""Sources and sinks of the PACT API (pact_backend.io): text, delimited, CSV, JSON, JSON Lines, fixed-length
binary records and SQL (a real SQLite file, through DB-API and SQLAlchemy; a real PostgreSQL server started in a
temporary directory when the machine has its binaries); byte-range splits read every record exactly once;
malformed input names file and line; sinks appear atomically."""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile

import pytest

from pact_backend.api import ExecutionEnvironment
from pact_backend.io import (Csv, DelimitedLines, DataError, FixedBinary, JsonArray, JsonLines, SqlQuery,
                             SqlTable, TextLines)


def _write_all(fmt, records) -> None:
    writer = fmt.open()
    for record in records:
        writer.write(record)
    writer.commit()


def _by_splits(fmt, n: int) -> list:
    return [r for part in fmt.splits(n) for r in fmt.read_split(part)]


LINES = ["first line", "", "x" * 300, "ümlaut ✓", "last"]


@pytest.mark.parametrize("make, records", [
    (lambda p: TextLines(p), LINES),
    (lambda p: DelimitedLines(p, types=(int, str, float)), [(i, f"w{i}" * (i % 7), i / 4) for i in range(200)]),
    (lambda p: Csv(p, types=(int, str)), [(i, 'quoted, "text"' if i % 3 else "") for i in range(150)]),
    (lambda p: JsonLines(p), [{"id": i, "tags": ["a"] * (i % 4)} for i in range(120)]),
    (lambda p: FixedBinary(p, "<qd4s"), [(i, i * 0.5, b"abcd") for i in range(500)]),
], ids=["text", "delimited", "csv", "jsonl", "binary"])
def test_round_trip_and_every_split_reads_each_record_once(tmp_path, make, records):
    fmt = make(str(tmp_path / "data"))
    _write_all(fmt, records)
    expected = [list(r) if isinstance(r, tuple) and isinstance(fmt, JsonLines) else r for r in records]
    assert list(fmt.read()) == expected
    for n in (1, 2, 3, 7):
        assert _by_splits(fmt, n) == expected


def test_csv_header_names_and_dict_records(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text('name,age\n"Doe, Jane",41\nBob,7\n')
    fmt = Csv(str(path), header=True, types=(str, int))
    assert list(fmt.read()) == [{"name": "Doe, Jane", "age": 41}, {"name": "Bob", "age": 7}]
    assert _by_splits(fmt, 3) == list(fmt.read())
    out = Csv(str(tmp_path / "out.csv"), header=True, names=["age", "name"])
    _write_all(out, fmt.read())
    assert (tmp_path / "out.csv").read_text() == 'age,name\n41,"Doe, Jane"\n7,Bob\n'


def test_json_array_round_trip_and_empty(tmp_path):
    fmt = JsonArray(str(tmp_path / "a.json"))
    _write_all(fmt, [{"a": 1}, [1, 2], "s"])
    assert list(fmt.read()) == [{"a": 1}, [1, 2], "s"]
    _write_all(fmt, [])
    assert list(fmt.read()) == []


@pytest.mark.parametrize("make, content, where", [
    (lambda p: JsonLines(p), '{"a": 1}\n{"a": \n', "bad:2"),
    (lambda p: JsonArray(p), '[{"a": 1},\n {"a" 2}]', "bad:2"),
    (lambda p: DelimitedLines(p, types=(int, int)), "1\t2\n3\tx\n", "bad:2"),
    (lambda p: Csv(p, types=(int,)), "1\n2,3\n", "bad:2"),
])
def test_malformed_input_names_file_and_line(tmp_path, make, content, where):
    path = tmp_path / "bad"
    path.write_text(content)
    with pytest.raises(DataError, match=where):
        list(make(str(path)).read())


def test_truncated_binary_file_is_an_error(tmp_path):
    path = tmp_path / "r.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(DataError, match="not a multiple of the record size 8"):
        list(FixedBinary(str(path), "<q").read())


def test_a_failing_run_leaves_no_output(tmp_path):
    env = ExecutionEnvironment("inline")

    def explode(x):
        if x == 3:
            raise RuntimeError("boom")
        return x

    env.from_collection(range(5)).map(explode).write_jsonl(str(tmp_path / "out.jsonl"))
    with pytest.raises(RuntimeError, match="boom"):
        env.execute()
    assert os.listdir(tmp_path) == []


def test_environment_reads_files_in_parallel_on_the_process_executor(tmp_path):
    path = tmp_path / "nums.tsv"
    path.write_text("".join(f"{i}\t{i * i}\n" for i in range(3000)))
    env = ExecutionEnvironment("process", parallelism=2)
    total = env.read_delimited(str(path), types=(int, int)).map(lambda r: r[1]).reduce(lambda a, b: a + b)
    assert total.collect() == [sum(i * i for i in range(3000))]
    assert env.executor.last_run.tasks >= 2


# -- SQL -----------------------------------------------------------------------------------------------------------

def _postgres_available() -> bool:
    if not all(shutil.which(b) for b in ("initdb", "pg_ctl", "postgres")):
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("postgres")  # initdb refuses to run as root: the server runs as this user
    except KeyError:
        return False
    return shutil.which("runuser") is not None


BACKENDS = ["sqlite", "sqlalchemy"] + (["postgresql"] if _postgres_available() else [])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server in a temp directory: yields (DB-API factory, SQLAlchemy URL)."""
    base = tempfile.mkdtemp(prefix="meteor-pg-")
    prefix = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(base, "data"), _free_port()
    subprocess.run([*prefix, "initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    subprocess.run([*prefix, "pg_ctl", "-D", data, "-w", "-l", os.path.join(base, "log"), "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        import pg8000.dbapi

        connect = functools.partial(pg8000.dbapi.connect, user="postgres", host="127.0.0.1", port=port,
                                    database="postgres")
        yield connect, f"postgresql+pg8000://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    """(connect for DB-API or a URL, a second connect) of each backend, with an empty table ``src``."""
    if request.param == "postgresql":
        dbapi, url = request.getfixturevalue("postgres")
        connect = dbapi
    else:
        path = str(tmp_path / "test.db")
        connect = functools.partial(sqlite3.connect, path)
        url = f"sqlite:///{path}"
    conn = connect()
    cur = conn.cursor()
    for table in ("src", "dst"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute("CREATE TABLE src (id INTEGER, name VARCHAR(20), score REAL)")
    cur.executemany("INSERT INTO src VALUES (%s, %s, %s)" if request.param == "postgresql"
                    else "INSERT INTO src VALUES (?, ?, ?)", [(i, f"n{i}", i / 2) for i in range(25)])
    conn.commit()
    conn.close()
    return url if request.param == "sqlalchemy" else connect, connect


def test_sql_source_and_sink(database):
    connect, raw = database
    env = ExecutionEnvironment("process", parallelism=2)
    rows = env.read_sql(connect, "SELECT id, name, score FROM src WHERE id >= 20 ORDER BY id")
    rows.map(lambda r: (r[0] * 10, r[1].upper())).write_sql(
        connect, "dst", ["id", "name"], create="CREATE TABLE dst (id INTEGER, name VARCHAR(20))")
    env.execute()
    conn = raw()
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM dst ORDER BY id")
    assert [tuple(r) for r in cur.fetchall()] == [(i * 10, f"N{i}") for i in range(20, 25)]
    conn.close()
    dicts = ExecutionEnvironment().read_sql(connect, "SELECT id, name FROM src WHERE id = 3", as_dicts=True)
    assert dicts.collect() == [{"id": 3, "name": "n3"}]


def test_sql_sink_rolls_back_on_failure(database):
    connect, raw = database
    env = ExecutionEnvironment("inline")

    def fail_late(i):
        if i == 2200:  # after two batches of inserts went to the database
            raise ValueError("late failure")
        return (i, "new", 0.0)

    env.from_collection(range(2500)).map(fail_late).output(SqlTable(connect, "src", ["id", "name", "score"]))
    with pytest.raises(ValueError, match="late failure"):
        env.execute()
    assert len(list(SqlQuery(raw, "SELECT * FROM src").read())) == 25
