"""Source -> filter* -> split array -> combine fused over batches (sopremo_base.batch_explode): word count and its
kin answer as plain Python computes them, chunk after chunk (counting mode, mixed element types that leave it,
projected elements folded by the combiner), and a value that is no array raises the record path's error."""

from __future__ import annotations

import json
import random
from collections import Counter

import orjson
import pytest

from meteor.api import compile_script, plan_pact, run_plan
from pact_backend import contracts as pact
from pact_backend.io import JsonLines
from sopremo.errors import MeteorError
from sopremo_base.batch_explode import ExpandingSource
from sopremo_base.combine import GroupCombiner, Partial

WORDS = "the a cat dog ran saw and away big small red blue one two three four five".split()

WORD_COUNT = """
$articles = read from 'r.jsonl';
$words = split array $a in $articles on split(lower_case($a.text));
$counts = group $w in $words by $w into { word: $w[0], count: count($w) };
write $counts to 'out.json';
"""


def _write(path, rows) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _articles(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 30))]
        words = [w.upper() if rng.random() < 0.1 else w for w in words]
        rows.append({"id": i, "text": (" " * rng.randint(1, 3)).join(words) + ("\t" if i % 7 == 0 else "")})
    return rows


def _run(script: str, tmp_path, executor: str = "process", optimize: bool = True) -> list:
    run_plan(compile_script(script, path=str(tmp_path / "s.meteor")), optimize=optimize, executor=executor,
             parallelism=2, quiet=True)
    return sorted(json.loads((tmp_path / "out.json").read_text()), key=lambda r: json.dumps(r, sort_keys=True))


def _fused(script: str, tmp_path):
    """The combiner's fused source for the script's source stage (None: not fusable)."""
    program = plan_pact(compile_script(script, path=str(tmp_path / "s.meteor")), dop=2)
    (sink,) = program.sinks
    reduce = sink.inputs[0]
    while not (isinstance(reduce, pact.Reduce) and reduce.combiner is not None):
        reduce = reduce.inputs[0]
    facts, head = [], reduce.inputs[0]
    while isinstance(head, pact.Map):
        facts.insert(0, head.fusion_fact)
        head = head.inputs[0]
    return reduce.combiner.fuse_source(head.input_format, facts)


@pytest.mark.parametrize("executor", ["process", "inline"])
def test_word_count_is_a_counter_of_the_words(tmp_path, monkeypatch, executor):
    monkeypatch.setattr(JsonLines, "CHUNK", 1024)  # many chunks: counts carried from chunk to chunk
    rows = _articles(1500)
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    assert isinstance(_fused(WORD_COUNT, tmp_path), ExpandingSource)
    expected = Counter(word for row in rows for word in row["text"].lower().split())
    answer = _run(WORD_COUNT, tmp_path, executor)
    assert {r["word"]: r["count"] for r in answer} == dict(expected)
    assert len(answer) == len(expected)


@pytest.mark.parametrize("also", ["", ", n: count($w[*].word)"])
def test_projected_words_grouped_by_a_field_count_like_python(tmp_path, monkeypatch, also):
    """The word count written with an object per word (``into {word: $a[0]}``, ``by $w.word``): keys per element,
    counted per chunk (or, with a count over a path, folded by the combiner), a group's first record its first
    word object."""
    monkeypatch.setattr(JsonLines, "CHUNK", 1024)
    rows = _articles(800, seed=8)
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    script = WORD_COUNT.replace("on split(lower_case($a.text));", "on split(lower_case($a.text)) into { word: $a[0] };")
    script = script.replace("by $w into { word: $w[0], count: count($w) }",
                            "by $w.word into { word: $w[0].word, count: count($w)" + also + " }")
    fused = _fused(script, tmp_path)
    assert isinstance(fused, ExpandingSource) and fused.counts_only == (also == "")
    assert fused.identity == (also == "")  # counted by the word itself: no object built per word
    expected = Counter(word for row in rows for word in row["text"].lower().split())
    answer = _run(script, tmp_path)
    assert {r["word"]: (r["count"], r.get("n", r["count"])) for r in answer} == {w: (n, n) for w, n in expected.items()}


ELEMENT_ONLY = [
    # (into of the split, group key, into of the group, counted per distinct element without projecting)
    ("{ word: $a[0], one: 1 }", "$w.word", "{ word: $w[0].word, one: $w[0].one, count: count($w) }", True),
    ("{ word: $a[0] }", "length($w.word)", "{ size: length($w[0].word), first: $w[0].word, count: count($w) }",
     True),
    ("{ word: $a[0], at: $a[1] }", "$w.word", "{ word: $w[0].word, at: $w[0].at, count: count($w) }", False),
    ("{ w: { word: $a[0] } }", "$w.w.word", "{ word: $w[0].w.word, count: count($w) }", True),
]


@pytest.mark.parametrize("into, key, group_into, element_only", ELEMENT_ONLY)
def test_keys_through_the_projection_give_the_record_paths_answer(tmp_path, monkeypatch, into, key, group_into,
                                                                  element_only):
    """A group key that reads the projected word object only where the projection put the element is computed
    from the element (once per distinct element and chunk, the object built once per group); a projection
    that reads the index, the array or the record is built per element. Every form answers as the record path
    (fusion refused, and no optimizer) does, first records included."""
    monkeypatch.setattr(JsonLines, "CHUNK", 1024)
    rows = _articles(700, seed=11)
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    script = WORD_COUNT.replace("on split(lower_case($a.text));", f"on split(lower_case($a.text)) into {into};")
    script = script.replace("by $w into { word: $w[0], count: count($w) }", f"by {key} into {group_into}")
    fused = _fused(script, tmp_path)
    assert isinstance(fused, ExpandingSource) and (fused.element_key is not None) == element_only
    answer = _run(script, tmp_path)
    assert answer == _run(script, tmp_path, "inline")
    words = [w for row in rows for w in row["text"].lower().split()]
    assert sum(r["count"] for r in answer) == len(words)
    monkeypatch.setattr(GroupCombiner, "fuse_source", lambda self, input_format, selections: None)
    assert answer == _run(script, tmp_path) == _run(script, tmp_path, "inline", optimize=False)


MIXED = """
$r = read from 'r.jsonl';
$r = filter $r where $r.keep;
$v = split array $x in $r on $x.tags;
$g = group $v by $v into { v: $v[0], n: count($v) };
write $g to 'out.json';
"""


def test_elements_of_several_types_leave_the_counting_mode(tmp_path, monkeypatch):
    """Chunks of strings are counted as plain ints; a chunk mixing ints, floats, booleans and arrays settles
    them into Partials and groups by Meteor's equality (1 == 1.0, true != 1); the answer is plain Python's."""
    monkeypatch.setattr(JsonLines, "CHUNK", 512)
    rng = random.Random(9)
    rows = [{"keep": i % 5 != 0, "tags": [rng.choice(["x", "y", "z"]) for _ in range(rng.randint(0, 6))]}
            for i in range(400)]
    rows += [{"keep": True, "tags": [1, 1.0, True, "x", [1, 2], 2, None]} for _ in range(20)]
    rows += [{"keep": True, "tags": ["y", "w"]} for _ in range(200)]
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)

    def key(value):  # Meteor's grouping equality on these values
        return ("bool", value) if type(value) is bool else json.dumps(value)
    expected: dict = {}
    for row in rows:
        for tag in row["tags"] if row["keep"] else []:
            k = key(1 if tag == 1 and type(tag) is not bool else tag)
            first, n = expected.get(k, (tag, 0))
            expected[k] = (first, n + 1)
    answer = _run(MIXED, tmp_path)
    assert sorted((json.dumps(r["v"]), r["n"]) for r in answer) == sorted(
        (json.dumps(first), n) for first, n in expected.values())


def test_fold_keeps_plain_counts_until_settled(tmp_path, monkeypatch):
    """The fused source's own protocol: string chunks leave ints in the table, a mixed chunk settles them into
    the combiner's Partials first, ``settle`` turns the rest; counts are Counter's."""
    monkeypatch.setattr(JsonLines, "CHUNK", 256)
    rows = [{"keep": True, "tags": ["a", "b", "a"]} for _ in range(40)] + [{"keep": True, "tags": [3, "a"]}]
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    fused = _fused(MIXED, tmp_path)
    batches = list(fused.batches(None))
    assert len(batches) > 2
    table: dict = {}
    assert fused.fold(batches[0], table) is not None
    assert set(map(type, table.values())) == {int}
    for batch in batches[1:]:
        assert fused.fold(batch, table) is not None
    fused.settle(table)
    assert {k: (p.first, p.accumulators) for k, p in table.items()} == {"a": ("a", [81]), "b": ("b", [40]),
                                                                         3: (3, [1])}
    assert all(type(p) is Partial for p in table.values())


PROJECTED = """
$o = read from 'r.jsonl';
$items = split array $x in $o on $x.items into { k: $x[0].k, q: $x[0].q, pos: $x[1], order: $x[3].id };
$g = group $i in $items by $i.k into { k: $i[0].k, n: count($i), q: sum($i[*].q), last: max($i[*].pos) };
write $g to 'out.json';
"""


def test_projected_elements_are_folded_by_the_combiner(tmp_path, monkeypatch):
    monkeypatch.setattr(JsonLines, "CHUNK", 1024)
    rng = random.Random(2)
    rows = [{"id": i, "items": [{"k": rng.choice("pqrs"), "q": rng.randint(1, 9)} for _ in range(rng.randint(0, 5))]}
            for i in range(600)]
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    assert isinstance(_fused(PROJECTED, tmp_path), ExpandingSource)
    expected: dict = {}
    for row in rows:
        for pos, item in enumerate(row["items"]):
            n, q, last = expected.get(item["k"], (0, 0, None))
            expected[item["k"]] = (n + 1, q + item["q"], pos if last is None else max(last, pos))
    answer = _run(PROJECTED, tmp_path)
    assert {r["k"]: (r["n"], r["q"], r["last"]) for r in answer} == expected


def test_a_value_that_is_no_array_raises_the_record_paths_error(tmp_path, monkeypatch):
    rows = _articles(300)
    rows[211]["text"] = 17
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    script = WORD_COUNT.replace("split(lower_case($a.text))", "$a.text")
    for executor in ("inline", "process"):
        with pytest.raises(MeteorError, match="split array: the value of 'on' is not an array"):
            _run(script, tmp_path, executor)


def test_a_filter_after_the_split_keeps_the_record_path(tmp_path, monkeypatch):
    script = WORD_COUNT.replace("$counts = group", "$words = filter $w in $words where $w != 'the';\n$counts = group")
    rows = _articles(200)
    _write(tmp_path / "r.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    assert _fused(script, tmp_path) is None
    expected = Counter(w for row in rows for w in row["text"].lower().split() if w != "the")
    assert {r["word"]: r["count"] for r in _run(script, tmp_path)} == dict(expected)
