"""What the PACT IR declares about opaque UDFs (pact_backend.contracts, pact_backend.keys, pact_backend.combiners):
keys as values, kept keys, ``sorts_only``, the combiner protocol and its fusion hook, the estimate hook; and that
the optimizer and the runtime read these declarations (VLDB J. 2014, sec. 5.1, 6.3, 7.3)."""

from __future__ import annotations

import pickle

import pytest

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.api import ExecutionEnvironment, field_key, key_of
from pact_backend.executors.inline import InlineExecutor
from pact_backend.optimizer import optimize
from pact_backend.optimizer.estimates import Sized
from pact_backend.physical import Estimate
from test_optimizer import Collect, sink
from test_optimizer import MemoryInput as Rows

ROWS = [{"a": i % 7, "b": i} for i in range(300)]


def source(records=ROWS):
    return pact.Source("s", input_format=Rows(records), hints=pact.Hints(output_bytes=10**7))


def test_keys_are_equal_by_fields_then_description_then_function():
    assert key_of("a") == field_key(["a"]) and key_of(("a", "b")) != key_of(("b", "a"))
    assert pact.Key(lambda r: r["a"], "$0.a") == pact.Key(lambda r: r.get("a"), "$0.a")
    assert pact.Key(lambda r: r["a"], "$0.a") != pact.Key(lambda r: r["a"], "$0.b")
    fn = len
    assert pact.Key(fn) == pact.Key(fn) and pact.Key(fn) != pact.Key(lambda r: len(r))
    assert len({pact.Key(fn), pact.Key(fn), key_of("a"), field_key(["a"])}) == 2
    assert key_of(0)((5, 6)) == 5 and key_of([1, 0])((5, 6)) == (6, 5)
    assert pickle.loads(pickle.dumps(key_of(("a", "b")))) == key_of(("a", "b"))


def test_contracts_store_plain_functions_as_keys_and_combiners():
    reduce = pact.Reduce("r", [source()], key=len, combiner=lambda k, g: g[:1], group_order=(abs, 1))
    assert isinstance(reduce.key, pact.Key) and reduce.key.fn is len
    assert isinstance(reduce.combiner, pact.Combiner) and list(reduce.combiner(1, [1, 2])) == [1]
    assert reduce.combiner.fuse_source(None, []) is None  # a plain function offers no fusion
    assert reduce.group_order == (pact.Key(abs), True) and not reduce.sorts_only
    match = pact.Match("m", [source(), source()], keys=(len, key_of("a")), udf=lambda a, b: [a])
    assert all(isinstance(k, pact.Key) for k in match.keys)
    with pytest.raises(TypeError, match="a key is a Key or a function"):
        pact.Reduce("bad", [source()], key="a")
    with pytest.raises(TypeError, match="a combiner is a Combiner or a function"):
        pact.Reduce("bad", [source()], key=len, combiner=3)


def _second_reduce_ship(first_key, second_key, hints=None):
    first = pact.Reduce("r1", [source()], key=first_key, udf=lambda k, g: [g[0]],
                        hints=hints or pact.Hints(preserves_records=True))
    second = pact.Reduce("r2", [first], key=second_key, udf=lambda k, g: [len(g)])
    physical = optimize(pact.PactPlan([sink(second)]), 4)
    return physical.node(second).ship, physical


def test_equal_descriptions_let_the_optimizer_reuse_a_partitioning():
    ship, _ = _second_reduce_ship(pact.Key(lambda r: r["a"], "$0.a"), pact.Key(lambda r: r["a"], "$0.a"))
    assert ship == [ph.FORWARD]
    ship, _ = _second_reduce_ship(pact.Key(lambda r: r["a"]), pact.Key(lambda r: r["a"]))
    assert ship == [ph.HASH_PARTITION]  # two undescribed functions: the optimizer cannot know they agree


def test_kept_keys_carry_a_partitioning_through_a_record_changing_reduce():
    """A Reduce emitting {"k": key, "n": count} declares that its input key ``$0.a`` reappears as ``$0.k``."""
    first = pact.Reduce("count", [source()], key=pact.Key(lambda r: r["a"], "$0.a"),
                        udf=lambda k, g: [{"k": k, "n": len(g)}], hints=pact.Hints(kept_keys={"$0.a": "$0.k"}))
    second = pact.Reduce("again", [first], key=pact.Key(lambda r: r["k"], "$0.k"), udf=lambda k, g: g)
    physical = optimize(pact.PactPlan([sink(second)]), 4)
    assert physical.node(second).ship == [ph.FORWARD]
    first.hints.kept_keys = {}
    assert optimize(pact.PactPlan([sink(second)]), 4).node(second).ship == [ph.HASH_PARTITION]


def test_only_a_reduce_declaring_sorts_only_is_sorted_on_key_ranges():
    records = [{"a": i} for i in range(5000)]
    order = (pact.Key(lambda r: r["a"]), True)
    for sorts_only, dop in ((True, 4), (False, 1)):
        sort = pact.Reduce("sort", [pact.Source("s", input_format=Rows(records), hints=pact.Hints(
            output_bytes=10**10))], udf=lambda k, g: sorted(g, key=lambda r: -r["a"]), group_order=order,
            sorts_only=sorts_only)
        physical = optimize(pact.PactPlan([sink(sort)]), 4)
        assert physical.node(sort).dop == dop
        assert (ph.RANGE_PARTITION in physical.node(sort).ship) is sorts_only


class Counted(pact.Contract):
    """A contract of another module that estimates itself (as iterations do)."""

    kind = "Counted"

    def derive_estimate(self, inputs):
        return Sized(Estimate(42.0, 4200.0), None, ["declared by the contract"])


def test_a_contract_may_declare_its_own_estimate():
    from pact_backend.optimizer.estimates import estimate
    inputs = [Sized(Estimate(300.0, 3000.0), None, [])]
    own = estimate(Counted("c", [source()]), inputs)
    assert own.estimate.records == 42.0 and own.notes == ["declared by the contract"]
    assert pact.Map("m", [source()], udf=iter).derive_estimate(inputs) is None


class Summing(pact.Combiner):
    """Sums field "b" per key; fuses nothing (the default hook)."""

    def combine(self, key, group):
        return [{"a": key, "b": sum(r["b"] for r in group)}]


def test_a_combiner_subclass_runs_as_the_reduces_combiner():
    env = ExecutionEnvironment()
    data = env.from_collection(ROWS)
    summed = data.group_by("a").reduce_group(lambda k, g: [(k, sum(r["b"] for r in g))], combine=Summing())
    assert sorted(summed.collect()) == sorted((a, sum(r["b"] for r in ROWS if r["a"] == a)) for a in range(7))
    reduce = summed.contract
    assert isinstance(reduce.combiner, Summing)
    assert Summing().fuse_source(None, []) is None
    with pytest.raises(TypeError, match="abstract method combine"):
        pact.Combiner()


def test_the_runtime_hands_the_fusion_hook_the_declared_selections(tmp_path):
    """A stage Source -> selection Map -> combined Reduce asks the combiner's hook (in the worker that runs the
    stage) with the Maps' declared ``selection`` values, in chain order; a hook returning None keeps the record
    path (same results)."""
    asked = tmp_path / "asked.txt"

    class Spy(Summing):
        def fuse_source(self, input_format, selections):
            with open(asked, "a", encoding="utf-8") as out:
                out.write(repr(list(selections)) + "\n")
            return None

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(f'{{"a": {r["a"]}, "b": {r["b"]}}}\n' for r in ROWS))
    env = ExecutionEnvironment("process", parallelism=2)
    kept = env.read_jsonl(str(path)).filter(lambda r: r["b"] % 2 == 0)
    kept.contract.selection = "b is even"
    summed = kept.group_by("a").reduce_group(lambda k, g: [(k, sum(r["b"] for r in g))], combine=Spy())
    assert sorted(summed.collect()) == sorted((a, sum(r["b"] for r in ROWS if r["a"] == a and r["b"] % 2 == 0))
                                              for a in range(7))
    calls = asked.read_text(encoding="utf-8").splitlines()
    assert calls and set(calls) == {"['b is even']"}


def test_inline_runs_keys_and_group_orders_given_as_keys():
    reduce = pact.Reduce("g", [source()], key=key_of("a"), group_order=(key_of("b"), True),
                         udf=lambda k, g: [(k, [r["b"] for r in g][:2])])
    out = sink(reduce)
    InlineExecutor().run(pact.PactPlan([out]))
    assert sorted(out.output_format.records)[0] == (0, [294, 287])


def test_a_join_with_a_reduce_unique_on_its_key_has_the_other_inputs_records():
    """A Match or CoGroup with an input that is a Reduce copying its group key into the field joined on (kept
    keys) meets at most one partner per record: its estimate is the other input's records, not the larger's."""
    from pact_backend.optimizer.estimates import estimate
    few, many = Sized(Estimate(20.0, 200.0), None, []), Sized(Estimate(5000.0, 50000.0), None, [])
    grouped = pact.Reduce("g", [source()], key=pact.Key(lambda r: r["a"], "$0.a"), udf=iter,
                          hints=pact.Hints(kept_keys={"$0.a": "$0.key0"}))
    on_key = (pact.Key(lambda r: r["k"], "$0.k"), pact.Key(lambda r: r["key0"], "$0.key0"))
    for kind in (pact.Match, pact.CoGroup):
        joined = estimate(kind("j", [source(), grouped], keys=on_key, udf=iter), [few, many])
        assert joined.estimate.records == 20.0 and "input 1 has one record per key" in joined.notes[0]
    other_key = (on_key[0], pact.Key(lambda r: r["v"], "$0.v"))
    assert estimate(pact.Match("j", [source(), grouped], keys=other_key, udf=iter), [few, many]).estimate.records \
        == 5000.0
    plain = pact.Reduce("g", [source()], key=pact.Key(lambda r: r["a"], "$0.a"), udf=iter)
    assert estimate(pact.Match("j", [source(), plain], keys=on_key, udf=iter), [few, many]).estimate.records \
        == 5000.0
