"""Merging a transform into the join or transform producing its records (sopremo.map_merge): it fires where the
result and every error stay those of the plan as written, never elsewhere; merged plans answer like the plan
without rewrites (inline and process executors), and projection pushdown then reads fewer fields (TPC-H Q13's
decorrelated nested count reads only the customer key)."""

from __future__ import annotations

import json

import pytest

from meteor.api import compile_script, run_plan
from pact_backend.io import JsonLines
from sopremo.compilation import compile_plan
from sopremo.errors import MeteorError
from sopremo.expressions.nodes import (Arithmetic, ArrayConstruction, ArrayIndex, Constant, FieldAccess,
                                       FieldAssignment, InputRef, ObjectConstruction, Ternary)
from sopremo.map_merge import cannot_raise, merged_output
from sopremo.rewrite import rewrite
from sopremo.values import MISSING
from sopremo_base.combine import GroupCombiner
from tests.test_cases import assert_same_records

A, B = InputRef(0), InputRef(1)


def _at(k: int) -> ArrayIndex:
    return ArrayIndex(InputRef(0), Constant(k))


def _object(**values) -> ObjectConstruction:
    return ObjectConstruction(tuple(FieldAssignment(name, value) for name, value in values.items()))


PAIR = ArrayConstruction((A, Ternary(B, FieldAccess(B, "value"), Constant(0))))  # grouped_join's pair
DIVIDED = Arithmetic("/", FieldAccess(A, "x"), FieldAccess(B, "y"))  # may raise (division by zero, a string)


def test_the_decorrelated_pair_is_taken_apart():
    outer = _object(k=FieldAccess(_at(0), "k"), n=_at(1))
    assert merged_output(outer, PAIR) == _object(k=FieldAccess(A, "k"), n=PAIR.items[1])


@pytest.mark.parametrize("outer, inner, merged", [
    # out of range, negative index, a field of an object, a field the object lacks
    (_object(z=_at(5)), PAIR, _object(z=Constant(MISSING))),
    (_object(z=_at(-1)), PAIR, _object(z=PAIR.items[1])),
    (_object(a=FieldAccess(A, "n")), _object(n=FieldAccess(A, "k")), _object(a=FieldAccess(A, "k"))),
    (_object(a=FieldAccess(A, "nope")), _object(n=FieldAccess(A, "k")), _object(a=Constant(MISSING))),
    # the whole value read once; a raising part read once, unconditionally
    (ArrayConstruction((A, Constant(1))), _object(q=DIVIDED), ArrayConstruction((_object(q=DIVIDED), Constant(1)))),
    (_object(q=_at(1), k=FieldAccess(_at(0), "k")), ArrayConstruction((A, DIVIDED)),
     _object(q=DIVIDED, k=FieldAccess(A, "k"))),
    # a path read twice is cheap
    (_object(a=_at(0), b=_at(0)), ArrayConstruction((FieldAccess(A, "k"),)),
     _object(a=FieldAccess(A, "k"), b=FieldAccess(A, "k"))),
])
def test_merges_that_keep_results_and_errors(outer, inner, merged):
    assert merged_output(outer, inner) == merged


@pytest.mark.parametrize("outer, inner", [
    (_object(n=Arithmetic("+", _at(1), Constant(1))), PAIR),          # the outer value may raise
    (_object(k=_at(0)), ArrayConstruction((A, DIVIDED))),              # a raising part would be dropped
    (_object(q=Ternary(FieldAccess(_at(0), "f"), _at(1), Constant(0))),
     ArrayConstruction((A, DIVIDED))),                                 # read under a condition
    (_object(q=_at(1), r=_at(1)), ArrayConstruction((A, DIVIDED))),   # read twice
    (_object(p=_at(0), q=_at(1)), ArrayConstruction((DIVIDED, DIVIDED))),  # two errors: which first?
    (_object(a=_at(0), b=_at(0)), ArrayConstruction((_object(k=FieldAccess(A, "k")),))),  # not cheap twice
    (ArrayConstruction((A, A)), DIVIDED),                              # a raising value read twice
])
def test_merges_that_could_change_a_result_or_an_error_are_refused(outer, inner):
    assert merged_output(outer, inner) is None


def test_what_cannot_raise():
    assert cannot_raise(PAIR) and cannot_raise(_object(k=FieldAccess(_at(0), "k")))
    assert not cannot_raise(DIVIDED) and not cannot_raise(ArrayIndex(A, FieldAccess(A, "i")))


# ---- plans ---------------------------------------------------------------------------------------------------

CUSTOMERS = [{"ck": 1, "name": "a", "seg": "x"}, {"ck": 2, "name": "b"}, {"ck": None, "name": "null key"},
             {"name": "no key"}, {"ck": 3, "name": "no orders"}, {"ck": 4.0, "name": "float key"},
             {"ck": "1", "name": "string key"}]
ORDERS = [{"ok": i, "ck": ck, "note": note} for i, (ck, note) in enumerate(
    [(1, "fine"), (1, "special requests"), (2, "fine"), (None, "fine"), (None, "x"), (4, "fine"), (4, "ok"),
     (1.0, "fine"), ("1", "fine"), (7, "orphan")])] + [{"ok": 99, "note": "no customer key"}]

Q13_LIKE = """
$c = read from 'c.jsonl';
$o = read from 'o.jsonl';
$n = transform $c in $c into {ck: $c.ck, n: count(filter $o in $o where $o.ck == $c.ck and not like($o.note, '%%special%%'))};
$d = group $x in $n by $x.n into {n: $x[0].n, customers: count($x)};
write $d to 'out.json';
"""


def _write(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def data(tmp_path, monkeypatch):
    """The tables as JSON Lines in chunks of a few records, so the orders' filter and count run fused."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(JsonLines, "CHUNK", 128)
    _write(tmp_path / "c.jsonl", CUSTOMERS)
    _write(tmp_path / "o.jsonl", ORDERS)
    return tmp_path


def _answer(script: str, data, optimize: bool = True, executor: str = "inline", fuse: bool = True) -> list:
    """The script's out.json; ``fuse`` False: every combiner refuses to fuse (the record path)."""
    with pytest.MonkeyPatch.context() as patch:
        if not fuse:
            patch.setattr(GroupCombiner, "fuse_source", lambda self, input_format, selections: None)
        run_plan(compile_script(script), optimize=optimize, executor=executor, parallelism=2, quiet=True)
    return json.loads((data / "out.json").read_text())


PATHS = [(True, "inline", True), (True, "process", True), (True, "inline", False), (True, "process", False)]


def test_the_nested_count_merges_and_reads_only_the_key(data):
    compilation = compile_plan(compile_script(Q13_LIKE), optimize=True, dop=2)
    verbs = [op.verb for op in compilation.rewritten.operators() if op.verb]
    assert "transform" not in verbs  # merged into the outer join of the decorrelated count
    fields = {op.display_name(): f for op in compilation.rewritten.operators()
              for i, f in compilation.source_fields.items() if id(op) == i}
    assert fields["$c"] == frozenset({"ck"})


@pytest.mark.parametrize("optimize, executor, fuse", PATHS)
def test_merged_plans_answer_like_the_plan_as_written(data, optimize, executor, fuse):
    """Customers without orders (count 0), null and missing keys, keys of other types: same records (null
    matches null; 1 and 1.0 are one key, "1" another)."""
    expected = _answer(Q13_LIKE, data, optimize=False, fuse=False)
    assert_same_records("out.json", expected, _answer(Q13_LIKE, data, optimize, executor, fuse), False, 1e-9)
    assert sorted((r["n"], r["customers"]) for r in expected) == [(0, 2), (1, 2), (2, 3)]


def test_a_failing_part_raises_the_same_error(data):
    """A value of the join's into that fails on one record fails the same way once merged into it: the same
    message, place and records, the records shown with the fields the plan reads (projection pushdown, as in
    every optimized run)."""
    script = """
$c = read from 'c.jsonl';
$o = read from 'o.jsonl';
$j = join $c, $o where $c.ck == $o.ck into [$c, 10 / $o.ok];
$t = transform $j into {name: $j[0].name, q: $j[1]};
write $t to 'out.json';
"""
    assert "transform" not in [op.verb for op in rewrite(compile_script(script)).operators()]
    messages = []
    for optimize, executor in [(False, "inline"), (True, "inline"), (True, "process")]:
        with pytest.raises(MeteorError) as caught:
            _answer(script, data, optimize, executor)
        messages.append(str(caught.value))
    assert "4:52: division by zero" in messages[0]
    assert _but_records(messages[1]) == _but_records(messages[0]) and messages[2] == messages[1]
    assert 'on the records [{"ck":1,"name":"a"},{"ck":1,"ok":0}]' in messages[1]


def _but_records(message: str) -> list[str]:
    """The lines of an error message but the one showing the records it failed on."""
    return [line for line in message.splitlines() if "on the record" not in line]


def test_a_failing_nested_filter_raises_the_same_error(data):
    """The nested count's filter fails on one order (like() of a number) on every path alike (fused or not,
    inline or process; the record shown with the fields an optimized plan reads)."""
    _write(data / "o.jsonl", [*ORDERS[:7], {"ok": 50, "ck": 2, "note": 17}, *ORDERS[7:]])
    messages = []
    for optimize, executor, fuse in [(False, "inline", False), *PATHS]:
        with pytest.raises(MeteorError) as caught:
            _answer(Q13_LIKE, data, optimize, executor, fuse)
        messages.append(str(caught.value))
    assert "like() needs text" in messages[0]
    assert all(message == messages[1] for message in messages[1:]) and _but_records(messages[1]) == _but_records(
        messages[0])
