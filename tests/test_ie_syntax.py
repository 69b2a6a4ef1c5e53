"""Meteor syntax of the ie package: property words, the docs' form, and the paper's ``and type`` form.

The forms whose property words begin with the expression keyword ``and`` (``and type``, ``and regex``) are
read as property words, not as a boolean ``and`` (meteor/grammar.py matches such words as one terminal).
"""

from __future__ import annotations

import pytest

from meteor.errors import MeteorSyntaxError
from meteor.frontend import compile_script


def annotate_op(script: str):
    """The operator feeding the first sink of ``script``."""
    plan = compile_script("using ie;\n$a = read from 'in.json';\n" + script + "\nwrite $b to 'out.json';")
    return plan.sinks[0].inputs[0].operator


def keyword_led(script: str):
    """``annotate_op`` for a form using ``and <word>`` property words."""
    return annotate_op(script)


def test_property_words_bind_to_attributes() -> None:
    op = annotate_op("$b = annotate entities $a on $a.body use algorithm 'dictionary' with dictionary ['Ann'] "
                     "type 'person';")
    assert (op.algorithm, op.dictionary, op.entity_type) == ("dictionary", ["Ann"], "person")
    assert op.on.name == "body"


def test_using_type_constant() -> None:
    op = annotate_op("$b = annotate entities in $a using type.person;")
    assert op.entity_type == "person"


def test_ngrams_on_characters() -> None:
    op = annotate_op("$b = annotate ngrams $a size 3 on characters;")
    op.prepare()
    assert op.size == 3 and op.text_expression() is None


def test_docs_form() -> None:
    op = keyword_led("$b = annotate entities in $a using type.person and regex 'names.txt';")
    assert (op.entity_type, op.pattern) == ("person", "names.txt")


def test_paper_and_type_form() -> None:
    op = keyword_led("$b = annotate entities $a use algorithm 'regex' with pattern 'J\\w+' and type 'person';")
    assert (op.algorithm, op.entity_type) == ("regex", "person")


def test_unknown_property_suggests_words() -> None:
    with pytest.raises(MeteorSyntaxError, match="did you mean .pattern."):
        annotate_op("$b = annotate entities $a with patern 'x';")
