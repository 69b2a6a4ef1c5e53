"""No silent typos (issue 16 item 3), run as a user would (``meteor run`` in a subprocess): a field no record of an
input has, a misspelled group key and a field read on a group array give a warning after the run naming the
script line and the fields that exist (closest first); ``--strict`` makes them an error before the run, so no
output is replaced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SALES = [{"qty": 3, "price": 2.5, "item": "tea"}, {"qty": 1, "price": 4, "item": "cake"}]


def meteor(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.meteor").write_text(script)
    return subprocess.run([sys.executable, "-m", "meteor", "run", "s.meteor", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def sales(tmp_path: Path, rows: list[dict] = SALES) -> None:
    (tmp_path / "sales.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("wrote ")]


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_a_field_no_record_has_is_a_warning_naming_the_closest_fields(tmp_path, executor):
    sales(tmp_path)
    result = meteor(tmp_path, "$s = read from 'sales.jsonl';\n"
                              "$t = transform $s into { item: $s.item, n: $s.qtty * $s.price };\n"
                              "write $t to 't.json';\n", "--executor", executor)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith("wrote 2 records to t.json")  # the warning comes after the run
    assert warnings_of(result.stderr) == [
        "warning: s.meteor:2:44: no record of sales.jsonl has a field 'qtty'; its records have 'qty', 'item', "
        "'price'",
        "    $t = transform $s into { item: $s.item, n: $s.qtty * $s.price };",
        "                                               ^",
    ]
    assert json.loads((tmp_path / "t.json").read_text()) == [{"item": "tea"}, {"item": "cake"}]


def test_strict_fails_before_the_run_and_keeps_the_old_output(tmp_path):
    sales(tmp_path)
    (tmp_path / "t.json").write_text("old\n")
    result = meteor(tmp_path, "$s = read from 'sales.jsonl';\n$t = filter $s where $s.prise > 1;\n"
                              "write $t to 't.json';\n", "--strict")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: --strict: 1 field read never finds a value:",
        "s.meteor:2:22: no record of sales.jsonl has a field 'prise'; its records have 'price', 'item', 'qty'",
        "    $t = filter $s where $s.prise > 1;",
        "                         ^",
    ]
    assert (tmp_path / "t.json").read_text() == "old\n"


def test_a_misspelled_group_key_and_a_field_of_the_group_array(tmp_path):
    sales(tmp_path)
    result = meteor(tmp_path, "$s = read from 'sales.jsonl';\n"
                              "$g = group $s by $s.itme into { item: $s.itme, total: sum($s.price), "
                              "n: sum($s[*].qty) };\nwrite $g to 'g.json';\n")
    assert result.returncode == 0, result.stderr
    lines = warnings_of(result.stderr)
    assert lines[0] == ("warning: s.meteor:2:18: no record of sales.jsonl has a field 'itme'; its records have "
                        "'item', 'price', 'qty'")
    assert lines[3] == lines[0].replace(":2:18:", ":2:39:")  # the key path read in 'into' is the same field
    assert lines[6] == ("warning: s.meteor:2:59: $s.price reads a field of the group array $s, which has none "
                        "(inside 'into' $s is the array of the group's records): write $s[*].price for every "
                        "record's value or $s[0].price for the first record's")
    assert len(lines) == 9


def test_fields_that_exist_somewhere_are_not_reported(tmp_path):
    """A field only the 5000th record has (beyond the sample), the group's key path, projections over the group."""
    rows = [{"k": i % 3, "v": i} for i in range(5000)]
    rows[4999]["rare"] = 1
    sales(tmp_path, rows)
    result = meteor(tmp_path, "$s = read from 'sales.jsonl';\n$r = filter $s where $s.rare == 1;\n"
                              "$g = group $s by $s.k into { k: $s.k, first: $s[0].v, total: sum($s[*].v) };\n"
                              "write $r to 'r.json';\nwrite $g to 'g.json';\n", "--strict")
    assert result.returncode == 0, result.stderr
    assert warnings_of(result.stderr) == []
    assert json.loads((tmp_path / "r.json").read_text()) == [{"k": 4999 % 3, "v": 4999, "rare": 1}]


def test_a_csv_column_the_header_lacks(tmp_path):
    (tmp_path / "c.csv").write_text("id,name\n1,ann\n")
    result = meteor(tmp_path, "$c = read csv from 'c.csv' header true;\n$r = transform $c into { n: $c.nmae };\n"
                              "write $r to 'r.json';\n")
    assert result.returncode == 0, result.stderr
    assert warnings_of(result.stderr)[0] == ("warning: s.meteor:2:29: no record of c.csv has a field 'nmae'; "
                                             "its records have 'name', 'id'")
