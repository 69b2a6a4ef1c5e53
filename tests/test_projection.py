"""Projection pushdown: the fields each source is read through, projected decoding that keeps missing fields
missing, CSV byte-range splits, and identical answers with the projection on (optimizer) and off."""

from __future__ import annotations

import json

import orjson
import pytest

from meteor.api import compile_script, plan_pact
from pact_backend.executors.inline import InlineExecutor
from sopremo.errors import DataError
from sopremo.io import CsvFormat, JsonLinesFormat, Source
from pact_backend.io.projected import ChunkDecoder, ChunkFallback
from sopremo.projection import source_fields
from sopremo.rewrite import rewrite

LINES = [{"a": 1, "b": "x", "c": [1, {"d": 2}]}, {"b": None}, {"a": 2.5, "c": {"e": True}, "z": "unused"},
         [1, 2], 7, {"a": 123456789012345678901234567890}, {}]


def _fields_by_path(script: str, tmp_path) -> dict[str, frozenset | None]:
    plan = rewrite(compile_script(script, path=str(tmp_path / "s.meteor")))
    found = source_fields(plan)
    return {op.path.rsplit("/", 1)[-1]: found[id(op)] for op in plan.operators() if isinstance(op, Source)}


@pytest.mark.parametrize("script, expected", [
    ("$r = read from 'r.jsonl'; $f = filter $r where $r.a > 1; $t = transform $f into {x: $f.b};"
     "write $t to 'o.json';", {"r.jsonl": frozenset({"a", "b"})}),
    ("$r = read from 'r.jsonl'; $f = filter $r where $r.a > 1; write $f to 'o.json';", {"r.jsonl": None}),
    ("$r = read from 'r.jsonl'; $g = group $r by $r.k into {k: $r[0].k, s: sum($r[*].v), n: count($r)};"
     "write $g to 'o.json';", {"r.jsonl": frozenset({"k", "v"})}),
    ("$r = read from 'r.jsonl'; $g = group $r by $r.k into {k: $r[0].k, all: $r};"
     "write $g to 'o.json';", {"r.jsonl": None}),
    ("$r = read from 'r.jsonl'; $s = read from 's.jsonl';"
     "$j = join $r, $s where $r.k == $s.k into {x: $r.x, y: $s.y}; write $j to 'o.json';",
     {"r.jsonl": frozenset({"k", "x"}), "s.jsonl": frozenset({"k", "y"})}),
    ("$r = read from 'r.jsonl'; $s = read from 's.jsonl';"
     "$j = join $r, $s where $r.k == $s.k into {$r.*, y: $s.y}; write $j to 'o.json';",
     {"r.jsonl": None, "s.jsonl": frozenset({"k", "y"})}),
    ("$r = read from 'r.jsonl'; $s = read from 's.jsonl';"  # a semi join passes $r's records through
     "$j = join $r, $s where $r.k in $s.k into $r; $t = transform $j into {x: $j.x}; write $t to 'o.json';",
     {"r.jsonl": frozenset({"k", "x"}), "s.jsonl": frozenset({"k"})}),
    ("$r = read from 'r.jsonl'; $s = read from 's.jsonl';"
     "$j = join $r, $s where $r.k not in $s.k into $r; write $j to 'o.json';",
     {"r.jsonl": None, "s.jsonl": frozenset({"k"})}),
    ("$r = read from 'r.jsonl'; $s = read from 's.jsonl';"  # an inner join into one input's record
     "$j = join $r, $s where $r.k == $s.k into $s; $t = transform $j into {y: $j.y}; write $t to 'o.json';",
     {"r.jsonl": frozenset({"k"}), "s.jsonl": frozenset({"k", "y"})}),
    ("$r = read from 'r.jsonl'; $t = transform $r into $r; $u = transform $t into {a: $t.a}; write $u to 'o.json';",
     {"r.jsonl": frozenset({"a"})}),
])
def test_source_fields_follow_every_reader(tmp_path, script, expected):
    assert _fields_by_path(script, tmp_path) == expected


def test_projected_chunks_keep_missing_fields_missing():
    data = b"".join(orjson.dumps(r) + b"\n" for r in LINES[:3])
    assert ChunkDecoder(frozenset({"a", "c"})).decode(data) == [
        {"a": 1, "c": [1, {"d": 2}]}, {}, {"a": 2.5, "c": {"e": True}}]
    assert ChunkDecoder().decode(data) == LINES[:3]


@pytest.mark.parametrize("line", [b"[1, 2]\n", b"\n", b'{"a": 1} 2\n', b'{"a": 1e999}\n'])
def test_chunks_the_fast_path_might_misread_fall_back(line):
    with pytest.raises(ChunkFallback):
        ChunkDecoder(frozenset({"a"})).decode(b'{"a": 1}\n' + line)


def test_whole_chunks_leave_lines_that_may_nest_too_deep_to_the_slow_path(tmp_path):
    """msgspec would read any depth the interpreter allows; the readers' rule is orjson's 1024 levels."""
    deep = b'{"a": ' * 1025 + b"1" + b"}" * 1025
    with pytest.raises(ChunkFallback):
        ChunkDecoder().decode(b'{"a": 1}\n' + deep + b"\n")
    wide = b"[" + b",".join([b"{}"] * 2000) + b"]"  # many brackets, two levels deep: read as usual
    path = tmp_path / "d.jsonl"
    path.write_bytes(wide + b"\n" + deep + b"\n")
    records = JsonLinesFormat().input_format(str(path)).read()
    assert next(records) == [{}] * 2000
    with pytest.raises(DataError, match="depth") as info:
        next(records)
    assert info.value.line == 2


@pytest.mark.parametrize("chunk", [8, 1 << 20])
def test_projected_jsonl_reads_equal_projected_full_reads(tmp_path, monkeypatch, chunk):
    path = tmp_path / "r.jsonl"
    lines = [json.dumps(r).encode() for r in LINES]
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n\n")
    fmt = JsonLinesFormat().input_format(str(path))
    monkeypatch.setattr(type(fmt), "CHUNK", chunk)
    full = list(fmt.read())
    assert full == [json.loads(line) for line in lines]  # the long integer stays exact
    projected = fmt.project(frozenset({"a", "z"}))
    expected = [{k: v for k, v in r.items() if k in ("a", "z")} if isinstance(r, dict) else r for r in full]
    assert list(projected.read()) == expected
    assert [r for part in projected.splits(3) for r in projected.read_split(part)] == expected
    path.write_bytes(b'{"a": 1}\n' * 20 + b'{"a": \n')
    with pytest.raises(DataError) as info:
        list(projected.read())
    assert info.value.line == 21


@pytest.mark.parametrize("text, parts", [
    ("k,v,w\n" + "".join(f"{i},{i * 2},t{i}\n" for i in range(300)), 5),       # no quotes: split
    ('k,v,w\n1,"two\nlines",x\n' + "".join(f"{i},{i},y\n" for i in range(300)), 1),  # quoted newline: one split
])
def test_csv_splits_cover_every_row_once(tmp_path, text, parts):
    (tmp_path / "c.csv").write_text(text)
    fmt = CsvFormat().input_format(str(tmp_path / "c.csv"))
    whole = list(fmt.read())
    splits = fmt.splits(5)
    assert len(splits) == parts
    assert [r for part in splits for r in fmt.read_split(part)] == whole
    projected = fmt.project(frozenset({"v"}))
    assert [r for part in splits for r in projected.read_split(part)] == [{"v": r["v"]} for r in whole]


def test_csv_split_errors_name_the_file_line(tmp_path):
    (tmp_path / "c.csv").write_text("k,v\n" + "1,2\n" * 200 + "1,2,3\n" + "1,2\n" * 50)
    fmt = CsvFormat().input_format(str(tmp_path / "c.csv"))
    with pytest.raises(DataError) as info:
        [r for part in fmt.splits(4) for r in fmt.read_split(part)]
    assert info.value.line == 202


def test_projection_gives_the_same_answer_as_whole_records(tmp_path, monkeypatch):
    rows = [{"k": i % 4, "v": i, "pad": "x" * i, **({"w": i} if i % 3 else {})} for i in range(60)]
    (tmp_path / "r.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    monkeypatch.chdir(tmp_path)
    script = ("$r = read from 'r.jsonl'; $f = filter $r where $r.v > 3;"
              "$g = group $f by $f.k into {k: $f[0].k, s: sum($f[*].v), w: count($f[*].w), m: max($f[*].w)};"
              "$s = sort $g on $g.k; write $s to 'o.json';")
    answers = []
    for optimize in (True, False):
        plan = compile_script(script, path=str(tmp_path / "s.meteor"))
        InlineExecutor().run(plan_pact(plan, optimize=optimize))
        answers.append(orjson.loads((tmp_path / "o.json").read_bytes()))
    assert answers[0] == answers[1] and len(answers[0]) == 4


def test_row_decoder_types_fields_and_narrows_when_a_chunk_breaks_them():
    from pact_backend.io.projected import RowDecoder
    decoder = RowDecoder(frozenset({"k", "n", "d"}), absent=object())
    chunk = b"".join(orjson.dumps({"n": i, "k": "ab"[i % 2], "d": f"x{i}"}) + b"\n" for i in range(100))
    assert decoder.decode(chunk).types == {}  # the first chunk is decoded untyped and tells the types
    typed = decoder.decode(chunk)
    assert typed.types == {"d": "string", "k": "string", "n": "number"}
    assert typed.layout == ("n", "k", "d")  # the typed rows hold the fields in the data's key order
    assert typed[0][1] is typed[2][1]  # k decodes as a Literal: one str object per value
    first = next(decoder.records(typed))  # a record holds its fields in name order, whatever the layout
    assert first == {"d": "x0", "k": "a", "n": 0} and list(first) == ["d", "k", "n"]
    new_value = decoder.decode(b'{"n": 1, "k": "c", "d": "x"}\n')  # "c" is no known k: decoded untyped once
    assert new_value.types == {} and list(decoder.records(new_value)) == [{"n": 1, "k": "c", "d": "x"}]
    assert decoder.decode(b'{"n": 1, "k": "c", "d": "x"}\n').types["k"] == "string"  # and known from then on
    broken = decoder.decode(b'{"n": null, "k": "a", "d": "x"}\n')
    assert broken.types == {} and decoder.decode(b'{"n": null, "k": "a", "d": "x"}\n').types == {
        "d": "string", "k": "string"}  # n lost its type, the others keep theirs
