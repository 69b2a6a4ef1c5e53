"""A join's probe side read as row batches (sopremo_base.batch_probe, pact_backend.runtime.probed_source): keys
read from decoded rows, records built only for rows that find a partner. The answers, the statistics and the
errors are those of the record path (the same program with every batch hook refused, run inline), on odd data:
missing and null keys, keys of mixed types, chunks that break the decoder's typing, blank lines, containers,
a build side past the memory budget, a failing condition. Also: conditions that read one input of a join
alone filter it before the join, except on a preserved input."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from meteor.api import compile_script, plan_pact, run_plan
from pact_backend import contracts as pact
from pact_backend.io import JsonLines
from pact_backend.runtime import probed_source
from sopremo.errors import MeteorError
from sopremo_base.batch_filter import RowFilter
from sopremo_base.batch_probe import ProbedSource, RowProbe

FILTERED = """
$o = read from 'o.jsonl';
$l = read from 'l.jsonl';
$j = join $o in $o, $l in $l where $o.ok == $l.ok and $l.d > '1995-03-15' and $l.p * 2 > 3 and $o.pri < 4
  into { $l.id, $l.ok, $o.pri, v: $l.p * 2 };
write $j to 'out.json';
"""

UNFILTERED = """
$o = read from 'o.jsonl';
$l = read from 'l.jsonl';
$j = join $l in $l, $o in $o where $l.ok == $o.ok into { $l.id, $o.pri, $l.d };
write $j to 'out.json';
"""

COMPOSITE = """
$o = read from 'o.jsonl';
$l = read from 'l.jsonl';
$j = join $o in $o, $l in $l where $o.ok == $l.ok and $o.pri == $l.q and $l.d > '1994-01-01'
  into { $l.id, $o.pri };
write $j to 'out.json';
"""

SCRIPTS = {"filtered": FILTERED, "unfiltered": UNFILTERED, "composite key": COMPOSITE}


def _write(path, rows, blank_at: int | None = None) -> None:
    lines = [orjson.dumps(r) for r in rows]
    if blank_at is not None:
        lines.insert(blank_at, b"")
    path.write_bytes(b"\n".join(lines) + b"\n")


def _data(tmp_path, odd: str | None = None, n: int = 3000, seed: int = 5):
    """Orders-like build rows ``o`` and lineitem-like probe rows ``l``; ``odd`` spoils the probe side: a chunk
    whose key turns null / float / boolean / string / array (untyping it), keys missing here and there, or a
    blank line (a chunk of records)."""
    rng = random.Random(seed)
    orders = [{"ok": i, "pri": rng.randint(1, 5), "note": "x" * rng.randint(0, 5)} for i in range(400)]
    orders += [{"ok": None, "pri": 1}, {"ok": [1, 2], "pri": 2}, {"ok": "7", "pri": 3}, {"pri": 1}]
    lines = [{"id": i, "ok": rng.randint(0, 500), "q": rng.randint(1, 5),
              "d": f"199{rng.randint(2, 8)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
              "p": rng.choice([1, 2, 2.5, 3]), "note": "y" * rng.randint(0, 9)} for i in range(n)]
    blank_at = None
    if odd == "blank line":
        blank_at = 1700
    elif odd == "missing keys":
        for row in lines[::37]:
            del row["ok"]
    elif odd is not None:
        value = {"null key": None, "float key": 7.0, "boolean key": True, "string key": "7",
                 "array key": [1, 2]}[odd]
        for row in lines[1500:1510]:
            row["ok"] = value
    _write(tmp_path / "o.jsonl", orders)
    _write(tmp_path / "l.jsonl", lines, blank_at)
    return orders, lines


def _run(script: str, tmp_path, executor: str, memory: str | None = None):
    stats = run_plan(compile_script(script, path=str(tmp_path / "s.meteor")), executor=executor, parallelism=2,
                     memory=memory, quiet=True)
    answer = sorted(json.loads((tmp_path / "out.json").read_text()), key=lambda r: json.dumps(r, sort_keys=True))
    return answer, stats


def _record_path(script: str, tmp_path, memory: str | None = None):
    """The oracle: the script on the record path (inline, every batch hook refusing)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RowProbe, "plan", lambda self, input_format, selections, side: None)
        patch.setattr(RowFilter, "plan", lambda self, input_format, selections: None)
        return _run(script, tmp_path, "inline", memory)


def _counts(stats) -> dict[str, int]:
    return {f"{c.kind} {c.name}": c.records_out for c in stats.contracts}


@pytest.mark.parametrize("odd", [None, "null key", "float key", "boolean key", "string key", "array key",
                                 "missing keys", "blank line"])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_rows_probe_like_records(tmp_path, monkeypatch, name, odd):
    """Inline and process (both probing with rows) answer like the record path, with the same statistics."""
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)  # many chunks per split: typed ones, untyped ones
    _data(tmp_path, odd)
    monkeypatch.chdir(tmp_path)
    expected, record_stats = _record_path(SCRIPTS[name], tmp_path)
    assert expected  # the join finds partners
    for executor in ("inline", "process"):
        answer, stats = _run(SCRIPTS[name], tmp_path, executor)
        assert answer == expected, executor
        assert _counts(stats) == _counts(record_stats), executor


def test_the_answer_is_the_joins(tmp_path, monkeypatch):
    """The record path itself, checked by plain Python (null keys meet null keys, 7.0 meets 7, "7" meets "7",
    a missing key meets nothing, as ``hashable`` keys do)."""
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)
    orders, lines = _data(tmp_path, "float key")
    monkeypatch.chdir(tmp_path)
    answer, _ = _run(UNFILTERED, tmp_path, "inline")
    expected = [{"id": row["id"], "pri": order["pri"], "d": row["d"]} for row in lines for order in orders
                if "ok" in row and "ok" in order and row["ok"] == order["ok"]
                and type(row["ok"]) is not bool and type(order["ok"]) is not bool]
    assert answer == sorted(expected, key=lambda r: json.dumps(r, sort_keys=True))


def test_records_are_built_for_partners_only(tmp_path, monkeypatch):
    """The probe reads keys from rows: a record is made for each probe row with a partner, no other."""
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)
    orders, lines = _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    built = []
    records_of = ProbedSource.records_of
    monkeypatch.setattr(ProbedSource, "records_of",
                        lambda self, rows, batch: built.extend(rows) or records_of(self, rows, batch))
    answer, _ = _run(UNFILTERED, tmp_path, "inline")
    keys = {o["ok"] for o in orders if type(o.get("ok")) is int}
    assert len(built) == sum(row["ok"] in keys for row in lines) == len(answer)


def test_a_build_side_past_the_budget_probes_with_records(tmp_path, monkeypatch):
    """Past the memory budget the grace hash join takes the probe side as records: same answer, spilled."""
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)
    _data(tmp_path, "null key")
    monkeypatch.chdir(tmp_path)
    expected, _ = _record_path(FILTERED, tmp_path)
    spilled = []
    grace = probed_source.grace_hash_join
    monkeypatch.setattr(probed_source, "grace_hash_join", lambda *args: spilled.append(1) or grace(*args))
    for executor in ("inline", "process"):
        answer, _ = _run(FILTERED, tmp_path, executor, memory="16KB")
        assert answer == expected, executor
    assert spilled  # the inline run took the grace hash join


def test_an_error_in_a_condition_is_the_record_paths_error(tmp_path, monkeypatch):
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)
    _, lines = _data(tmp_path)
    lines[1234].update(p="text", d="1997-01-01")
    _write(tmp_path / "l.jsonl", lines)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MeteorError) as record_error:
        _record_path(FILTERED, tmp_path)
    assert "string 'text'" in str(record_error.value)
    for executor in ("inline", "process"):
        with pytest.raises(MeteorError) as error:
            _run(FILTERED, tmp_path, executor)
        assert str(error.value) == str(record_error.value), executor


def test_the_probe_hook_plans_for_raw_records_on_key_fields_only(tmp_path, monkeypatch):
    """A join step over raw records declares the hook for both inputs; an input of join tuples (a later step
    of a chain) or a key that is no top-level field gets none."""
    _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    script = FILTERED.replace("$o.ok == $l.ok", "$o.ok == $l.ok + 0")
    for text, planned in ((FILTERED, {0: True, 1: True}), (script, {0: True, 1: False})):
        program = plan_pact(compile_script(text, path=str(tmp_path / "s.meteor")), dop=2)
        (match,) = [c for c in program.contracts() if isinstance(c, pact.Match)]
        for side in (0, 1):
            head = match.inputs[side]
            selections = []
            while isinstance(head, pact.Map):
                selections.insert(0, head.selection)
                head = head.inputs[0]
            plan = match.batch_probe.plan(head.input_format, selections, side)
            assert (plan is not None) == planned[side], (text, side)


def test_conditions_on_one_input_filter_it_before_the_join(tmp_path, monkeypatch):
    """Each input read alone by conditions gets a selection Map below the Match; a preserved input keeps its
    condition in the join (it decides whether its records join, not whether they are kept)."""
    orders, lines = _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    program = plan_pact(compile_script(FILTERED, path=str(tmp_path / "s.meteor")), dop=2)
    (match,) = [c for c in program.contracts() if isinstance(c, pact.Match)]
    assert all(isinstance(i, pact.Map) and i.selection is not None for i in match.inputs)
    outer = """
$o = read from 'o.jsonl';
$l = read from 'l.jsonl';
$j = join $o in $o, $l in $l preserve $o where $o.ok == $l.ok and $o.pri < 2 and $l.d > '1998-01-01'
  into { $o.ok, $l.id };
write $j to 'out.json';
"""
    answer, _ = _run(outer, tmp_path, "inline")
    late = [row for row in lines if row["d"] > "1998-01-01"]
    expected = []
    for order in orders:
        partners = [row for row in late if order["pri"] < 2 and "ok" in order and row["ok"] == order["ok"]]
        expected += [{"ok": order.get("ok"), "id": row["id"]} for row in partners] or \
            [{"ok": order["ok"]} if "ok" in order else {}]
    assert answer == sorted(expected, key=lambda r: json.dumps(r, sort_keys=True))


def test_the_inline_executor_chains_the_match(tmp_path, monkeypatch):
    """At DOP 1 both inputs of a Match are forwarded: the Match runs chained in its probe input's stage, the
    build side a side input (as a broadcast one at a higher DOP), and the run reports what explain planned."""
    _data(tmp_path)
    monkeypatch.chdir(tmp_path)
    _, stats = _run(FILTERED, tmp_path, "inline")
    (match,) = [c for c in stats.contracts if c.kind == "Match"]
    ran = stats.executed[match.id]
    assert ran["chained"] and ran["ship"] == ["forward", "forward"] and ran["local"].startswith("hybrid-hash")
