"""ie operators over the structure of a text: sentences, tokens, POS tags, chunks, stopwords, n-grams (PACT Maps).

Meteor syntax (VLDB J. 2014, Table 1 middle; docs/ie.md):
``annotate sentences $in [on <text>] [use algorithm 'punkt'|'morphAdorner'|'regex'] [with pattern '<re>']``,
``split sentences ...``, ``annotate tokens $in``, ``annotate pos $in [use algorithm 'perceptron'|'brill']``,
``annotate parse $in [with grammar '<rules>']``, ``remove stopwords $in [replace with '<s>']``,
``annotate ngrams $in size N [on characters]``, ``split ngrams ...``.
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import CONSTANT, Constant, PropertySpec

from . import package, resources, textproc
from .common import (ALGORITHM, ON, TEXT_FIELD, TextOperator, annotation, existing, path_label, token_spans,
                     with_annotations)

CHARACTERS = {"ngramUnit": "characters"}  # the value of the constant ``characters`` (``on characters``)
package.constants["characters"] = CHARACTERS

PATTERN = PropertySpec("with pattern", "pattern", CONSTANT, aliases=("pattern",),
                       doc="regular expression: the sentence separator of algorithm 'regex'")


class _Sentences(TextOperator):
    """Sentence boundaries by Punkt (default; 'morphAdorner' is an alias) or a separator regex."""

    properties = (ON, ALGORITHM, PATTERN)

    def prepare(self) -> None:
        self._algorithm = self.algorithm or "punkt"
        if str(self._algorithm).lower() not in {a.lower() for a in textproc.SENTENCE_ALGORITHMS}:
            raise ValueError(f"unknown algorithm {self._algorithm!r}; use one of "
                             + ", ".join(repr(a) for a in textproc.SENTENCE_ALGORITHMS))
        if self.pattern is not None:
            textproc.sentences("", "regex", self.pattern)  # raises ValueError for an invalid pattern

    def spans(self, text: str) -> list[tuple[int, int]]:
        return textproc.sentences(text, self._algorithm, self.pattern)


@package.operator
class AnnotateSentences(_Sentences):
    """Appends one ``{type: 'sentence', start, end}`` per sentence of the text to ``annotations``."""

    verb = "annotate sentences"
    doc = "annotate sentences $in [on <text>] [use algorithm 'punkt'|'morphAdorner'|'regex'] [with pattern '<re>']"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        yield with_annotations(record, [annotation("sentence", s, e, label) for s, e in self.spans(text)])


@package.operator
class SplitSentences(_Sentences):
    """One record per sentence: the input's fields plus ``sentence`` (its text) and ``sentenceIndex``."""

    verb = "split sentences"
    doc = "split sentences $in [on <text>] [use algorithm '<name>']: one record per sentence"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        for index, (s, e) in enumerate(self.spans(text)):
            yield {**record, "sentence": text[s:e], "sentenceIndex": index}

    def without_text(self, record: dict) -> Iterable[Any]:
        return ()


@package.operator
class AnnotateTokens(TextOperator):
    """Appends ``{type: 'token', start, end}`` per token (Penn Treebank style); adds sentences when missing."""

    verb = "annotate tokens"
    doc = "annotate tokens $in [on <text>]: token annotations (and sentences when the record has none)"
    properties = (ON,)

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        added: list[dict] = []
        token_spans(record, text, label, added)
        yield with_annotations(record, added)


def tagged_sentences(record: dict, text: str, label: str | None, added: list[dict],
                     algorithm: str = "perceptron") -> list[list[tuple]]:
    """Per sentence, ``(start, end, tag)`` of its tokens: existing POS annotations, else the tags of
    ``algorithm`` (``textproc.pos_tags``); the new sentence, token and POS annotations are appended to ``added``."""
    per_sentence = token_spans(record, text, label, added)
    have = {(a["start"], a["end"]): a.get("tag") for a in existing(record, "pos", label)}
    result = []
    for spans in per_sentence:
        if spans and all(span in have for span in spans):
            result.append([(s, e, have[(s, e)]) for s, e in spans])
            continue
        tags = textproc.pos_tags([text[s:e] for s, e in spans], algorithm)
        added.extend(annotation("pos", s, e, label, tag=t) for (s, e), t in zip(spans, tags))
        result.append([(s, e, t) for (s, e), t in zip(spans, tags)])
    return result


class _Tagging(TextOperator):
    """An operator that tags tokens: ``use algorithm 'perceptron'`` (default) or ``'brill'``."""

    def prepare(self) -> None:
        self._tagger = str(self.algorithm or "perceptron").lower()
        if self._tagger not in textproc.POS_ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; use one of "
                             + ", ".join(repr(a) for a in textproc.POS_ALGORITHMS))


@package.operator
class AnnotatePos(_Tagging):
    """Appends ``{type: 'pos', start, end, tag}`` per token with Penn Treebank tags (averaged perceptron by
    default, or Brill's tagger)."""

    verb = "annotate pos"
    doc = ("annotate pos $in [on <text>] [use algorithm 'perceptron'|'brill']: part-of-speech tags "
           "(adds sentences and tokens when missing)")
    properties = (ON, ALGORITHM)

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        added: list[dict] = []
        tagged_sentences(record, text, label, added, self._tagger)
        yield with_annotations(record, added)


@package.operator
class AnnotateParse(_Tagging):
    """Appends ``{type: 'chunk', label, start, end}`` per noun/verb/prepositional phrase of a regexp chunker."""

    verb = "annotate parse"
    doc = ("annotate parse $in [on <text>] [with grammar 'NP: {<DT>?<JJ>*<NN.*>+}'] "
           "[use algorithm 'perceptron'|'brill']: syntactic chunks")
    properties = (ON, ALGORITHM,
                  PropertySpec("with grammar", "grammar", CONSTANT, aliases=("grammar",),
                               doc="chunk rules, one 'LABEL: {<TAG>...}' per line (default NP, VP, PP)"))

    def prepare(self) -> None:
        super().prepare()
        self._grammar = self.grammar or textproc.DEFAULT_CHUNK_GRAMMAR
        textproc.chunk_rules(self._grammar)

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        added: list[dict] = []
        for tagged in tagged_sentences(record, text, label, added, self._tagger):
            for name, first, last in textproc.chunks([t for _, _, t in tagged], self._grammar):
                added.append(annotation("chunk", tagged[first][0], tagged[last - 1][1], label, label=name))
        yield with_annotations(record, added)


@package.operator
class RemoveStopwords(TextOperator):
    """Annotates stopwords (``{type: 'stopword', start, end, value}``), or with ``replace with`` rewrites the
    text with every stopword replaced (the record's annotations of that text are then dropped)."""

    verb = "remove stopwords"
    doc = "remove stopwords $in [on <text>] [replace with '<s>']: annotate or replace English stopwords"
    properties = (ON, PropertySpec("replace with", "replacement", CONSTANT,
                                   doc="text put in place of each stopword ('' deletes them)"))

    def prepare(self) -> None:
        if self.replacement is not None and not isinstance(self.replacement, str):
            raise ValueError("'replace with' must be a string")
        if self.replacement is not None and path_of(self.on) is None:
            raise ValueError("'replace with' needs 'on' to be a field path such as $r.body")

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        words = resources.stopwords()
        spans = [(s, e) for s, e in textproc.tokens(text) if text[s:e].lower() in words]
        if self.replacement is None:
            yield with_annotations(record, [annotation("stopword", s, e, label, value=text[s:e]) for s, e in spans])
            return
        pieces, last = [], 0
        for s, e in spans:
            pieces += [text[last:s], self.replacement]
            last = e
        copy = _set_path(record, path_of(self.on), "".join(pieces) + text[last:])
        copy["annotations"] = [a for a in record.get("annotations") or () if not
                               (isinstance(a, dict) and a.get("on") == label)]
        yield copy


def path_of(expr: Any) -> list[str] | None:
    """Field names of the path ``expr`` (``['text']`` when None); None when it is no field path."""
    label = path_label(expr)
    return None if label == "expr" else (label or TEXT_FIELD).split(".")


def _set_path(record: dict, names: list[str], value: Any) -> dict:
    copy = dict(record)
    copy[names[0]] = value if len(names) == 1 else _set_path(record.get(names[0]) or {}, names[1:], value)
    return copy


class _Ngrams(TextOperator):
    """Word n-grams within each sentence (punctuation skipped) or character n-grams (``on characters``)."""

    properties = (ON, PropertySpec("size", "size", CONSTANT, default=2, aliases=("of size",),
                                   doc="n, the number of words (or characters) per n-gram"))

    def prepare(self) -> None:
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
            raise ValueError(f"'size' must be a positive integer, got {self.size!r}")
        self._chars = isinstance(self.on, Constant) and self.on.value == CHARACTERS

    def text_expression(self) -> Any:
        return None if self._chars else self.on

    def grams(self, record: dict, text: str, label: str | None) -> Iterable[tuple[int, int]]:
        if self._chars:
            return ((i, i + self.size) for i in range(len(text) - self.size + 1))
        found = []
        for spans in token_spans(record, text, label, []):
            words = [span for span in spans if textproc.is_word(text[span[0]:span[1]])]
            found += [(words[i][0], words[j - 1][1]) for i, j in textproc.ngrams(words, self.size)]
        return found


@package.operator
class AnnotateNgrams(_Ngrams):
    """Appends ``{type: 'ngram', start, end, value}`` per n-gram."""

    verb = "annotate ngrams"
    doc = "annotate ngrams $in size N [on characters | on <text>]: word (or character) n-grams"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        grams = self.grams(record, text, label)
        yield with_annotations(record, [annotation("ngram", s, e, label, value=text[s:e]) for s, e in grams])


@package.operator
class SplitNgrams(_Ngrams):
    """One record per n-gram: the input's fields plus ``ngram`` (its text) and ``ngramIndex``."""

    verb = "split ngrams"
    doc = "split ngrams $in size N [on characters | on <text>]: one record per n-gram"

    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        for index, (s, e) in enumerate(self.grams(record, text, label)):
            yield {**record, "ngram": text[s:e], "ngramIndex": index}

    def without_text(self, record: dict) -> Iterable[Any]:
        return ()
