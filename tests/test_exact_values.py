"""Numbers through files without silent changes (issue 15 item 6, issue 14 item 6, I/O side): integers beyond
64 bits stay exact through every reader, writer and executor, and NaN or Infinity are never written as null (JSON
cannot hold them: the sink fails naming its file) nor read from input (malformed data naming file and line).
Python's own integers are the oracle."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from meteor.api import run_file
from pact_backend.api import ExecutionEnvironment
from pact_backend.io import JsonLines
from sopremo.errors import DataError, OutputError

METEOR = str(Path(sys.executable).with_name("meteor"))
HUGE = [2**64, -(2**63) - 1, 10**30 + 7, -(10**40), 2**63 - 1]  # beyond int64/uint64, and the int64 edge


def records() -> list[dict]:
    return [{"k": i % 2, "n": n, "s": str(n)} for i, n in enumerate(HUGE)]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """The same records as .json, .jsonl and .csv (numbers written by Python, not by meteor)."""
    (tmp_path / "in.json").write_text(json.dumps(records()))
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records()))
    (tmp_path / "in.csv").write_text("k,n,s\n" + "".join(f"{r['k']},{r['n']},'{r['s']}'\n" for r in records()))
    return tmp_path


@pytest.mark.parametrize("source", ["in.json", "in.jsonl", "in.csv"])
@pytest.mark.parametrize("executor", ["inline", "process"])
def test_integers_beyond_64_bits_stay_exact_read_computed_and_written(inputs, monkeypatch, source, executor):
    monkeypatch.chdir(inputs)
    (inputs / "s.meteor").write_text(
        f"$r = read from '{source}';\n"
        "$t = transform $r into {n: $r.n, twice: $r.n * 2};\n"             # whole records
        "$g = group $r by $r.k into {k: $r[0].k, total: sum($r[*].n)};\n"  # projected decoding (fields k, n)
        "write $t to 'out.jsonl';\nwrite $t to 'out.csv';\nwrite $g to 'sums.json';\n")
    run_file("s.meteor", executor=executor, parallelism=2)
    expected = sorted((n, 2 * n) for n in HUGE)
    jsonl = [json.loads(line) for line in (inputs / "out.jsonl").read_text().splitlines()]
    assert sorted((r["n"], r["twice"]) for r in jsonl) == expected
    csv_rows = (inputs / "out.csv").read_text().splitlines()[1:]
    assert sorted(tuple(map(int, row.split(","))) for row in csv_rows) == expected
    sums = {r["k"]: r["total"] for r in json.loads((inputs / "sums.json").read_text())}
    assert sums == {k: sum(n for i, n in enumerate(HUGE) if i % 2 == k) for k in (0, 1)}


def test_the_pact_api_keeps_integers_exact(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps({"n": n}) + "\n" for n in HUGE))
    env = ExecutionEnvironment("inline")
    assert [r["n"] for r in env.read_jsonl(str(path)).collect()] == HUGE
    assert [r["n"] for r in JsonLines(str(path), fields=frozenset({"n"})).read()] == HUGE


def meteor_run(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.meteor").write_text(text)
    return subprocess.run([METEOR, "run", "s.meteor"], cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("sink", ["out.json", "out.jsonl", "out.csv"])
@pytest.mark.parametrize("text, name", [("inf", "Infinity"), ("-inf", "-Infinity"), ("nan", "NaN")])
def test_nan_and_infinity_fail_the_sink_naming_its_file(tmp_path, sink, text, name):
    """Meteor's arithmetic refuses to overflow; a Python function (pyudf) can still return such a float."""
    (tmp_path / "in.jsonl").write_text('{"v": 10}\n')
    (tmp_path / sink).write_text("the earlier output\n")
    result = meteor_run(tmp_path, f"f = pyudf('builtins:float');\n$r = read from 'in.jsonl';\n"
                                  f"$o = transform $r into {{v: $r.v, x: f('{text}')}};\nwrite $o to '{sink}';\n")
    assert result.returncode == 1
    assert f"error: {tmp_path}/{sink}: cannot write {name}: JSON has no NaN or Infinity" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / sink).read_text() == "the earlier output\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("name, text, line", [
    ("a.jsonl", '{"v": 1}\n{"v": NaN}\n', 2), ("a.jsonl", '{"v": 1e999}\n', 1),
    ("a.json", '[{"v": 1},\n {"v": Infinity}]', 2), ("a.json", '[{"v": -1e400}]', 1),
])
def test_nan_and_infinity_in_json_input_are_malformed_data(tmp_path, monkeypatch, name, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    (tmp_path / "s.meteor").write_text(f"$r = read from '{name}';\nwrite $r to 'o.json';\n")
    with pytest.raises(DataError, match="malformed JSON") as info:
        run_file("s.meteor", executor="inline")
    assert (info.value.path, info.value.line) == (str(tmp_path / name), line)


def test_csv_fields_that_overflow_a_double_stay_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("v,w\n1e999,1.5\nNaN,2\n")
    (tmp_path / "s.meteor").write_text("$r = read from 'a.csv';\nwrite $r to 'o.json';\n")
    run_file("s.meteor", executor="inline")
    assert json.loads((tmp_path / "o.json").read_text()) == [{"v": "1e999", "w": 1.5}, {"v": "NaN", "w": 2}]


def test_the_pact_api_refuses_nan_naming_the_file(tmp_path):
    env = ExecutionEnvironment("inline")
    env.from_collection([1.0, math.inf]).write_jsonl(str(tmp_path / "x.jsonl"))
    with pytest.raises(OutputError, match=r"x\.jsonl: cannot write Infinity"):
        env.execute()
    assert list(tmp_path.iterdir()) == []
