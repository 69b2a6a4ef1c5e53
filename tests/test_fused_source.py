"""Fused source -> filter -> combine stages (sopremo_base.batch_combine, pact_backend.runtime.fused_source):
the batch kernel folds exactly what the combiner folds, both executors (which fuse) answer like the record path
(the same program with the fusion hook switched off, run inline), malformed chunks and failing expressions fall back to the record path with its results and errors,
and the statistics still count every contract's records."""

from __future__ import annotations

import json
import random
import re

import orjson
import pytest

from meteor.api import compile_script, plan_pact, run_plan
from pact_backend import contracts as pact
from sopremo.errors import MeteorError
from pact_backend.io import JsonLines
from sopremo_base.combine import GroupCombiner, Partial
from sopremo_base.keys import key_function


def _rows(n: int, seed: int = 7) -> list[dict]:
    """Lineitem-like rows with the odd cases: missing and null fields, ints among floats, non-string keys."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {"id": i, "k": rng.choice(["A", "N", "R"]), "s": rng.choice(["F", "O"]),
               "d": f"199{rng.randint(2, 8)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
               # x and y are exact binary fractions: their sums agree in any order of addition
               "x": rng.choice([rng.randint(1, 50), rng.randint(1, 200) / 4]), "y": rng.randint(0, 8) / 8,
               "n": rng.choice([1, 1.0, 2, "2", True, None]), "note": "unused " * rng.randint(0, 3)}
        if i % 17 == 0:
            del row["x"]
        if i % 23 == 0:
            row["y"] = None
        rows.append(row)
    return rows


def _write(path, rows, blank_at: int | None = None) -> None:
    lines = [orjson.dumps(r) for r in rows]
    if blank_at is not None:
        lines.insert(blank_at, b"")
    path.write_bytes(b"\n".join(lines) + b"\n")


Q1_LIKE = """
$r = read from 'r.jsonl';
$r = filter $r where $r.d <= '1997-06-30';
$g = group $r by [$r.k, $r.s] into {
  k: $r[0].k, s: $r[0].s, n: count($r), sx: sum($r[*].x), mx: mean($r[*].x), lo: min($r[*].x),
  hi: max($r[*].x), f: first($r[*].d), disc: sum($r[*].x * (1 - $r[*].y)), cy: count($r[*].y)
};
write $g to 'out.json';
"""

SCRIPTS = {
    "q1-like": Q1_LIKE,
    "two filters, numeric key": """
$r = read from 'r.jsonl';
$r = filter $r where $r.d >= '1994-01-01' and $r.d < '1996-04-01';
$r = filter $r where $r.y > 0.02;
$g = group $r by $r.n into {n: $r[0].n, c: count($r), t: sum($r[*].y)};
write $g to 'out.json';
""",
    # counts only (``FusedSource._count``): about one record per group and batch, and two count slots
    "count only, a group per record": """
$r = read from 'r.jsonl';
$r = filter $r where $r.k != 'R';
$g = group $r by $r.id into {id: $r[0].id, k: $r[0].k, c: count($r)};
write $g to 'out.json';
""",
    "two counts, many groups": """
$r = read from 'r.jsonl';
$g = group $r by $r.x into {x: $r[0].x, d: $r[0].d, c: count($r), c2: count($r) + count($r)};
write $g to 'out.json';
""",
    # counting mode (``FusedSource.raw_first``): into reads only the key of $g[0]; a string key, a number key
    "count by a string key": """
$r = read from 'r.jsonl';
$r = filter $r where $r.s == 'F' and not like($r.d, '199[2-4]%%');
$g = group $r by $r.k into {k: $r[0].k, c: count($r), c2: count($r)};
write $g to 'out.json';
""",
    "count by a number key": """
$r = read from 'r.jsonl';
$g = group $r by $r.id into {c: count($r), id: $r[0].id};
write $g to 'out.json';
""",
    "one global group": """
$r = read from 'r.jsonl';
$r = filter $r where $r.k != 'R';
$g = group $r into {c: count($r), t: sum($r[*].x), m: mean($r[*].y)};
write $g to 'out.json';
""",
}


def _program(script: str, tmp_path):
    return plan_pact(compile_script(script, path=str(tmp_path / "s.meteor")), dop=2)


def _contracts(program) -> list:
    seen: dict[int, pact.Contract] = {}

    def walk(c):
        if c.id not in seen:
            seen[c.id] = c
            for i in c.inputs:
                walk(i)
    for sink in program.sinks:
        walk(sink)
    return list(seen.values())


def _fused_source(script: str, tmp_path):
    """The combiner's FusedSource for the script's source and chained selections (None: not fusable)."""
    combiner, head, chain = _combined_chain(_program(script, tmp_path))
    return combiner, combiner.fuse_source(head.input_format, chain), chain


def _combined_chain(program) -> tuple:
    """(combiner, the contract before the chained Maps, their declared selections) of the program's combined
    Reduce."""
    reduce = next(c for c in _contracts(program) if isinstance(c, pact.Reduce) and c.combiner is not None)
    chain, head = [], reduce.inputs[0]
    while isinstance(head, pact.Map):
        chain.insert(0, head.selection)
        head = head.inputs[0]
    return reduce.combiner, head, chain


def _run(script: str, tmp_path, executor: str) -> list:
    run_plan(compile_script(script, path=str(tmp_path / "s.meteor")), executor=executor, parallelism=2,
             quiet=True)
    return sorted(json.loads((tmp_path / "out.json").read_text()), key=lambda r: json.dumps(r, sort_keys=True))


def _record_path(script: str, tmp_path) -> list:
    """The oracle: the script's answer on the record path (inline, every combiner refusing to fuse)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GroupCombiner, "fuse_source", lambda self, input_format, selections: None)
        return _run(script, tmp_path, "inline")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_process_executor_answers_like_inline(tmp_path, name, monkeypatch):
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)  # many batches per split
    _write(tmp_path / "r.jsonl", _rows(3000))
    monkeypatch.chdir(tmp_path)
    assert _fused_source(SCRIPTS[name], tmp_path)[1] is not None  # the process run below takes the fused path
    expected = _record_path(SCRIPTS[name], tmp_path)
    assert _run(SCRIPTS[name], tmp_path, "process") == expected
    assert _run(SCRIPTS[name], tmp_path, "inline") == expected


TYPED = """
$r = read from 'r.jsonl';
$r = filter $r where $r.d >= '1993-01-01' and not ($r.q < 3);
$g = group $r by $r.g into {g: $r[0].g, c: count($r), t: sum($r[*].q * (1 + $r[*].g)), m: mean($r[*].q)};
write $g to 'out.json';
"""


@pytest.mark.parametrize("break_at, field, value", [(None, None, None), (1500, "q", None), (1500, "d", "2001-01-01")])
def test_typed_batches_answer_like_inline(tmp_path, monkeypatch, break_at, field, value):
    """Fields that hold only numbers or strings are decoded typed (1 and 1.0 still one group); a later chunk
    that breaks the inferred types (a null, a date the first chunk did not have) is decoded untyped and folded
    by the generic kernel."""
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    rng = random.Random(3)
    rows = [{"q": rng.randint(1, 9), "g": rng.choice([1, 1.0, 2, 2.5]), "d": f"199{rng.randint(2, 8)}-01-01"}
            for _ in range(3000)]  # keys not in name order: typed rows hold them in the data's order
    if break_at is not None:
        rows[break_at][field] = value
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    _, fused, _ = _fused_source(TYPED, tmp_path)
    batches = list(fused.batches(None))
    assert batches[0].types == {} and batches[1].types == {"d": "string", "g": "number", "q": "number"}
    assert batches[0].layout == ("d", "g", "q") and batches[1].layout == ("q", "g", "d")
    assert any(not b.types for b in batches[1:]) == (break_at is not None)
    answer = _run(TYPED, tmp_path, "process")
    assert answer == _record_path(TYPED, tmp_path)
    assert sorted(r["g"] for r in answer) == [1, 2, 2.5]


COUNTED = """
$r = read from 'r.jsonl';
$r = filter $r where $r.d >= '1993-01-01';
$g = group $r by $r.g into {g: $r[0].g, c: count($r)};
write $g to 'out.json';
"""


@pytest.mark.parametrize("break_at, value", [(None, None), (1500, None), (1500, True), (10, "1"), (2990, [1])])
def test_counting_mode_answers_like_the_record_path(tmp_path, monkeypatch, break_at, value):
    """Counting mode (plain counts keyed by the first raw value, in C once the key field is typed) gives the
    record path's groups and first values (1 and 1.0 one group, shown as its first value); a key of another
    type in any chunk (null, true, an array) turns the counts into Partials and folding goes on; "1" is a key
    of its own."""
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    rng = random.Random(5)
    rows = [{"g": rng.choice([1.0, 1, 2, 2.5, 3]), "d": f"199{rng.randint(2, 8)}-01-01"} for _ in range(3000)]
    if break_at is not None:
        rows[break_at]["g"] = value
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    _, fused, _ = _fused_source(COUNTED, tmp_path)
    assert fused.raw_first == "g"
    table: dict = {}
    for batch in fused.batches(None):
        assert fused.fold(batch, table) is not None
    settled = break_at is not None and type(value) not in (str, int, float)
    assert (type(next(iter(table.values()))) is int) != settled  # still counting ("1" is its own key)
    expected = _record_path(COUNTED, tmp_path)
    assert _run(COUNTED, tmp_path, "process") == expected
    assert _run(COUNTED, tmp_path, "inline") == expected
    assert [repr(r["g"]) for r in expected] == [repr(r["g"]) for r in _run(COUNTED, tmp_path, "inline")]


def test_kernel_folds_exactly_what_the_combiner_folds(tmp_path, monkeypatch):
    """Same accumulators to the last bit (same additions in the same order), batch after batch."""
    monkeypatch.setattr(JsonLines, "CHUNK", 4096)
    rows = _rows(2000, seed=11)
    for row in rows:
        row["x"] = random.Random(row["id"]).random() * 1000 if "x" in row else row.get("x")
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    combiner, fused, chain = _fused_source(Q1_LIKE, tmp_path)
    table: dict = {}
    batches = list(fused.batches(None))
    assert len(batches) > 10
    for batch in batches:
        assert fused.fold(batch, table) is not None
    records = [dict(r) for b in batches for r in fused.records(b)]
    passing = [r for r in records if r["d"] <= "1997-06-30"]
    assert {k: (p.first, p.accumulators) for k, p in table.items()} == {
        k: (p.first, p.accumulators) for k, p in _combine_generic(combiner, passing).items()}
    assert set(passing[0]) == {"k", "s", "d", "x", "y"}  # only the fields the script reads were decoded


COUNTING = ["count only, a group per record", "two counts, many groups", "count by a string key",
            "count by a number key"]


@pytest.mark.parametrize("name", COUNTING)
def test_counting_folds_exactly_what_the_combiner_folds(tmp_path, monkeypatch, name):
    """Count-only slots take the counting fold (in counting mode when into reads only the key of the first
    record): the same groups and the same into values as the combiner's own fold."""
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    _write(tmp_path / "r.jsonl", _rows(2500, seed=5))
    monkeypatch.chdir(tmp_path)
    combiner, fused, _ = _fused_source(SCRIPTS[name], tmp_path)
    assert fused.counts == len(combiner.slots)
    assert (fused.raw_first is not None) == name.startswith("count by")
    if name == "count by a string key":  # like() on a text field of known type: the pattern's match in C
        typed = next(b for b in fused.batches(None) if b.types)
        assert "is not None" in fused._kernel(typed).source and "_truthy" not in fused._kernel(typed).source
    table: dict = {}
    batches = list(fused.batches(None))
    for batch in batches:
        assert fused.fold(batch, table) is not None
    fused.settle(table)
    records = [dict(r) for b in batches for r in fused.records(b)]
    condition = {"count only, a group per record": lambda r: r.get("k") != "R",
                 "count by a string key": lambda r: r.get("s") == "F" and not re.fullmatch("199[2-4].*", r["d"])
                 }.get(name, lambda r: True)
    generic = _combine_generic(combiner, [r for r in records if condition(r)])
    assert list(table) == list(generic)
    for k, partial in table.items():
        assert combiner.finish([partial]) == combiner.finish([generic[k]])
        assert repr(combiner.finish([partial])) == repr(combiner.finish([generic[k]]))  # 1 stays 1, 1.0 1.0


def _combine_generic(combiner, records) -> dict:
    """{key: Partial} folded by the combiner's generic (per aggregation) fold, records in order."""
    key = key_function(combiner.key)
    groups: dict = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return {k: Partial(*combiner._fold_generic(group)) for k, group in groups.items()}


def test_a_blank_line_falls_back_to_the_record_path(tmp_path, monkeypatch):
    monkeypatch.setattr(JsonLines, "CHUNK", 2048)
    _write(tmp_path / "r.jsonl", _rows(1500), blank_at=700)
    monkeypatch.chdir(tmp_path)
    assert _run(Q1_LIKE, tmp_path, "process") == _record_path(Q1_LIKE, tmp_path)


def test_an_expression_error_is_the_record_paths_error(tmp_path, monkeypatch):
    rows = _rows(500)
    rows[321]["x"] = "a string"
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    messages = []
    for executor in ("inline", "process"):
        with pytest.raises(MeteorError) as caught:
            _run(Q1_LIKE, tmp_path, executor)
        messages.append(str(caught.value))
    assert "sum() works on numbers, got string 'a string'" in messages[0]
    assert "sum() works on numbers, got string 'a string'" in messages[1]


def test_statistics_count_the_fused_contracts(tmp_path, monkeypatch):
    rows = _rows(1200)
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    stats = run_plan(compile_script(Q1_LIKE, path=str(tmp_path / "s.meteor")), parallelism=2, quiet=True)
    kinds = {c.kind: c for c in stats.contracts if c.kind in ("Source", "Map")}
    assert kinds["Source"].records_out == 1200
    assert kinds["Map"].records_out == sum(r["d"] <= "1997-06-30" for r in rows)


@pytest.mark.parametrize("script", [
    # a Map that is not a selection, and a whole record in a fold: the record path
    "$r = read from 'r.jsonl'; $t = transform $r into {k: $r.k, x: $r.x};"
    "$g = group $t by $t.k into {k: $t[0].k, t: sum($t[*].x)}; write $g to 'out.json';",
    "$r = read from 'r.jsonl'; $g = group $r by $r.k into {k: $r[0].k, a: count($r[*].x), f: first($r)};"
    "write $g to 'out.json';",
])
def test_chains_that_are_not_fusable_keep_the_record_path(tmp_path, monkeypatch, script):
    _write(tmp_path / "r.jsonl", _rows(300))
    monkeypatch.chdir(tmp_path)
    combiner, head, chain = _combined_chain(_program(script, tmp_path))
    assert isinstance(head, pact.Source) and combiner.fuse_source(head.input_format, chain) is None
    assert _run(script, tmp_path, "process") == _record_path(script, tmp_path)


def test_the_fold_transposes_only_up_to_the_last_field_it_reads():
    """A group's rows are transposed lazily: the columns after the last field the fold reads are never built,
    and the fold is that of every row, in order."""
    from sopremo.api import compile_batch_kernel
    from sopremo.expressions.nodes import FieldAccess, Var
    from sopremo.functions import BUILTIN_FUNCTIONS
    from sopremo_base.combine import ELEMENT

    slots = [(BUILTIN_FUNCTIONS["sum"].aggregation, FieldAccess(Var(ELEMENT), "x"))]
    kernel = compile_batch_kernel({"k": 0, "x": 1, "note": 2}, [], None, slots, ELEMENT, {"x": "number"})
    assert "_islice(zip(*_rows), 2)" in kernel.source
    rows = [("a", 0.1, "long unused text"), ("b", 0.2, "more"), ("a", 0.3, "")]
    assert kernel.fold(rows, kernel.initial()) == [0.1 + 0.2 + 0.3]


def test_a_key_of_typed_fields_is_the_raw_value():
    """Fields the decoder typed hold strings or numbers, never booleans, each its own ``hashable``: the kernel
    keys groups by the raw values (1 and 1.0 one group, as ``hashable`` has them) without calling it."""
    from sopremo.api import compile_batch_kernel
    from sopremo.expressions.nodes import ArrayConstruction, FieldAccess, InputRef
    from sopremo.values import hashable

    key = ArrayConstruction((FieldAccess(InputRef(0), "g"), FieldAccess(InputRef(0), "s")))
    typed = compile_batch_kernel({"g": 0, "s": 1}, [], key, [], "e", {"g": "number", "s": "string"})
    untyped = compile_batch_kernel({"g": 0, "s": 1}, [], key, [], "e", {})
    assert "_hashable" not in typed.source and "_hashable" in untyped.source
    rows = [(1, "a"), (1.0, "a"), (2.5, "a"), (1, "b")]
    typed_buckets: dict = {}
    untyped_buckets: dict = {}
    typed.bucketize(rows, typed_buckets)
    untyped.bucketize(rows, untyped_buckets)
    assert typed_buckets == untyped_buckets
    assert typed_buckets[hashable([1, "a"])] == rows[:2] and len(typed_buckets) == 3
