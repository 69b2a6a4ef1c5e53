"""Run-time errors name the script (issue 16 item 2): ``meteor run`` through a subprocess, as a user runs it, on
the inline and process executors (and once on Dask). The message gives the script's file:line:col of the
failing operator with a caret, the Meteor name of that operator and of its statement, and the data file and line
of the record (or the record itself, shortened); never an internal ``$0`` nor a Python traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXECUTORS = ["inline", "process"]


def meteor(tmp_path: Path, script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``meteor run`` on ``script`` (written to s.meteor) in ``tmp_path``."""
    (tmp_path / "s.meteor").write_text(script)
    return subprocess.run([sys.executable, "-m", "meteor", "run", "s.meteor", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "$0" not in result.stderr, result.stderr
    return result.stderr.rstrip("\n").split("\n")


@pytest.mark.parametrize("executor", EXECUTORS)
def test_division_by_zero_names_operator_statement_and_data_line(tmp_path, executor):
    rows = ['{"a": 3, "b": 1, "s": "x"}', "", '{"a": 4, "b": 2, "s": "y"}', '{"a": 5, "b": 0, "s": "z"}']
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n")
    result = meteor(tmp_path, "$d = read from 'd.jsonl';\n"
                              "$r = transform $d into { s: $d.s, q: $d.a / $d.b };\n"
                              "write $r to 'out.json';\n", "--executor", executor)
    assert error_lines(result) == [
        "error: s.meteor:2:43: division by zero: int '5' / int '0'",
        "    $r = transform $d into { s: $d.s, q: $d.a / $d.b };",
        "                                              ^",
        "  in '/' of transform",
        f'  on the record at d.jsonl:4: {{"a":5,"b":0,"s":"z"}}',
    ]
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("executor", EXECUTORS)
def test_the_line_of_a_record_deep_in_a_split_file(tmp_path, executor):
    """Several byte ranges read in parallel: the line is counted from the start of the file."""
    rows = [json.dumps({"k": i, "d": 1 + i % 7}) for i in range(60_000)]
    rows[47_123] = json.dumps({"k": 47_123, "d": 0})
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n")
    result = meteor(tmp_path, "$d = read from 'd.jsonl';\n$r = filter $d where 100 / $d.d > 20;\n"
                              "write $r to 'out.json';\n", "--executor", executor, "--parallelism", "2")
    lines = error_lines(result)
    assert lines[0] == "error: s.meteor:2:26: division by zero: int '100' / int '0'"
    assert lines[3:] == ["  in '/' of filter", f'  on the record at d.jsonl:47124: {{"k":47123,"d":0}}']


@pytest.mark.parametrize("executor", EXECUTORS)
def test_sum_over_text_names_the_aggregation_and_the_record(tmp_path, executor):
    """The combiner folds ``sum`` itself; the record comes through a shuffle and is still found in its file."""
    (tmp_path / "d.jsonl").write_text('{"g": 1, "v": 2}\n{"g": 1, "v": "7"}\n')
    result = meteor(tmp_path, "$d = read from 'd.jsonl';\n"
                              "$g = group $d by $d.g into { g: $d[0].g, total: sum($d[*].v) };\n"
                              "write $g to 'out.json';\n", "--executor", executor)
    assert error_lines(result) == [
        "error: s.meteor:2:49: sum() works on numbers, got string '7'",
        "    $g = group $d by $d.g into { g: $d[0].g, total: sum($d[*].v) };",
        "                                                    ^",
        "  in sum() of group",
        f'  on the record at d.jsonl:2: {{"g":1,"v":"7"}}',
    ]


def test_an_aggregation_of_the_whole_group_shows_the_group(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"g": 1, "v": "7"}\n')
    result = meteor(tmp_path, "$d = read from 'd.jsonl';\n"
                              "$g = group $d by $d.v into { total: sum($d.v) };\n"
                              "write $g to 'out.json';\n", "--executor", "process")
    assert error_lines(result) == [
        "error: s.meteor:2:37: sum() aggregates an array, got string",
        "    $g = group $d by $d.v into { total: sum($d.v) };",
        "                                        ^",
        "  in sum() of group",
        '  on the group [{"g":1,"v":"7"}]',
    ]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_exception_of_a_python_udf(tmp_path, executor):
    (tmp_path / "udfs.py").write_text("def code(x):\n    return {'a': 1}[x]\n")
    (tmp_path / "d.jsonl").write_text('{"c": "a"}\n{"c": "b"}\n')
    result = meteor(tmp_path, "code = pyudf('udfs:code');\n$d = read from 'd.jsonl';\n"
                              "$r = filter $d where code($d.c) > 0;\nwrite $r to 'out.json';\n",
                    "--executor", executor, env={"PYTHONPATH": str(tmp_path)})
    assert error_lines(result) == [
        "error: s.meteor:3:22: code() failed: KeyError: 'b'",
        "    $r = filter $d where code($d.c) > 0;",
        "                         ^",
        "  in code() of filter",
        f'  on the record at d.jsonl:2: {{"c":"b"}}',
    ]


def test_a_csv_row_and_a_cast(tmp_path):
    (tmp_path / "c.csv").write_text("id,name,n\n1,ann,2\n2,bob,x\n")
    result = meteor(tmp_path, "$c = read csv from 'c.csv' header true;\n"
                              "$r = transform $c into { m: (int) $c.n };\nwrite $r to 'out.json';\n",
                    "--executor", "inline")
    assert error_lines(result) == [
        "error: s.meteor:2:29: cannot cast string 'x' to int",
        "    $r = transform $c into { m: (int) $c.n };",
        "                                ^",
        "  in the cast to int of transform",
        f'  on the record at c.csv:3: {{"n":"x"}}',
    ]


def test_records_of_a_join_are_shown_shortened(tmp_path):
    """Records that come out of a shuffle have no line to name: the error shows them, cut at 200 characters."""
    long = "w" * 300
    (tmp_path / "a.jsonl").write_text(json.dumps({"k": 1, "t": long}) + "\n")
    (tmp_path / "b.jsonl").write_text('{"k": 1, "n": [1]}\n')
    result = meteor(tmp_path, "$a = read from 'a.jsonl';\n$b = read from 'b.jsonl';\n"
                              "$j = join $a, $b where $a.k == $b.k into { x: $b.n * 2, t: $a.t };\n"
                              "write $j to 'out.json';\n", "--executor", "process")
    lines = error_lines(result)
    assert lines[0] == "error: s.meteor:3:52: cannot apply '*' to array '[1]' and int '2'"
    assert lines[3] == "  in '*' of join"
    assert lines[4].startswith('  on the records [{"k":1,"t":"www') and lines[4].endswith("...")
    assert len(lines[4]) == len("  on the records ") + 200


def test_on_dask_the_error_crosses_the_process_boundary(dask_cluster, tmp_path):
    (tmp_path / "d.jsonl").write_text('{"a": 1, "b": 0}\n')
    result = meteor(tmp_path, "$d = read from 'd.jsonl';\n$r = transform $d into { q: $d.a / $d.b };\n"
                              "write $r to 'out.json';\n", "--executor", "dask", "--address",
                    dask_cluster.scheduler_address)
    lines = error_lines(result)
    assert lines[:5] == [
        "error: s.meteor:2:34: division by zero: int '1' / int '0'",
        "    $r = transform $d into { q: $d.a / $d.b };",
        "                                     ^",
        "  in '/' of transform",
        f'  on the record at d.jsonl:1: {{"a":1,"b":0}}',
    ]
