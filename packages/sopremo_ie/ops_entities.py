"""ie operators over entities: annotate/extract entities and relations (PACT Maps), merge (a PACT Reduce).

Meteor syntax (docs/ie.md): ``annotate entities $in [use algorithm 'rules'|'regex'|
'dictionary'] [and type '<type>'] [with pattern '<regex or file>'] [with dictionary '<file>' | [names]]``; the
docs' form ``annotate entities in $articles using type.person and regex 'names.txt'`` names the same
properties. ``extract entities ...`` emits one record per entity. ``annotate relations $in [use algorithm
'cooccurrence'|'pattern']`` / ``extract relations ...``; ``merge $in [by <key>]``.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

from sopremo.api import CONSTANT, EXPRESSION, MISSING, ElementaryOperator, PropertySpec, Reduce, hashable

from . import ner, package, resources
from .common import (ALGORITHM, ON, TextOperator, annotation, compile_expr, existing, sentence_spans,
                     source_fields, token_spans, with_annotations)
from .ops_text import tagged_sentences

ENTITY_ALGORITHMS = ("rules", "regex", "dictionary")
ENTITY_TYPES = {"person": "person", "organization": "organization", "location": "location", "date": "date"}
package.constants["type"] = ENTITY_TYPES  # ``using type.person``


class _Entities(TextOperator):
    """Finds entities by rules (default), regular expressions or a dictionary; ``and type`` filters (rules)
    or names (regex, dictionary; default 'entity') their type."""

    properties = (
        ON, ALGORITHM,
        PropertySpec("and type", "entity_type", CONSTANT, aliases=("type", "with type", "using"),
                     doc="entity type: filters the rules' types, names the type of regex/dictionary matches"),
        PropertySpec("with pattern", "pattern", CONSTANT, aliases=("and regex", "regex", "pattern"),
                     doc="a regular expression, an array of them, or a file of them (one per line)"),
        PropertySpec("with dictionary", "dictionary", CONSTANT, aliases=("and dictionary", "dictionary"),
                     doc="an array of names, or a file of names (one per line)"),
    )

    def prepare(self) -> None:
        algorithm = self.algorithm or ("regex" if self.pattern is not None else
                                       "dictionary" if self.dictionary is not None else "rules")
        self._algorithm = str(algorithm).lower()
        if self._algorithm not in ENTITY_ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; use one of "
                             + ", ".join(repr(a) for a in ENTITY_ALGORITHMS))
        if self.entity_type is not None and not isinstance(self.entity_type, str):
            raise ValueError(f"'and type' must be a string such as 'person', got {self.entity_type!r}")
        self._patterns = self._compiled_patterns()

    def _compiled_patterns(self) -> list[re.Pattern]:
        if self._algorithm == "regex":
            if self.pattern is None:
                raise ValueError("algorithm 'regex' needs 'with pattern' (a regex or a file of them)")
            try:
                return [re.compile(p) for p in _strings(self.pattern, "with pattern")]
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        if self._algorithm == "dictionary":
            if self.dictionary is None:
                raise ValueError("algorithm 'dictionary' needs 'with dictionary' (a file or an array of names)")
            return [ner.dictionary_pattern(_strings(self.dictionary, "with dictionary"))]
        return []

    def entities(self, record: dict, text: str, label: str | None, added: list[dict]) -> list[tuple]:
        """``(start, end, entity text, type)`` of the record's text, in text order."""
        if self._algorithm == "rules":
            found = ner.rule_entities(text, token_spans(record, text, label, added))
            if self.entity_type is not None:
                found = [e for e in found if e[2] == self.entity_type.lower()]
        else:
            found = ner.pattern_entities(text, self._patterns, self.entity_type or "entity")
        return [(s, e, text[s:e], kind) for s, e, kind in found]


def _strings(value: Any, prop: str) -> list[str]:
    """The strings of a property: an array of strings, a file's lines (when the string names a file), or it."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, str):
        return resources.read_lines(value) if os.path.isfile(value) else [value]
    raise ValueError(f"'{prop}' must be a string, a file name or an array of strings, got {value!r}")


@package.operator
class AnnotateEntities(_Entities):
    """Appends ``{type: 'entity', start, end, entity, entityType}`` per entity found in the text."""

    verb = "annotate entities"
    doc = ("annotate entities $in [use algorithm 'rules'|'regex'|'dictionary'] [and type '<type>'] "
           "[with pattern '<re>'] [with dictionary '<file>'|[...]]")

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        found = self.entities(record, text, label, [])
        yield with_annotations(record, [annotation("entity", s, e, label, entity=t, entityType=k)
                                        for s, e, t, k in found])


@package.operator
class ExtractEntities(_Entities):
    """One record per entity occurrence: ``entity``, ``entityType``, ``start``, ``end``, ``sentenceIndex``
    and the input's ``id`` / ``url`` when present."""

    verb = "extract entities"
    doc = "extract entities $in [...as annotate entities]: one record per entity occurrence"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        sentences = sentence_spans(record, text, label, [])
        for s, e, t, k in self.entities(record, text, label, []):
            yield {**source_fields(record), "entity": t, "entityType": k, "start": s, "end": e,
                   "sentenceIndex": ner.sentence_index(sentences, s)}

    def without_text(self, record: dict) -> Iterable[Any]:
        return ()


class _Relations(TextOperator):
    """Relations between the entities of each sentence: the record's entity annotations of the text, else those
    of the rules annotator."""

    properties = (ON, ALGORITHM)

    def prepare(self) -> None:
        self._algorithm = str(self.algorithm or "cooccurrence").lower()
        if self._algorithm not in ner.RELATION_ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; use one of "
                             + ", ".join(repr(a) for a in ner.RELATION_ALGORITHMS))

    def relations(self, record: dict, text: str, label: str | None, added: list[dict]) -> list[tuple]:
        """``(sentence index, subject, predicate, object)``; entities newly found are appended to ``added``."""
        entities = [(a["start"], a["end"], a.get("entity", text[a["start"]:a["end"]]), a.get("entityType"))
                    for a in existing(record, "entity", label)]
        if not entities:
            finder = AnnotateEntities()
            finder.prepare()
            entities = finder.entities(record, text, label, [])
            added.extend(annotation("entity", s, e, label, entity=t, entityType=k) for s, e, t, k in entities)
        sentences = sentence_spans(record, text, label, [])
        grouped = ner.in_sentences(entities, sentences)
        tagged = tagged_sentences(record, text, label, []) if self._algorithm == "pattern" else None
        found = []
        for index, members in enumerate(grouped):
            pairs = (ner.pattern(text, members, tagged[index]) if tagged is not None
                     else ner.cooccurrence(members))
            found += [(index, subject, predicate, obj) for subject, predicate, obj in pairs]
        return found


@package.operator
class AnnotateRelations(_Relations):
    """Appends ``{type: 'relation', start, end, subject, predicate, object, subjectType, objectType}`` per
    relation (start of the subject to end of the object), after the entities it had to find."""

    verb = "annotate relations"
    doc = "annotate relations $in [use algorithm 'cooccurrence'|'pattern']: relations between a sentence's entities"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        added: list[dict] = []
        for _, subject, predicate, obj in self.relations(record, text, label, added):
            added.append(annotation("relation", subject[0], obj[1], label, subject=subject[2], predicate=predicate,
                                    object=obj[2], subjectType=subject[3], objectType=obj[3]))
        yield with_annotations(record, added)


@package.operator
class ExtractRelations(_Relations):
    """One record per relation: ``subject``, ``predicate``, ``object``, their types, ``sentenceIndex`` and the
    input's ``id`` / ``url`` when present."""

    verb = "extract relations"
    doc = "extract relations $in [use algorithm '<name>']: one record per relation"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        for index, subject, predicate, obj in self.relations(record, text, label, []):
            yield {**source_fields(record), "subject": subject[2], "predicate": predicate, "object": obj[2],
                   "subjectType": subject[3], "objectType": obj[3], "sentenceIndex": index}

    def without_text(self, record: dict) -> Iterable[Any]:
        return ()


@package.operator
class Merge(ElementaryOperator):
    """One record per key (default ``$r.id``): the fields of the group's first record (later records add the
    fields it lacks) and the union of their ``annotations`` in order of first appearance. Records without the
    key are merged only with identical records."""

    verb = "merge"
    min_inputs = max_inputs = 1
    doc = "merge $in [by <key>]: merge the annotations of the records that share an id"
    properties = (PropertySpec("by", "key", EXPRESSION, doc="the key shared by the records to merge (default $r.id)"),)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        key_of = compile_expr(self.key, 1) if self.key is not None else (lambda r: r.get("id", MISSING)
                                                                           if isinstance(r, dict) else MISSING)

        def key(record: Any) -> Any:
            value = key_of(record)
            return ("record", hashable(record)) if value is MISSING else ("key", hashable(value))

        return Reduce(name=self.display_name(), inputs=list(inputs), dop=self.dop, key=key, udf=merge_group)


def merge_group(_key: Any, group: list[Any]) -> Iterable[Any]:
    """The merged record of one group (see ``Merge``)."""
    merged: dict = {}
    for record in reversed(group):
        merged.update(record if isinstance(record, dict) else {})
    merged.update(group[0] if isinstance(group[0], dict) else {})
    seen, notes = set(), []
    for record in group:
        for note in (record.get("annotations") if isinstance(record, dict) else None) or ():
            mark = hashable(note)
            if mark not in seen:
                seen.add(mark)
                notes.append(note)
    if notes or any(isinstance(r, dict) and "annotations" in r for r in group):
        merged["annotations"] = notes
    yield merged
