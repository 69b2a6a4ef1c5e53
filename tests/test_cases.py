"""Golden case runner: every directory under tests/cases/ is a Meteor script with its inputs and expected outputs.

A case holds ``script.meteor``, its input files, and either ``expected/`` (one file per output the script writes,
same relative path) or ``expected_error.txt`` (one message fragment per non-empty line; the ``MeteorError``
raised by the run must contain all of them). ``case.json`` may set ``ordered`` (true, or a list of output names
compared in order), ``tolerance`` (float comparison, default 1e-9) and ``formats`` (output name -> 'json',
'jsonl' or 'csv' when the extension does not tell). See tests/cases/README.md; the suite is the oracle of the
language (docs/language.md, docs/operators.md), so its expectations were computed by hand, never by meteor itself.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from agreement import assert_ran_as_explained

CASES_DIR = Path(__file__).parent / "cases"
CASE_DIRS = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
CONTROL_FILES = ("expected", "expected_error.txt", "case.json")
DEFAULT_TOLERANCE = 1e-9


# ---- reading outputs --------------------------------------------------------------------------------------------


def format_of(name: str, config: dict) -> str:
    """The format of output ``name``: from ``config['formats']``, else by extension (default json)."""
    explicit = config.get("formats", {}).get(name)
    if explicit:
        return explicit
    suffix = Path(name).suffix.lower()
    return {".jsonl": "jsonl", ".csv": "csv"}.get(suffix, "json")


def read_records(path: Path, fmt: str) -> list[Any]:
    """The records of an output file: a JSON array file, JSON Lines, or CSV rows as text lines.

    Raises AssertionError when a JSON file does not hold an array.
    """
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        return [line.rstrip("\r") for line in text.split("\n") if line.strip("\r") != ""]
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    value = json.loads(text)
    assert isinstance(value, list), f"{path.name}: a JSON output must be an array of records, got {value!r}"
    return value


# ---- comparing values -------------------------------------------------------------------------------------------


def same_value(expected: Any, actual: Any, tol: float) -> bool:
    """Deep JSON equality; numbers compare numerically within ``tol`` (1 == 1.0), booleans never equal numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int) and isinstance(actual, int):
        return expected == actual  # ints are unbounded: no float rounding
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=tol, abs_tol=tol)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same_value(e, a, tol) for e, a in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same_value(v, actual[k], tol) for k, v in expected.items())
    return type(expected) is type(actual) and expected == actual


def canonical(value: Any) -> str:
    """Canonical JSON text of ``value`` (sorted keys), for readable failure messages."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def unmatched(expected: list[Any], actual: list[Any], tol: float) -> tuple[list[Any], list[Any]]:
    """Multiset difference: (expected records not produced, produced records not expected)."""
    remaining = list(actual)
    missing = []
    for record in expected:
        hit = next((i for i, cand in enumerate(remaining) if same_value(record, cand, tol)), None)
        if hit is None:
            missing.append(record)
        else:
            remaining.pop(hit)
    return missing, remaining


def assert_same_records(name: str, expected: list[Any], actual: list[Any], ordered: bool, tol: float) -> None:
    """Assert ``actual`` equals ``expected`` as a multiset (or a sequence when ``ordered``), naming the output."""
    if ordered:
        ok = len(expected) == len(actual) and all(same_value(e, a, tol) for e, a in zip(expected, actual))
        assert ok, (f"{name}: records differ (ordered)\nexpected:\n"
                    + "\n".join(map(canonical, expected)) + "\nactual:\n" + "\n".join(map(canonical, actual)))
        return
    missing, extra = unmatched(expected, actual, tol)
    assert not missing and not extra, (
        f"{name}: records differ\nexpected but not produced:\n" + "\n".join(map(canonical, missing))
        + "\nproduced but not expected:\n" + "\n".join(map(canonical, extra)))


# ---- the cases ---------------------------------------------------------------------------------------------------


def load_config(case_dir: Path) -> dict:
    config_file = case_dir / "case.json"
    return json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}


def is_ordered(config: dict, name: str) -> bool:
    ordered = config.get("ordered", False)
    return name in ordered if isinstance(ordered, list) else bool(ordered)


def expected_files(case_dir: Path) -> list[Path]:
    """Paths of the expected outputs, relative to ``expected/`` (an output may sit in a subdirectory)."""
    root = case_dir / "expected"
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def error_fragments(case_dir: Path) -> list[str]:
    lines = (case_dir / "expected_error.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


@pytest.fixture
def case_workdir(request, tmp_path, monkeypatch) -> Path:
    """A copy of the case's script and inputs (not its expectations) in tmp_path, made the current directory."""
    case_dir: Path = request.param
    work = tmp_path / case_dir.name
    shutil.copytree(case_dir, work, ignore=shutil.ignore_patterns(*CONTROL_FILES))
    monkeypatch.chdir(work)
    return work


EXECUTORS = ("inline", "process", "dask")  # every case runs on every executor (DESIGN.md, "Tests")


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("case_workdir", CASE_DIRS, ids=[p.name for p in CASE_DIRS], indirect=True)
def test_case(case_workdir: Path, executor: str, request) -> None:
    """Run the case's script on ``executor`` and compare its outputs (or its error) with the expectations;
    'dask' runs on the session's 2-worker cluster (the ``dask_cluster`` fixture, tests/conftest_dask.py)."""
    from meteor.api import run_file
    from sopremo.errors import MeteorError

    if executor == "dask":
        request.getfixturevalue("dask_cluster")

    case_dir = CASES_DIR / case_workdir.name
    config = load_config(case_dir)
    if (case_dir / "expected_error.txt").exists():
        with pytest.raises(MeteorError) as info:
            run_file("script.meteor", executor=executor)
        message = str(info.value)
        for fragment in error_fragments(case_dir):
            assert fragment in message, f"error message lacks {fragment!r}: {message}"
        return
    stats = run_file("script.meteor", executor=executor)
    if not stats.iterations:  # an `iterate` program runs as several programs (its step plans per superstep)
        assert_ran_as_explained("script.meteor", executor, stats)
    tol = config.get("tolerance", DEFAULT_TOLERANCE)
    for rel in expected_files(case_dir):
        name = rel.as_posix()
        produced = case_workdir / rel
        assert produced.is_file(), f"the script wrote no output {name}"
        fmt = format_of(name, config)
        expected = read_records(case_dir / "expected" / rel, fmt)
        assert_same_records(name, expected, read_records(produced, fmt), is_ordered(config, name), tol)


# ---- the suite's own shape and the comparison rules ---------------------------------------------------------------


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_is_well_formed(case_dir: Path) -> None:
    """A case has a script starting with a // comment and exactly one of expected/ and expected_error.txt."""
    script = (case_dir / "script.meteor").read_text(encoding="utf-8")
    assert script.lstrip().startswith("//"), "a case script starts with a // comment stating its intent"
    has_outputs = (case_dir / "expected").is_dir() and bool(expected_files(case_dir))
    has_error = (case_dir / "expected_error.txt").is_file()
    assert has_outputs != has_error, "a case has either expected/ outputs or expected_error.txt"
    if has_error:
        assert error_fragments(case_dir), "expected_error.txt holds at least one fragment"
    for rel in expected_files(case_dir) if has_outputs else []:
        read_records(case_dir / "expected" / rel, format_of(rel.as_posix(), load_config(case_dir)))


def test_suite_size() -> None:
    """The suite keeps at least 90 cases, at least 12 of them error cases."""
    errors = [d for d in CASE_DIRS if (d / "expected_error.txt").exists()]
    assert len(CASE_DIRS) >= 90 and len(errors) >= 12, (len(CASE_DIRS), len(errors))


def test_numbers_compare_numerically_but_not_with_booleans() -> None:
    assert same_value({"a": [1, 2.5]}, {"a": [1.0, 2.5 + 1e-12]}, DEFAULT_TOLERANCE)
    assert not same_value(1, True, DEFAULT_TOLERANCE)
    assert not same_value(0.5, 0, DEFAULT_TOLERANCE)
    assert not same_value({"a": 1}, {"a": 1, "b": None}, DEFAULT_TOLERANCE)
    assert not same_value("1", 1, DEFAULT_TOLERANCE)
    assert not same_value(12345678901234567891, 12345678901234567890, DEFAULT_TOLERANCE)


def test_multiset_comparison_counts_duplicates() -> None:
    assert unmatched([1, 1, 2], [2, 1, 1], DEFAULT_TOLERANCE) == ([], [])
    assert unmatched([1, 1, 2], [1, 2, 2], DEFAULT_TOLERANCE) == ([1], [2])
    with pytest.raises(AssertionError):
        assert_same_records("out.json", [1, 2], [2, 1], True, DEFAULT_TOLERANCE)
    assert_same_records("out.json", [1, 2], [2, 1], False, DEFAULT_TOLERANCE)


def test_csv_outputs_compare_as_text_rows(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("name,dept\r\nAnn,10\r\n", encoding="utf-8")
    assert read_records(out, format_of("out.csv", {})) == ["name,dept", "Ann,10"]
    assert format_of("out.txt", {"formats": {"out.txt": "jsonl"}}) == "jsonl"
    assert Counter(read_records(out, "csv")) == Counter(["Ann,10", "name,dept"])
