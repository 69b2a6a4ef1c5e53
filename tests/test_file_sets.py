"""Reading what users have: a directory of part files or a glob pattern, each file in the format of its own
extension (issue 16 item 4); errors name the file. Checked through ``meteor run`` as a user runs it, and on the
inline and process executors against the records written (plain Python is the oracle)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meteor.api import run_file
from sopremo.errors import DataError, InputNotFoundError, MeteorError

METEOR = str(Path(sys.executable).with_name("meteor"))
PEOPLE = [{"name": f"p{i}", "city": ["Berlin", "Paris", "Rome"][i % 3], "age": 20 + i % 50} for i in range(300)]


def meteor_run(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.meteor").write_text(text)
    return subprocess.run([METEOR, "run", "--parallelism", "2", "s.meteor"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def read_json(path: Path) -> list:
    return json.loads(path.read_text())


def key(record: dict) -> str:
    return record["name"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_a_directory_meteor_wrote_reads_back_in_its_own_format(tmp_path, fmt):
    (tmp_path / "people.json").write_text(json.dumps(PEOPLE))
    written = meteor_run(tmp_path, f"$p = read from 'people.json';\nwrite {fmt} $p to 'parts/';\n")
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [f"part-00000.{fmt}"]
    back = meteor_run(tmp_path, "$p = read from 'parts/';\n$o = filter $p where $p.age >= 60;\n"
                                "write $o to 'old.json';\n")
    assert back.returncode == 0, back.stderr
    assert sorted(read_json(tmp_path / "old.json"), key=key) == sorted((p for p in PEOPLE if p["age"] >= 60), key=key)


def write_mixed_directory(root: Path) -> list[dict]:
    """A directory of a .json, a .jsonl, a .csv.gz and a _SUCCESS marker; returns the records it holds."""
    root.mkdir()
    (root / "part-00000.json").write_text(json.dumps(PEOPLE[:100]))
    (root / "part-00001.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PEOPLE[100:200]))
    import gzip
    with gzip.open(root / "part-00002.csv.gz", "wt") as csv:
        csv.write("name,city,age\n" + "".join(f"{p['name']},{p['city']},{p['age']}\n" for p in PEOPLE[200:]))
    (root / "_SUCCESS").write_text("")
    return PEOPLE


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_a_directory_of_mixed_formats_reads_every_file_by_its_extension(tmp_path, monkeypatch, executor):
    monkeypatch.chdir(tmp_path)
    expected = write_mixed_directory(tmp_path / "mixed")
    (tmp_path / "s.meteor").write_text("$p = read from 'mixed';\n"
                                       "$g = group $p by $p.city into {city: $p[0].city, n: count($p), "
                                       "total: sum($p[*].age)};\nwrite $g to 'cities.json';\n")
    run_file("s.meteor", executor=executor, parallelism=2)
    oracle = {}
    for p in expected:
        n, total = oracle.get(p["city"], (0, 0))
        oracle[p["city"]] = (n + 1, total + p["age"])
    assert {r["city"]: (r["n"], r["total"]) for r in read_json(tmp_path / "cities.json")} == oracle


def test_a_glob_reads_the_files_it_matches(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.csv").write_text("name,age\nann,31\n")
    (logs / "b.csv").write_text("name,age\nbob,42\n")
    (logs / "c.json").write_text('[{"name": "cid", "age": 7}]')
    (tmp_path / "s.meteor").write_text("$c = read from 'logs/*.csv';\nwrite $c to 'csv.json';\n"
                                       "$all = read from 'logs/*';\nwrite $all to 'all.json';\n")
    run_file("s.meteor", executor="inline")
    assert read_json(tmp_path / "csv.json") == [{"name": "ann", "age": 31}, {"name": "bob", "age": 42}]
    assert sorted(read_json(tmp_path / "all.json"), key=key) == [
        {"name": "ann", "age": 31}, {"name": "bob", "age": 42}, {"name": "cid", "age": 7}]


def test_a_malformed_part_is_named_with_its_line(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part-00000.jsonl").write_text('{"v": 1}\n')
    (tmp_path / "parts" / "part-00001.jsonl").write_text('{"v": 2}\n{"v": 3\n')
    result = meteor_run(tmp_path, "$p = read from 'parts/';\nwrite $p to 'o.json';\n")
    assert result.returncode == 1
    assert f"{tmp_path}/parts/part-00001.jsonl:2:" in result.stderr and "malformed JSON line" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("files, script, error, fragment", [
    ({"d/x.xml": "<a/>"}, "read from 'd/'", InputNotFoundError, "cannot tell the format of 'x.xml'"),
    ({"d/x.csv": "a\n1\n"}, "read from 'd/*.tsv'", InputNotFoundError, "no file matches the pattern"),
    ({"d/x.csv": "a\n1\n"}, "read from 'd/' delimiter ';'", MeteorError, "name the format to give options"),
    ({"d/x.csv": "a,b\n1\n"}, "read from 'd/'", DataError, "d/x.csv:2: CSV row has 1 fields, expected 2"),
])
def test_file_set_errors_name_the_file_or_pattern(tmp_path, monkeypatch, files, script, error, fragment):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "s.meteor").write_text(f"$x = {script};\nwrite $x to 'o.json';\n")
    with pytest.raises(error) as info:
        run_file("s.meteor", executor="inline")
    assert fragment in str(info.value)
