"""Shared machinery of the ie operators: the annotated text (``on``), the ``annotations`` array, PACT Maps.

An annotation is ``{type, start, end, ...}`` with character offsets into the annotated text. Text taken from
another field than ``text`` (``on $r.body``) is named in each annotation (``on: 'body'``) so later operators
reuse only the sentences and tokens of the same text. Operators add the sentences and tokens they need when
the record has none for that text.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (CONSTANT, EXPRESSION, ElementaryOperator, FieldAccess, InputRef, Map, OperatorError,
                         PropertyError, PropertySpec, compile_expression)

from . import textproc

TEXT_FIELD = "text"
ON = PropertySpec("on", "on", EXPRESSION, doc="the text to annotate, computed from the record (default $r.text)")
ALGORITHM = PropertySpec("use algorithm", "algorithm", CONSTANT, aliases=("using algorithm", "algorithm"),
                         doc="the algorithm's name")


def compile_expr(expr: Any, arity: int = 1) -> Callable[..., Any]:
    """``expr`` compiled once to a closure (``sopremo.api.compile_expression``)."""
    return compile_expression(expr, arity, ())


def path_label(expr: Any) -> str | None:
    """``'body'`` for ``$r.body``, ``'a.b'`` for ``$r.a.b``, None for the default text; ``'expr'`` otherwise."""
    if expr is None:
        return None
    names = []
    while isinstance(expr, FieldAccess):
        names.append(expr.name)
        expr = expr.base
    if not isinstance(expr, InputRef) or not names:
        return "expr"
    label = ".".join(reversed(names))
    return None if label == TEXT_FIELD else label


class TextOperator(ElementaryOperator):
    """An ie operator over one data set whose records carry a text (``on``; default the field ``text``).

    Subclasses implement ``process(record, text, label) -> Iterable[record]`` and may override ``prepare()``
    to check and precompute their properties once per plan (raising PropertyError or OperatorError).
    """

    min_inputs = max_inputs = 1

    def validate(self) -> None:
        super().validate()
        try:
            self.prepare()
        except ValueError as exc:
            raise PropertyError(f"{self.verb}: {exc}") from None

    def prepare(self) -> None:
        """Check and precompute property values (once per plan)."""

    def text_expression(self) -> Any:
        """The expression giving the text (None: the field ``text``)."""
        return self.on

    @abstractmethod
    def process(self, record: dict, text: str, label: str | None) -> Iterable[Any]:
        """The output records for one input record whose text is ``text`` (``label``: see ``path_label``)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        self.prepare()
        on = self.text_expression()
        text_of = compile_expr(on, 1) if on is not None else _text_field
        label, verb, process = path_label(on), self.verb, self.process

        def run(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                if not isinstance(record, dict):
                    raise OperatorError(f"{verb}: records must be objects, got {type(record).__name__}")
                text = text_of(record)
                if not isinstance(text, str):
                    yield from self.without_text(record)
                    continue
                try:
                    yield from process(record, text, label)
                except ValueError as exc:
                    raise OperatorError(f"{verb}: {exc}") from None

        return Map(name=self.display_name(), inputs=list(inputs), dop=self.dop, udf=run)

    def without_text(self, record: dict) -> Iterable[Any]:
        """Records without a text (missing, null, a number) pass unchanged; ``split``/``extract`` emit none."""
        return (record,)


def _text_field(record: dict) -> Any:
    return record.get(TEXT_FIELD)


# ---- annotations ------------------------------------------------------------------------------------------------


def annotation(kind: str, start: int, end: int, label: str | None, /, **extra: Any) -> dict:
    """``{type, start, end, **extra}`` plus ``on`` when the text is not the ``text`` field."""
    found = {"type": kind, "start": start, "end": end, **extra}
    if label is not None:
        found["on"] = label
    return found


def existing(record: dict, kind: str, label: str | None) -> list[dict]:
    """The record's annotations of ``kind`` over the text ``label``, ordered by position."""
    found = [a for a in record.get("annotations") or () if isinstance(a, dict) and a.get("type") == kind
             and a.get("on") == label and isinstance(a.get("start"), int) and isinstance(a.get("end"), int)]
    return sorted(found, key=lambda a: (a["start"], a["end"]))


def with_annotations(record: dict, new: list[dict]) -> dict:
    """A copy of ``record`` whose ``annotations`` array is the old one followed by ``new``."""
    old = record.get("annotations")
    copy = dict(record)
    copy["annotations"] = [*(old if isinstance(old, list) else ()), *new]
    return copy


def sentence_spans(record: dict, text: str, label: str | None, added: list[dict]) -> list[tuple[int, int]]:
    """Sentence spans of the record's text: its sentence annotations, else Punkt's (appended to ``added``)."""
    have = existing(record, "sentence", label)
    if have:
        return [(a["start"], a["end"]) for a in have]
    spans = textproc.sentences(text)
    added.extend(annotation("sentence", s, e, label) for s, e in spans)
    return spans


def token_spans(record: dict, text: str, label: str | None, added: list[dict]) -> list[list[tuple[int, int]]]:
    """Token spans per sentence: the record's token annotations, else new ones (appended to ``added``)."""
    sentences = sentence_spans(record, text, label, added)
    have = existing(record, "token", label)
    if have:
        return [[(a["start"], a["end"]) for a in have if s <= a["start"] and a["end"] <= e] for s, e in sentences]
    per_sentence = [textproc.tokens(text, s, e) for s, e in sentences]
    added.extend(annotation("token", s, e, label) for spans in per_sentence for s, e in spans)
    return per_sentence


def source_fields(record: dict) -> dict:
    """The identifying fields (``id``, ``url``) of ``record`` that extracted records carry."""
    return {name: record[name] for name in ("id", "url") if name in record}
