"""The original cleansing package's string and number functions (sopremo_cleansing.udfs): values as the
original's StringUDFsTest / NumericUDFsTest, errors that name the function, and generateId's ids unique when
the calling Map runs in several partitions."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("rapidfuzz")

from meteor import api  # noqa: E402
from sopremo.errors import MeteorError  # noqa: E402
from sopremo_cleansing.udfs import (abs_diff, absolute, concat_strings, diff, remove_all_characters,  # noqa: E402
                                    remove_all_strings)


def test_values_as_the_originals_unit_tests():
    assert remove_all_strings("Foobar Corporation", ["Corporation", "Corp", "Co"]) == "Foobar "
    assert abs_diff(-10, 5) == 15 and type(abs_diff(-10, 5)) is int
    assert absolute(-5.0) == 5.0
    assert diff(3, 10) == -7
    assert remove_all_characters("'Jo(h)n' [Jr]", "'()[]") == "John Jr"
    assert concat_strings("Max", " ", "Mustermann", ", ", "Dr.") == "Max Mustermann, Dr."


def test_absent_values():
    assert concat_strings("a", None, "b") == "ab"
    assert remove_all_strings(None, ["x"]) is None
    assert diff(None, 1) is None and abs_diff(1, None) is None


def _run(tmp_path, script: str, **settings) -> list:
    (tmp_path / "s.meteor").write_text("using cleansing;\n" + script)
    api.run_file(tmp_path / "s.meteor", **settings)
    return json.loads((tmp_path / "out.json").read_text())


def test_wrong_type_names_the_function(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MeteorError) as info:
        _run(tmp_path, "$in = [{a: 'x'}];\n$o = transform $in into {d: absDiff($in.a, 1)};\nwrite $o to 'out.json';\n")
    assert "absDiff() needs a number, got string 'x'" in str(info.value)


def test_generate_id_counts_in_input_order_on_one_partition(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _run(tmp_path, "$in = [{n: 'a'}, {n: 'b'}, {n: 'c'}];\n"
                         "$o = transform $in into {n: $in.n, id: generateId('person')};\nwrite $o to 'out.json';\n",
               executor="inline")
    assert [r["id"] for r in out] == ["person0", "person1", "person2"]


def test_generate_id_is_unique_across_partitions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.json").write_text(json.dumps([{"k": i % 37, "v": i} for i in range(2000)]))
    script = ("$in = read from 'in.json';\n"
              "$g = group $in by $in.k into {k: $in[0].k, n: count($in)};\n"
              "$o = transform $g into {k: $g.k, id: generateId('g')};\nwrite $o to 'out.json';\n")
    out = _run(tmp_path, script, executor="process", parallelism=2)
    ids = [r["id"] for r in out]
    assert len(out) == 37 and len(set(ids)) == 37
    assert len({int(i[1:]) >> 32 for i in ids}) == 2, "the transform ran in two partitions, numbered apart"
