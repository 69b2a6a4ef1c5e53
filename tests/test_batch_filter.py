"""Source stages whose leading Maps are selections filter row batches before records exist
(sopremo_base.batch_filter, pact_backend.runtime.filtered_source): the records that pass, their order, the
statistics and the errors are those of the record path, for a join's probe side and a shipped filtered input."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from meteor.api import compile_script, plan_pact, run_plan
from pact_backend import contracts as pact
from pact_backend.io import JsonLines
from sopremo.errors import MeteorError
from sopremo_base.batch_filter import FilteredSource

JOIN = """
$c = read from 'c.jsonl';
$o = read from 'o.jsonl';
$c = filter $c where $c.seg == 'B';
$o = filter $o where $o.d < '1995-03-15' and $o.p * 2 > 3;
$j = join $c, $o where $c.id == $o.cid into { $o.oid, $o.d, $c.name, $o.p };
write $j to 'out.json';
"""


def _write(path, rows, blank_at: int | None = None) -> None:
    lines = [orjson.dumps(r) for r in rows]
    if blank_at is not None:
        lines.insert(blank_at, b"")
    path.write_bytes(b"\n".join(lines) + b"\n")


def _data(tmp_path, n: int = 2000, seed: int = 4, null_at: int | None = None, blank_at: int | None = None):
    rng = random.Random(seed)
    customers = [{"id": i, "seg": rng.choice("ABC"), "name": f"c{i}", "note": "x" * rng.randint(0, 9)}
                 for i in range(200)]
    orders = [{"oid": i, "cid": rng.randint(0, 220), "d": f"199{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{i % 10}",
               "p": rng.choice([1, 2, 2.5, 3])} for i in range(n)]
    if null_at is not None:
        orders[null_at]["p"] = None
    _write(tmp_path / "c.jsonl", customers)
    _write(tmp_path / "o.jsonl", orders, blank_at)
    return customers, orders


def _expected(customers, orders) -> list:
    names = {c["id"]: c["name"] for c in customers if c["seg"] == "B"}
    rows = [{"oid": o["oid"], "d": o["d"], "name": names[o["cid"]], "p": o["p"]} for o in orders
            if o["d"] < "1995-03-15" and o["p"] is not None and o["p"] * 2 > 3 and o["cid"] in names]
    return sorted(rows, key=lambda r: r["oid"])


def _run(script: str, tmp_path, executor: str):
    stats = run_plan(compile_script(script, path=str(tmp_path / "s.meteor")), executor=executor, parallelism=2,
                     quiet=True)
    return sorted(json.loads((tmp_path / "out.json").read_text()), key=lambda r: r["oid"]), stats


def _filtered_sources(script: str, tmp_path) -> list:
    """The filtered source of every source whose first reader is a selection Map."""
    program = plan_pact(compile_script(script, path=str(tmp_path / "s.meteor")), dop=2)
    seen, found = set(), []

    def walk(c):
        if c.id in seen:
            return
        seen.add(c.id)
        for i in c.inputs:
            walk(i)
        if isinstance(c, pact.Map) and c.batch_selection is not None and isinstance(c.inputs[0], pact.Source):
            found.append(c.batch_selection.plan(c.inputs[0].input_format, [c.selection]))
    for sink in program.sinks:
        walk(sink)
    return found


@pytest.mark.parametrize("executor", ["process", "inline"])
@pytest.mark.parametrize("null_at, blank_at", [(None, None), (1200, None), (None, 900)])
def test_filtered_join_inputs_answer_as_python(tmp_path, monkeypatch, executor, null_at, blank_at):
    """Typed chunks, a chunk a null untypes, and a chunk with a blank line (records, filtered by the Maps)."""
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    customers, orders = _data(tmp_path, null_at=null_at, blank_at=blank_at)
    monkeypatch.chdir(tmp_path)
    plans = _filtered_sources(JOIN, tmp_path)
    assert len(plans) == 2 and all(isinstance(p, FilteredSource) for p in plans)
    answer, stats = _run(JOIN, tmp_path, executor)
    assert answer == _expected(customers, orders)
    maps = {c.name: c for c in stats.contracts if c.kind == "Map"}
    sources = {c.name: c for c in stats.contracts if c.kind == "Source"}
    assert sources["$o"].records_out == len(orders)
    assert maps["$o"].records_out == sum(o["d"] < "1995-03-15" and o["p"] is not None and o["p"] * 2 > 3
                                         for o in orders)
    assert maps["$c"].records_out == sum(c["seg"] == "B" for c in customers)


def test_only_the_decoded_fields_make_the_records(tmp_path, monkeypatch):
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    plan = next(p for p in _filtered_sources(JOIN, tmp_path) if "oid" in p.decoder.names)
    batches = list(plan.batches(None))
    assert len(batches) > 3 and any(b.types for b in batches) and any(not b.types for b in batches)
    for batch in batches:
        records, passed = plan.filter(batch)
        expected = [r for r in plan.records(batch) if r["d"] < "1995-03-15" and r["p"] * 2 > 3]
        assert records == expected and passed == [len(expected)]
        assert all(list(r) == sorted(r) for r in records)  # fields in name order, as the record path
    assert set(plan.decoder.names) == {"oid", "cid", "d", "p"}


def test_an_error_in_a_condition_is_the_record_paths_error(tmp_path, monkeypatch):
    _, orders = _data(tmp_path)
    orders[777]["p"] = "text"
    _write(tmp_path / "o.jsonl", orders)
    monkeypatch.chdir(tmp_path)
    for executor in ("inline", "process"):
        with pytest.raises(MeteorError, match="string 'text'"):
            _run(JOIN, tmp_path, executor)
