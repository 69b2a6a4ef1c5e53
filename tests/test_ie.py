"""Unit tests of the ie package's text functions, entity rules, relations and merge (golden cases: tests/cases/ie_*).

Expectations are written by hand from the texts; offsets come from ``str.index`` on the same text.
"""

from __future__ import annotations

import socket

import pytest

from sopremo.errors import OperatorError
from sopremo.operator import PropertyError
from sopremo_ie import ner, ops_entities, ops_text, resources, textproc


def words(text: str, spans) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_resources_load_without_network(monkeypatch) -> None:
    """Every model and list loads with sockets disabled (nothing is downloaded at run time)."""
    def no_network(*args, **kwargs):
        raise AssertionError("the ie package tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for loader in (resources.punkt_tokenizer, resources.perceptron_tagger, resources.brill_lexicon,
                   resources.first_names, resources.last_names, resources.place_names, resources.stopwords,
                   resources.gazetteer):
        loader.cache_clear()
        assert loader() is not None and (not hasattr(loader(), "__len__") or len(loader()) > 0)
    assert "the" in resources.stopwords() and len(resources.stopwords()) == 179
    assert {"John", "Mary"} <= resources.first_names() and "Smith" in resources.last_names()
    assert {"Australia", "Sydney", "West Bank"} <= resources.place_names()


def test_sentences_punkt_keeps_abbreviations() -> None:
    text = "Dr. Brown arrived at 5 p.m. on Friday. She left."
    assert words(text, textproc.sentences(text)) == ["Dr. Brown arrived at 5 p.m. on Friday.", "She left."]
    assert textproc.sentences(text, "morphAdorner") == textproc.sentences(text)


def test_sentences_regex_and_errors() -> None:
    text = "one! two? three"
    assert words(text, textproc.sentences(text, "regex")) == ["one!", "two?", "three"]
    assert words("a|b", textproc.sentences("a|b", "regex", r"\|")) == ["a", "b"]
    with pytest.raises(ValueError, match="unknown sentence algorithm"):
        textproc.sentences(text, "neural")
    with pytest.raises(ValueError, match="invalid regular expression"):
        textproc.sentences(text, "regex", "(")


def test_tokens_split_clitics_and_keep_abbreviations() -> None:
    text = "Mr. O'Brien's dog can't run 3.5 km."
    assert words(text, textproc.tokens(text)) == ["Mr.", "O'Brien", "'s", "dog", "ca", "n't", "run", "3.5", "km",
                                                   "."]


def test_pos_tags_and_chunks() -> None:
    tags = textproc.pos_tags(["The", "dog", "barked", "at", "a", "cat", "."])
    assert tags == ["DT", "NN", "VBD", "IN", "DT", "NN", "."]
    assert textproc.chunks(tags) == [("NP", 0, 2), ("VP", 2, 3), ("PP", 3, 4), ("NP", 4, 6)]
    assert textproc.chunks(tags, "N: {<NN>}") == [("N", 1, 2), ("N", 5, 6)]
    with pytest.raises(ValueError, match="no rule"):
        textproc.chunk_rules("NP <DT>")


def entities(text: str) -> list[tuple[str, str]]:
    spans = [textproc.tokens(text, s, e) for s, e in textproc.sentences(text)]
    return [(text[s:e], kind) for s, e, kind in ner.rule_entities(text, spans)]


def test_rules_type_persons_places_organisations_and_dates() -> None:
    text = ("Foreign Minister Alexander Downer flew to Jakarta on 12 January. Downer met officials of the "
            "United Nations and Hamas in the Gaza Strip.")
    assert entities(text) == [("Alexander Downer", "person"), ("Jakarta", "location"), ("12 January", "date"),
                              ("Downer", "person"), ("United Nations", "organization"),
                              ("Hamas", "organization"), ("Gaza Strip", "location")]


def test_rules_split_titles_and_leading_places() -> None:
    text = "United States President George Bush spoke. UN envoy for Afghanistan Lakhdar Brahimi agreed."
    assert entities(text) == [("United States", "location"), ("George Bush", "person"), ("UN", "organization"),
                              ("Afghanistan", "location"), ("Lakhdar Brahimi", "person")]


def test_rules_leave_sentence_initial_common_words_and_nationalities() -> None:
    assert entities("Police said Australian troops arrived.") == []
    assert entities("Osama bin Laden's network was hit.") == [("Osama bin Laden", "person")]


def test_dictionary_pattern_prefers_longest_whole_words() -> None:
    pattern = ner.dictionary_pattern(["Bob", "Bob Brown"])
    assert [m.group() for m in pattern.finditer("Bob Brown, Bobby and Bob.")] == ["Bob Brown", "Bob"]


def test_relations_cooccurrence_and_pattern() -> None:
    text = "Ann Lee met with Bob Day."
    a, b = (0, 7, "Ann Lee", "person"), (17, 24, "Bob Day", "person")
    assert list(ner.cooccurrence([a, b])) == [(a, "cooccurs with", b)]
    tagged = [(s, e, t) for (s, e), t in zip(textproc.tokens(text), ["NNP", "NNP", "VBD", "IN", "NNP", "NNP", "."])]
    assert list(ner.pattern(text, [a, b], tagged)) == [(a, "met with", b)]
    assert ner.in_sentences([b, a], [(0, 10), (10, 30)]) == [[a], [b]]


def test_merge_group_unions_annotations_in_order() -> None:
    s, e = {"type": "sentence", "start": 0, "end": 1}, {"type": "entity", "start": 0, "end": 1}
    merged = list(ops_entities.merge_group(1, [{"id": 1, "annotations": [s]}, {"id": 1, "x": 2, "annotations": [e, s]}]))
    assert merged == [{"id": 1, "x": 2, "annotations": [s, e]}]


def run(op, records: list) -> list:
    op.validate() if op.inputs else op.prepare()
    return list(op.to_contract([], None).udf(iter(records)))


def test_operators_check_their_properties() -> None:
    with pytest.raises(ValueError, match="needs 'with pattern'"):
        ops_entities.AnnotateEntities(algorithm="regex").prepare()
    with pytest.raises(ValueError, match="positive integer"):
        ops_text.AnnotateNgrams(size=0).prepare()
    with pytest.raises(ValueError, match="unknown algorithm"):
        ops_entities.AnnotateRelations(algorithm="svm").prepare()
    with pytest.raises(PropertyError):
        op = ops_text.AnnotateSentences(algorithm="nope")
        op.inputs = [object()]
        op.validate()


def test_operators_pass_records_without_text_and_reject_non_objects() -> None:
    assert run(ops_text.AnnotateTokens(), [{"id": 1}]) == [{"id": 1}]
    assert run(ops_entities.ExtractEntities(), [{"id": 1, "text": None}]) == []
    with pytest.raises(OperatorError, match="records must be objects"):
        run(ops_text.AnnotateTokens(), [[1, 2]])


def test_dictionary_file_is_read(tmp_path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# persons\nKim Lee\n", encoding="utf-8")
    found = run(ops_entities.ExtractEntities(dictionary=str(names), entity_type="person"),
                [{"id": 4, "text": "Dr Kim Lee and Kim."}])
    assert found == [{"id": 4, "entity": "Kim Lee", "entityType": "person", "start": 3, "end": 10,
                      "sentenceIndex": 0}]
