"""The cleansing package's scalable plans: range-partitioned sorted neighbourhood returns the pairs of one global
window (also across many tiny ranges and for linkage), and fused pair tests accept exactly the generic pairs."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest

pytest.importorskip("rapidfuzz")
import sopremo_cleansing.neighbourhood as neighbourhood  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from meteor import api  # noqa: E402
from sopremo.values import truthy  # noqa: E402
from sopremo_cleansing.detect import pairwise_ids  # noqa: E402
from sopremo_cleansing.fused import pair_test  # noqa: E402
from sopremo_cleansing.pairs import compile_pair_condition  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _persons(n: int, seed: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("make_persons", ROOT / "scripts" / "make_persons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_persons(n, seed=seed)


def _canon(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def _similar(a: dict, b: dict) -> bool:
    return Levenshtein.normalized_similarity(a["lastName"], b["lastName"]) >= 0.7


def _window_pairs(ordered: list, window: int, keep) -> set:
    return {tuple(sorted((a["id"], b["id"]))) for i, a in enumerate(ordered) for b in ordered[i + 1:i + window]
            if keep(a, b) and _similar(a, b)}


def _run(tmp_path: Path, script: str, **data: list) -> tuple[list, object]:
    for name, records in data.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(records))
    (tmp_path / "s.meteor").write_text("using cleansing;\n" + script + "\nwrite $d to 'pairs.json';\n")
    stats = api.run_file(tmp_path / "s.meteor")
    return json.loads((tmp_path / "pairs.json").read_text()), stats


@pytest.mark.parametrize("records_per_range, sample_every", [(15, 2), (2, 1)])
def test_ranges_give_the_pairs_of_one_window(tmp_path, monkeypatch, records_per_range, sample_every):
    monkeypatch.setattr(neighbourhood, "PARTITION_RECORDS", records_per_range)
    monkeypatch.setattr(neighbourhood, "SAMPLE_EVERY", sample_every)
    persons = _persons(200, seed=11)
    pairs, stats = _run(tmp_path, "$persons = read from 'persons.json';\n$d = detect duplicates $p in $persons "
                        "where levenshtein($p.lastName) >= 0.7 sort on $p.zip with window 6;", persons=persons)
    ordered = sorted(persons, key=lambda r: (r["zip"], _canon(r)))
    expected = _window_pairs(ordered, 6, lambda a, b: True)
    assert {tuple(sorted((a["id"], b["id"]))) for a, b in pairs} == expected and len(pairs) == len(expected)
    assert stats.get("$d/pairs/across").records_out > 0  # pairs crossed range borders


@pytest.mark.parametrize("records_per_range", [10, 2])
def test_linkage_windows_over_ranges(tmp_path, monkeypatch, records_per_range):
    monkeypatch.setattr(neighbourhood, "PARTITION_RECORDS", records_per_range)
    persons = _persons(120, seed=4)
    left, right = persons[:60], [dict(r, id=r["id"] + 1000) for r in persons[60:]]
    pairs, stats = _run(tmp_path, "$a = read from 'a.json';\n$b = read from 'b.json';\n$d = link records $x in $a, "
                    "$y in $b where levenshtein($x.lastName, $y.lastName) >= 0.7 sort on {$x.zip : $y.zip} "
                    "with window 5;", a=left, b=right)
    # the original's dual-source window: each left record against the 4 right records before it and the 4 at or
    # after it in zip order (right records of an equal zip count as after)
    ordered = sorted(right, key=lambda r: (r["zip"], _canon(r)))
    expected = set()
    for a in left:
        j = sum(1 for b in ordered if b["zip"] < a["zip"])
        expected |= {(a["id"], b["id"]) for b in ordered[max(0, j - 4):j + 4] if _similar(a, b)}
    assert {(a["id"], b["id"]) for a, b in pairs} == expected and len(pairs) == len(expected)
    assert stats.get("$d/window0/across").records_out > 0  # windows reached into other ranges
    assert all(a["id"] < 1000 <= b["id"] for a, b in pairs)  # the first input's record on the left


CONDITIONS = [
    "average(jaroWinkler($p.firstName), levenshtein($p.lastName), dateSim($p.birthDay)) >= 0.85",
    "average([jaro($p.firstName), levenshtein($p.lastName), dateSim($p.birthDay)], [1, 2, 0.5]) > 0.8",
    "min(levenshtein($p.firstName), hamming($p.lastName)) >= 0.6",
    "max(jaccard($p.firstName), dice($p.lastName), soundex($p.lastName)) >= 1",
    "0.9 <= levenshtein($p.lastName) and dateSim($p.birthDay) > 0.9",
    "average(mongeElkan($p.firstName), numericSim($p.zip)) >= 0.9",
]


def test_fused_tests_accept_exactly_the_generic_pairs():
    persons, functions = _persons(120, seed=5), pairwise_ids()
    for condition in CONDITIONS:
        plan = api.compile_script("using cleansing;\n$persons = [];\n$d = detect duplicates $p in $persons where "
                                  f"{condition};\nwrite $d to 'x.json';\n")
        op = next(o for o in plan.operators() if o.verb == "detect duplicates")
        fused, generic = pair_test(op.condition, functions, False), compile_pair_condition(op.condition, functions)
        assert fused.fused, condition
        features = [fused.features(r, 0) for r in persons]
        accepted = [(a["id"], b["id"]) for (a, fa), (b, fb) in itertools.combinations(zip(persons, features), 2)
                    if fused.test(fa, fb)]
        assert accepted == [(a["id"], b["id"]) for a, b in itertools.combinations(persons, 2)
                            if truthy(generic(a, b))], condition
        assert accepted, condition
