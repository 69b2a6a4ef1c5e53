"""Tab completion for the Meteor REPL from the metadata the parser uses: operators, property words, functions.

``Vocabulary`` collects the names in scope of a session (operator verbs and their PropertySpec words, format
option words, functions, constants, packages, ``$variables``); ``MeteorCompleter`` completes multi-word
operator names and property words, functions, constants, ``$variables``, the fields of a data set after
``$name.`` (``$name[0].address.``; found in a sample of its records), REPL commands and file paths inside
quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from meteor.grammar import operators_in_scope
from meteor.highlight import current_statement, unterminated

STATEMENT_WORDS = ("read", "write", "from", "to", "using", "include", "fn", "pyudf", "parallel", "in", "and",
                   "or", "not", "if", "as", "true", "false", "null", "iterate", "times", "until", "unchanged", "empty")
COMMANDS = {":help": "syntax and properties of an operator", ":explain": "Sopremo plan and PACT program",
            ":packages": "installed packages", ":load": "run a script file", ":limit": "records shown",
            ":format": "records as a table or JSON lines", ":quit": "leave the REPL"}
FIELD_PATH = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]\[]*\])*)\.([A-Za-z_][A-Za-z0-9_]*)?$")
STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[[^\]\[]*\]")


def field_names(records: Iterable, path: str) -> list[str]:
    """The fields of the objects reached from ``records`` by ``path`` (``.name`` steps into a field, ``[...]``
    into the elements of an array), most frequent first (ties by first appearance)."""
    values = list(records)
    for step in STEP.finditer(path):
        name = step.group(1)
        if name is not None:
            values = [v[name] for v in values if isinstance(v, dict) and name in v]
        else:
            values = [e for v in values if isinstance(v, list) for e in v]
    counts: dict[str, int] = {}
    for value in values:
        if isinstance(value, dict):
            for key in value:
                counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: -counts[k])


@dataclass
class Vocabulary:
    """The names a session knows: operator classes by verb, functions, constants, formats, packages,
    format option words and ``$variables`` (without ``$``)."""

    operators: dict[str, type] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    io_words: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, session) -> "Vocabulary":
        """The vocabulary of a ReplSession (its scope after the last successful input)."""
        scope, binder = session.scope, session.binder
        io_words = [w for _, _, fmt in scope.formats.items() for spec in getattr(fmt, "properties", ())
                    for w in spec.all_words if w.strip()]
        return cls(operators={c.verb: c for c in operators_in_scope(scope)},
                   functions=list(dict.fromkeys([*binder.fn_defs, *scope.functions.names()])),
                   constants=list(dict.fromkeys([*binder.constants, *scope.constants.names()])),
                   formats=scope.formats.names(), packages=session.manager.available(),
                   io_words=list(dict.fromkeys(io_words)), variables=list(binder.streams))

    def keywords(self) -> set[str]:
        """Every word of the language in scope: statement words, operator verbs, property words and the
        direction words of sort keys."""
        words = set(STATEMENT_WORDS) | {w for verb in self.operators for w in verb.split()}
        for cls in self.operators.values():
            words |= {w for spec in cls.properties for phrase in spec.all_words for w in phrase.split()}
            words |= {word for spec in cls.properties for word, _ in spec.directions}
        return words | {w for phrase in self.io_words for w in phrase.split()}


def current_operator(words: list[str], operators: dict[str, type]) -> type | None:
    """The operator class whose verb occurs last in ``words`` (the operator a property would belong to)."""
    found, at = None, -1
    for verb, cls in operators.items():
        parts = verb.split()
        for i in range(len(words) - len(parts), -1, -1):
            if words[i:i + len(parts)] == parts:
                if i > at or (i == at and len(parts) > len(found.verb.split())):
                    found, at = cls, i
                break
    return found


def phrase_completions(before: list[str], prefix: str, phrases: Iterable[tuple[str, str]]) -> Iterator[Completion]:
    """Completions of the word ``prefix`` continuing a multi-word phrase whose first words end ``before``.

    ``phrases``: (phrase, meta) pairs; ``union al`` completes to ``all`` (shown as ``union all``).
    """
    seen: set[str] = set()
    for phrase, meta in phrases:
        parts = phrase.split()
        for k in range(len(parts), 0, -1):
            if (k == 1 or before[len(before) - k + 1:] == parts[:k - 1]) and len(before) >= k - 1 \
                    and parts[k - 1].startswith(prefix):
                text = " ".join(parts[k - 1:])
                if text not in seen:
                    seen.add(text)
                    yield Completion(text, -len(prefix), display=phrase, display_meta=meta)
                break


class MeteorCompleter(Completer):
    """Completes REPL input from ``vocabulary()`` (called per completion, so it follows the session);
    ``workdir()`` anchors relative file paths."""

    def __init__(self, vocabulary: Callable[[], Vocabulary], workdir: Callable[[], str],
                 sample: Callable[[str], list] | None = None):
        self.vocabulary = vocabulary
        self.workdir = workdir
        self.sample = sample  # sample(name): some records of $name, for the field names after `$name.`

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.lstrip().startswith(":") and "\n" not in text.strip():
            yield from self._command(text.lstrip(), complete_event)
            return
        statement = current_statement(text)
        state = unterminated(statement)
        if state == "string":
            quote = max(statement.rfind("'"), statement.rfind('"'))
            yield from self._paths(statement[quote + 1:], complete_event)
            return
        if state is not None:
            return
        vocab = self.vocabulary()
        field = FIELD_PATH.search(statement)
        if field is not None:
            name = field.group(1)
            if name not in vocab.variables:  # an alias: `join $o in $orders, ...` samples $orders
                alias = re.search(rf"\${name}\s+in\s+\$([A-Za-z_][A-Za-z0-9_]*)", statement)
                name = alias.group(1) if alias else name
            yield from self._fields(name, field.group(2), field.group(3) or "")
            return
        m = re.search(r"(\$?)([A-Za-z_][A-Za-z0-9_]*)?$", statement)
        prefix = m.group(2) or ""
        if m.group(1):
            for name in vocab.variables:
                if name.startswith(prefix):
                    yield Completion("$" + name, -len(prefix) - 1, display_meta="data set")
            return
        before = [w for w in re.split(r"\s+", statement[:len(statement) - len(prefix)]) if w]
        yield from phrase_completions(before, prefix, self._phrases(vocab, before))

    def _phrases(self, vocab: Vocabulary, before: list[str]) -> Iterator[tuple[str, str]]:
        last = before[-1] if before else ""
        if last == "using" or last.endswith(","):
            if "using" in before:
                yield from ((p, "package") for p in vocab.packages)
                return
        if last in ("read", "write"):
            yield from ((f, "format") for f in vocab.formats)
        cls = current_operator(before, vocab.operators)
        if cls is not None:
            for spec in cls.properties:
                yield from ((w, f"property of {cls.verb}") for w in spec.all_words if w.strip())
                yield from ((word, f"direction of a key of {cls.verb}") for word, _ in spec.directions)
            yield "parallel", "parallelism hint"
        if before and before[0] in ("read", "write") or "read" in before:
            yield from ((w, "format option") for w in vocab.io_words)
        yield from ((verb, "operator") for verb in vocab.operators)
        yield from ((f, "function") for f in vocab.functions)
        yield from ((c, "constant") for c in vocab.constants)
        yield from ((w, "keyword") for w in STATEMENT_WORDS)

    def _fields(self, name: str, path: str, prefix: str) -> Iterator[Completion]:
        """Field names after ``$name<path>.`` from a sample of the data set ``$name`` (none when it cannot be
        evaluated, e.g. an alias of an operator's input)."""
        if self.sample is None:
            return
        try:
            records = self.sample(name)
        except Exception:  # noqa: BLE001 - completion never fails the prompt; evaluating shows the error
            return
        for field in field_names(records, path):
            if field.startswith(prefix):
                yield Completion(field, -len(prefix), display_meta=f"field of ${name}")

    def _paths(self, partial: str, event: CompleteEvent) -> Iterator[Completion]:
        completer = PathCompleter(expanduser=True, get_paths=lambda: [self.workdir()])
        yield from completer.get_completions(Document(partial, len(partial)), event)

    def _command(self, text: str, event: CompleteEvent) -> Iterator[Completion]:
        command, space, arg = text.partition(" ")
        if not space:
            for name, doc in COMMANDS.items():
                if name.startswith(command):
                    yield Completion(name, -len(command), display_meta=doc)
            return
        if command == ":load":
            yield from self._paths(arg.lstrip(), event)
        elif command == ":format":
            for name in ("table", "json"):
                if name.startswith(arg.strip()):
                    yield Completion(name, -len(arg.strip()), display_meta="format")
        elif command == ":explain":
            name = arg.strip().lstrip("$")
            for var in self.vocabulary().variables:
                if var.startswith(name):
                    yield Completion("$" + var, -len(arg.strip()), display_meta="data set")
        elif command == ":help":
            vocab = self.vocabulary()
            words = arg.split(" ")
            topics = [(v, "operator") for v in vocab.operators] + [(f, "function") for f in vocab.functions]
            yield from phrase_completions([w for w in words[:-1] if w], words[-1], topics)
