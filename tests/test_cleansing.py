"""The cleansing package: detect duplicates returns exactly the pairs its semantics define on generated persons,
plus similarity values, min/max coexistence with base's aggregations and per-rule scrub counts in RunStats."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest

pytest.importorskip("rapidfuzz")
from rapidfuzz.distance import JaroWinkler, Levenshtein  # noqa: E402

from meteor import api  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONDITION = "average(jaroWinkler($p.firstName), levenshtein($p.lastName)) >= 0.8"


def _make_persons():
    spec = importlib.util.spec_from_file_location("make_persons", ROOT / "scripts" / "make_persons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _condition(a: dict, b: dict) -> bool:
    """CONDITION in plain Python."""
    return (JaroWinkler.similarity(a["firstName"], b["firstName"])
            + Levenshtein.normalized_similarity(a["lastName"], b["lastName"])) / 2 >= 0.8


def _canon(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def _ids(pairs) -> set[tuple[int, int]]:
    return {tuple(sorted((a["id"], b["id"]))) for a, b in pairs}


def _run(tmp_path: Path, records: list, clause: str) -> list:
    (tmp_path / "persons.json").write_text(json.dumps(records))
    script = (f"using cleansing;\n$persons = read from 'persons.json';\n"
              f"$d = detect duplicates $p in $persons where {CONDITION} {clause};\nwrite $d to 'pairs.json';\n")
    (tmp_path / "s.meteor").write_text(script)
    api.run_file(tmp_path / "s.meteor")
    return json.loads((tmp_path / "pairs.json").read_text())


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def persons() -> list[dict]:
    return _make_persons().make_persons(240, seed=3)


def test_naive_is_every_pair(tmp_path, persons):
    pairs = _run(tmp_path, persons, "")
    expected = {tuple(sorted((a["id"], b["id"]))) for a, b in itertools.combinations(persons, 2) if _condition(a, b)}
    assert _ids(pairs) == expected and len(pairs) == len(expected)
    position = {r["id"]: i for i, r in enumerate(persons)}
    assert all(position[a["id"]] < position[b["id"]] for a, b in pairs)  # the earlier record left, as the original


def test_blocking_compares_within_blocks(tmp_path, persons):
    pairs = _run(tmp_path, persons, "partition on $p.zip")
    expected = {tuple(sorted((a["id"], b["id"]))) for a, b in itertools.combinations(persons, 2)
                if a["zip"] == b["zip"] and _condition(a, b)}
    assert _ids(pairs) == expected and len(pairs) == len(expected)


def test_multipass_blocking_keeps_each_pair_once(tmp_path, persons):
    pairs = _run(tmp_path, persons, "partition on [$p.zip, $p.lastName]")
    expected = {tuple(sorted((a["id"], b["id"]))) for a, b in itertools.combinations(persons, 2)
                if (a["zip"] == b["zip"] or a["lastName"] == b["lastName"]) and _condition(a, b)}
    assert _ids(pairs) == expected and len(pairs) == len(expected)


def test_sorted_neighbourhood_window(tmp_path, persons):
    pairs = _run(tmp_path, persons, "sort on $p.lastName with window 5")
    ordered = sorted(persons, key=lambda r: (r["lastName"], _canon(r)))
    expected = {tuple(sorted((a["id"], b["id"]))) for i, a in enumerate(ordered) for b in ordered[i + 1:i + 5]
                if _condition(a, b)}
    assert _ids(pairs) == expected and len(pairs) == len(expected)


def test_recall_against_truth(tmp_path, persons):
    truth = _make_persons().truth_pairs(persons)
    found = _ids(_run(tmp_path, persons, ""))
    assert len(found & truth) / len(truth) > 0.5


def test_min_max_coexist_with_base_aggregations(tmp_path):
    (tmp_path / "s.meteor").write_text(
        "using cleansing;\n$in = [{k: 1, x: 3}, {k: 1, x: 1}];\n"
        "$g = group $r in $in by $r.k into {lo: min($r[*].x), hi: max($r[*].x), two: min(4, 2), arr: max([1, 5])};\n"
        "write $g to 'g.json';\n")
    api.run_file(tmp_path / "s.meteor")
    assert json.loads((tmp_path / "g.json").read_text()) == [{"lo": 1, "hi": 3, "two": 2, "arr": 5}]


def test_scrub_counts_per_rule_in_run_stats(tmp_path):
    (tmp_path / "s.meteor").write_text(
        "using cleansing;\n$in = [{a: 1}, {a: 500}, {a: 'x'}, {b: 2}, {a: '7'}];\n"
        "$c = scrub $in with rules {a: [required, type(int), range(0, 100), notContainedIn([100])]};\n"
        "write $c to 'c.json';\n")
    stats = api.run_file(tmp_path / "s.meteor")
    dropped = {c.name.split("/", 1)[1]: c.records_in - c.records_out for c in stats.contracts if "/a:" in c.name}
    # type(int) coerces '7' and drops 'x'; range(0, 100) chooses the nearest bound for 500 (defaults as the original)
    assert dropped == {"a: required": 1, "a: type('int')": 1, "a: range(0, 100)": 0, "a: notContainedIn([100])": 1}
    assert json.loads((tmp_path / "c.json").read_text()) == [{"a": 1}, {"a": 7}]


def test_soundex_codes():
    from sopremo_cleansing.similarity import soundex_code

    assert [soundex_code(w) for w in ("Robert", "Rupert", "Tymczak", "Pfister", "Ashcraft")] == \
        ["R163", "R163", "T522", "P236", "A261"]
