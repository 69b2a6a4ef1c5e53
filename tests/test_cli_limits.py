"""``meteor run`` at the edges, run as a user would (a subprocess): byte-order marks, huge literals, NUL bytes in
paths, scripts and data nested 1000 levels deep (they work) and deeper than the limits (one clear error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from meteor.deep_stack import MAX_NESTING

WRITE = "\nwrite $a to 'out.json';\n"


def meteor(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meteor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def run_script(tmp_path: Path, text: str | bytes, *options: str) -> subprocess.CompletedProcess:
    script = tmp_path / "s.meteor"
    if isinstance(text, bytes):
        script.write_bytes(text)
    else:
        script.write_text(text, encoding="utf-8")
    return meteor(tmp_path, "run", "-q", *options, "s.meteor")


def output(tmp_path: Path) -> list:
    return orjson.loads((tmp_path / "out.json").read_bytes())


def assert_one_error(done: subprocess.CompletedProcess, *parts: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("error: "), done.stderr
    for part in parts:
        assert part in first, done.stderr


def test_a_script_saved_with_a_byte_order_mark_runs(tmp_path):
    (tmp_path / "inc.meteor").write_bytes("\ufeff$b = [2];\n".encode())
    done = run_script(tmp_path, "\ufeff$a = [1];\ninclude 'inc.meteor';\n$a = union $a, $b;\n" + WRITE)
    assert done.returncode == 0, done.stderr
    assert sorted(output(tmp_path)) == [1, 2]


def test_an_error_in_a_script_with_a_byte_order_mark_points_at_the_right_column(tmp_path):
    done = run_script(tmp_path, "\ufeff$a = [1 +* 2];" + WRITE)
    assert_one_error(done, "s.meteor:1:10:")
    assert done.stderr.splitlines()[1:3] == ["    $a = [1 +* 2];", "             ^"]


def test_an_integer_literal_of_5000_digits_is_a_clear_error(tmp_path):
    done = run_script(tmp_path, "$a = [\n  " + "7" * 5000 + "];" + WRITE)
    assert_one_error(done, "s.meteor:2:3:", "integer literal of 5000 digits is too long")
    assert len(done.stderr) < 500  # the excerpt of the line is cut around the caret


def test_a_decimal_literal_beyond_the_float_range_is_a_clear_error(tmp_path):
    done = run_script(tmp_path, "$a = [1e999];" + WRITE)
    assert_one_error(done, "s.meteor:1:7:", "decimal literal 1e999 is out of range")


@pytest.mark.parametrize("statement, column", [
    ("$a = read from 'in\0.json';\n", 16), ("$a = [1];\nwrite $a to 'out\0.json';\n", 13),
    ("$a = [1];\ninclude 'x\0.meteor';\n", 1)])
def test_a_nul_byte_in_a_path_is_a_clear_error(tmp_path, statement, column):
    done = run_script(tmp_path, statement)
    line = statement.count("\n")
    assert_one_error(done, f"s.meteor:{line}:{column}:", "cannot contain a NUL byte")
    assert "\u2400" in done.stderr and "\0" not in done.stderr  # the excerpt shows the NUL visibly


def nested(opening: str, inner: str, closing: str, depth: int) -> str:
    return opening * depth + inner + closing * depth


def unwrap(value):
    """(levels of one-element arrays or {"a": ...} objects around the innermost value, that value), without
    recursion (comparing values 1000 levels deep would exceed this process's recursion limit)."""
    levels = 0
    while (isinstance(value, list) and len(value) == 1) or (isinstance(value, dict) and list(value) == ["a"]):
        value = value[0] if isinstance(value, list) else value["a"]
        levels += 1
    return levels, value


@pytest.mark.parametrize("expression, levels, leaf", [
    ("+".join(["1"] * 1000), 0, 1000),
    (nested("[", "7", "]", 1000), 1000, 7),
    (nested("{a: ", "7", "}", 1000), 1000, 7),
    (nested("(", "7", ")", 1000), 0, 7),
    (nested("-(", "7", ")", 1000), 0, 7),
    (nested("true ? ", "7", " : 0", 1000), 0, 7),
])
def test_expressions_nested_1000_levels_run(tmp_path, expression, levels, leaf):
    done = run_script(tmp_path, f"$a = [{expression}];" + WRITE)
    assert done.returncode == 0, done.stderr[-2000:]
    assert unwrap(output(tmp_path)) == (levels + 1, leaf)


def test_1000_chained_statements_run_on_the_process_executor(tmp_path):
    chain = "\n".join("$a = transform $a into {x: $a.x + 1};" for _ in range(1000))
    done = run_script(tmp_path, f"$a = [{{x: 0}}, {{x: 5}}];\n{chain}" + WRITE, "--executor", "process")
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(r["x"] for r in output(tmp_path)) == [1000, 1005]


@pytest.mark.parametrize("expression", ["+".join(["1"] * (MAX_NESTING + 1)),
                                        nested("[", "1", "]", MAX_NESTING + 1),
                                        nested("{a: ", "1", "}", MAX_NESTING + 1)])
def test_nesting_past_the_limit_is_one_clear_error(tmp_path, expression):
    done = run_script(tmp_path, "$x = [1];\n$a = [" + expression + "];" + WRITE)
    assert_one_error(done, "s.meteor:2:", f"nested more than {MAX_NESTING} levels deep")


def deep_value(depth: int, leaf: str = "1") -> str:
    return nested('{"a":', leaf, "}", depth)


@pytest.mark.parametrize("executor", ["process", "inline"])
def test_data_nested_1000_deep_is_read_grouped_sorted_and_written(tmp_path, executor):
    records = [f'{{"k":{k},"v":{deep_value(1000, str(k % 2))}}}' for k in range(6)]
    (tmp_path / "in.jsonl").write_text("\n".join(records) + "\n")
    script = ("$r = read from 'in.jsonl';\n"
              "$g = group $r by $r.v into {v: $r[0].v, n: count($r), ks: $r[*].k};\n"
              "$a = sort $g on $g.v;" + WRITE)
    done = run_script(tmp_path, script, "--executor", executor)
    assert done.returncode == 0, done.stderr[-2000:]
    result = output(tmp_path)
    assert [(r["n"], sorted(r["ks"])) for r in result] == [(3, [0, 2, 4]), (3, [1, 3, 5])]
    assert [unwrap(r["v"]) for r in result] == [(1000, 0), (1000, 1)]


def test_data_nested_deeper_than_the_reader_allows_names_the_file_and_line(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"k": 1}\n' + deep_value(5000) + "\n")
    done = run_script(tmp_path, "$a = read from 'in.jsonl';" + WRITE)
    assert_one_error(done, "in.jsonl:2:", "depth")
    assert not (tmp_path / "out.json").exists()
