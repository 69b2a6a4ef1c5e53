"""pact_backend.quick_dataclass's ``dataclass`` behaves as the standard one: the same classes made both ways are
compared (the standard decorator is the oracle) on construction, defaults, equality, hashing, repr, immutability,
the ``dataclasses`` functions, pickling and subclasses, frozen or not."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, field
from typing import Any

import pytest

from pact_backend.quick_dataclass import dataclass as quick_dataclass


def make(decorate):
    """A small hierarchy of node classes decorated with ``decorate``, as the IR modules write them."""

    @decorate
    class Base:
        """A node; ``span`` is ignored by ``==``."""

        span: Any = field(default=None, compare=False, kw_only=True, repr=False)

    @decorate
    class Leaf(Base):
        value: Any

    @decorate
    class Pair(Base):
        """Two children and a flag."""

        left: Base
        right: Base
        flag: bool = False
        tags: tuple = field(default_factory=tuple)
        note: str = field(default="n", compare=False)
        extra: list = field(default_factory=list, init=False, compare=False, repr=False)

    @decorate
    class Hashed(Base):
        name: str
        payload: Any = field(default=None, hash=False)

        def __hash__(self) -> int:  # explicit: kept
            return 7

    @decorate
    class Checked(Base):
        low: int
        high: int = 10

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low > high")
            object.__setattr__(self, "span", self.span or "set in __post_init__")

    return {"Base": Base, "Leaf": Leaf, "Pair": Pair, "Hashed": Hashed, "Checked": Checked}


STD = make(dataclasses.dataclass(frozen=True))
OURS = make(quick_dataclass(frozen=True))


@pytest.fixture(params=["std", "ours"])
def ns(request):
    return STD if request.param == "std" else OURS


def outcome(thunk):
    """What ``thunk()`` returns, or the type and message of what it raises (the qualified class names of both
    hierarchies are the same)."""
    try:
        return ("value", thunk())
    except Exception as exc:  # noqa: BLE001 - compared between the two decorators
        return ("raised", type(exc).__name__, str(exc))


CALLS = [
    ("Leaf", (1,), {}), ("Leaf", (), {"value": 2, "span": "s"}), ("Leaf", (), {}), ("Leaf", (1, 2), {}),
    ("Leaf", (1,), {"bogus": 1}), ("Pair", (None, None), {}), ("Pair", (1, 2, True, (3,), "x"), {"span": 4}),
    ("Pair", (1,), {}), ("Pair", (1, 2), {"extra": [1]}), ("Hashed", ("a",), {}), ("Checked", (1,), {}),
    ("Checked", (11,), {}), ("Checked", (1, 2), {"span": "given"}), ("Base", (), {"span": 1}), ("Base", (1,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", CALLS)
def test_construction_and_repr_match_the_standard_decorator(name, args, kwargs):
    def build(classes):
        return lambda: repr(classes[name](*args, **kwargs))

    assert outcome(build(OURS)) == outcome(build(STD))


def test_equality_and_hashing_match_the_standard_decorator():
    def facts(ns):
        Leaf, Pair, Hashed = ns["Leaf"], ns["Pair"], ns["Hashed"]
        a, b = Pair(Leaf(1), Leaf(2), note="x", span=1), Pair(Leaf(1), Leaf(2), note="y", span=2)
        nan = Leaf(float("nan"))
        return [a == b, hash(a) == hash(b), a != Pair(Leaf(1), Leaf(3)), Leaf(1) == 1, Leaf(1).__eq__(1),
                nan == nan, Leaf(nan.value) == nan, hash(Hashed("a", 1)), Hashed("a", 1) == Hashed("a", 2),
                {Leaf(1), Leaf(1), Leaf(2)} == {Leaf(1), Leaf(2)}, ns["Base"]() == ns["Base"](span=3)]

    assert facts(OURS) == facts(STD)


def test_instances_are_frozen_like_the_standard_decorator_s(ns):
    leaf = ns["Leaf"](1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'value'"):
        leaf.value = 2
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'other'"):
        leaf.other = 2
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'value'"):
        del leaf.value
    assert leaf.value == 1
    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):
        @quick_dataclass(frozen=True)
        class Bad:
            x: int

            def __setattr__(self, name, value):
                pass


def test_a_plain_subclass_may_set_its_own_attributes_as_with_the_standard_decorator(ns):
    class Plain(ns["Leaf"]):
        pass

    plain = Plain(1)
    plain.cache = 3  # not a field, not the dataclass itself: allowed
    assert plain.cache == 3 and plain == Plain(1) and plain != ns["Leaf"](1)
    with pytest.raises(FrozenInstanceError):
        plain.value = 2


def test_the_dataclasses_functions_see_the_same_fields():
    for name in OURS:
        ours, std = OURS[name], STD[name]
        assert [(f.name, f.init, f.compare, f.repr, f.kw_only) for f in dataclasses.fields(ours)] == \
               [(f.name, f.init, f.compare, f.repr, f.kw_only) for f in dataclasses.fields(std)]
        assert ours.__match_args__ == std.__match_args__ and dataclasses.is_dataclass(ours)
    pair = OURS["Pair"](OURS["Leaf"](1), OURS["Leaf"](2), span=5)
    moved = dataclasses.replace(pair, flag=True)
    assert moved.flag and moved.left == pair.left and moved.span == 5
    assert dataclasses.asdict(pair)["left"] == {"span": None, "value": 1}
    assert str(inspect.signature(OURS["Pair"](1, 2).__init__)) == \
           str(inspect.signature(STD["Pair"](1, 2).__init__))  # compiled at the first instance
    Pair = OURS["Pair"]
    match pair:
        case Pair(left, right):
            assert (left.value, right.value) == (1, 2)
        case _:
            pytest.fail("no match by __match_args__")


@quick_dataclass(frozen=True)
class Picklable:
    """A module-level class (pickle finds classes by name)."""

    left: Any
    right: Any = None
    span: Any = field(default=None, compare=False, kw_only=True)


def test_copies_and_pickles_are_equal_and_still_frozen():
    pair = Picklable(Picklable(1), (2,), span=3)
    for twin in (copy.copy(pair), copy.deepcopy(pair), pickle.loads(pickle.dumps(pair))):
        assert twin == pair and hash(twin) == hash(pair) and repr(twin) == repr(pair)
        with pytest.raises(FrozenInstanceError):
            twin.right = True
        assert twin.span == 3


def test_init_is_compiled_once_on_first_use_and_defaults_are_not_shared():
    @quick_dataclass(frozen=True)
    class Lazy:
        items: list = field(default_factory=list)

    stub = Lazy.__dict__["__init__"]
    first, second = Lazy(), Lazy()
    assert Lazy.__dict__["__init__"] is not stub and Lazy.__init__.__qualname__.endswith("Lazy.__init__")
    assert first.items == second.items == [] and first.items is not second.items


def test_field_order_errors_are_raised_when_the_class_is_made():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @quick_dataclass(frozen=True)
        class Bad:
            a: int = 1
            b: int
    with pytest.raises(ValueError, match="mutable default"):
        @quick_dataclass(frozen=True)
        class Mutable:
            a: list = []  # noqa: RUF012 - the error is the point


def make_mutable(decorate, **options):
    """Mutable classes as the PACT contracts write them (``eq=False, repr=False``) and a compared one."""

    @decorate(eq=False, repr=False, **options)
    class Contract:
        name: str
        inputs: list = field(default_factory=list)
        hint: Any = None

    @decorate(eq=False, repr=False, **options)
    class Map(Contract):
        udf: Any = None

        def __repr__(self) -> str:
            return f"Map({self.name})"

    @decorate(**options)
    class Stats:
        records: int = 0
        seconds: float = 0.0

    return Contract, Map, Stats


def test_mutable_classes_match_the_standard_decorator():
    def facts(decorate):
        Contract, Map, Stats = make_mutable(decorate)
        first, second = Map("m", udf=len), Map("m", udf=len)
        first.hint = 3
        first.inputs.append(1)
        stats = Stats(1)
        stats.records += 1
        return [repr(first), first == second, first.hint, second.inputs, Contract.__hash__ is object.__hash__,
                Map.__hash__ is object.__hash__, Stats.__hash__, repr(stats), stats == Stats(2), Stats(2) != Stats(3),
                outcome(lambda: Contract()), outcome(lambda: Map("x", [], 1, 2, 3)),
                [f.name for f in dataclasses.fields(Map)]]

    assert facts(quick_dataclass) == facts(dataclasses.dataclass)


def test_mixing_frozen_and_mutable_is_refused_as_by_the_standard_decorator():
    @quick_dataclass(frozen=True)
    class Frozen:
        a: int

    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
        @quick_dataclass
        class Thawed(Frozen):
            b: int = 0


def test_options_and_bases_it_does_not_handle_go_to_the_standard_decorator():
    @quick_dataclass(order=True, frozen=True)
    class Ordered:
        a: int

    assert Ordered(1) < Ordered(2) and Ordered.__dataclass_params__.frozen

    @dataclasses.dataclass(frozen=True)
    class Standard:
        a: int

    @quick_dataclass(frozen=True)
    class Derived(Standard):
        b: int = 0

    assert Derived(1, 2) == Derived(1, 2) and Derived.__dataclass_params__.frozen  # made by dataclasses


def test_a_package_subclasses_an_expression_node_with_the_decorator_of_sopremo_api():
    """A package author's frozen node class over one of ours: made with ``sopremo.api.dataclass`` it works;
    with the standard decorator Python refuses it (the reason the API exports the decorator)."""
    import dataclasses

    from sopremo.api import Constant, dataclass as api_dataclass

    @api_dataclass(frozen=True)
    class Tagged(Constant):
        tag: str = "t"

    node = Tagged(1, tag="x")
    assert (node.value, node.tag) == (1, "x") and node == Tagged(1, tag="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.tag = "y"
    with pytest.raises(TypeError, match="cannot inherit frozen dataclass from a non-frozen one"):
        @dataclasses.dataclass(frozen=True)
        class Standard(Constant):
            tag: str = "t"
