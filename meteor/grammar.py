"""Generates the operator part of the Meteor grammar from the operator metadata of the packages in scope.

As in the original (``@Name(verb=...)``, ``@Property @Name(preposition=...)``), the words of an operator live on
its class (sopremo/operator.py); this module turns them into LALR rules appended to grammars/meteor.lark:
one rule per operator with its literal verb words, its inputs ``[$alias in] $var [per-input property expr]``
and its properties in any order, plus ``name_kw`` (verb words usable as function names), the read/write
options of the formats in scope, the direction words of sort keys (``direction``), and the cast and
package-prefix terminals (DESIGN.md, "Operators carry their
own syntax").
"""

from __future__ import annotations

import re
from pathlib import Path

from sopremo.operator import BINDING, PropertySpec

_HERE = Path(__file__).resolve().parent
_GRAMMAR_FILES = (_HERE / "grammars" / "meteor.lark", _HERE.parent / "grammars" / "meteor.lark")


def base_grammar() -> str:
    """The hand-written part of the grammar (statements and expressions)."""
    for candidate in _GRAMMAR_FILES:
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError("meteor.lark not found next to the meteor package")


def _literal(words: str) -> str:
    """``'union all'`` -> ``"union" "all"``."""
    return " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words.split())


# Expression keywords that may begin a multi-word property (``and type``): after a property value the parser
# would read them as the boolean operator, so such words become one terminal matched before the keyword.
_EXPRESSION_KEYWORDS = {"and", "or", "not", "in", "if"}


def _words_pattern(words: str) -> str:
    """``'and type'`` -> the regexp terminal ``/and\\s+type\\b/`` (tried before the shorter ``and``)."""
    return "/" + r"\s+".join(re.escape(w) for w in words.split()) + r"\b/"


def _alternatives(word_lists: list[str], alias: str) -> str:
    def words(w: str) -> str:
        parts = w.split()
        if alias == "propwords" and len(parts) > 1 and parts[0] in _EXPRESSION_KEYWORDS:
            return _words_pattern(w)
        return _literal(w)

    return "\n    | ".join(f"{words(w)} -> {alias}" for w in word_lists)


def operators_in_scope(scope) -> list[type]:
    """Operator classes visible in ``scope``, one per verb (a later package shadows an earlier one)."""
    seen: dict[str, type] = {}
    for _, cls in scope.operator_classes():
        if cls.verb and cls.verb not in seen:
            seen[cls.verb] = cls
    return list(seen.values())


def _property_rules(name: str, specs: list[PropertySpec]) -> list[str]:
    """``name: words expr -> op_prop | ...`` plus one ``!name_w<i>`` rule of words per property."""
    alternatives, rules = [], []
    for i, spec in enumerate(specs):
        words = [w for w in spec.all_words if w.strip()]
        if not words:
            continue
        wrule = f"{name}_w{i}"
        rules.append(f"!{wrule}: {_alternatives(words, 'propwords')}")
        if spec.kind == BINDING:
            alternatives.append(f'{wrule} VARIABLE "=" expr -> op_binding')
        else:
            alternatives.append(f"{wrule} expr -> op_prop")
        if spec.directions:
            alternatives.append(f"{wrule} expr direction -> op_directed_prop")
    if alternatives:
        rules.insert(0, f"{name}: " + "\n    | ".join(alternatives))
    return rules


def _operator_rules(index: int, cls: type) -> list[str]:
    """Rules of one operator; optional parts are factored into small rules to keep the LALR tables small."""
    name = f"op{index}"
    per_input = [s for s in cls.properties if s.per_input]
    general = [s for s in cls.properties if not s.per_input]
    rules = [f"!{name}_verb: QUAL? {_literal(cls.verb)} -> opverb"]
    prop_rules = _property_rules(f"{name}_prop", general)
    inprop_rules = _property_rules(f"{name}_inprop", per_input)
    input_rule = "op_input_plain"
    if inprop_rules:
        input_rule = f"{name}_input"
        rules.append(f"{input_rule}: op_alias? VARIABLE {name}_inprop* -> op_input")
    parts = [f"{name}_verb"]
    if cls.max_inputs != 0:
        optional = "?" if cls.min_inputs == 0 else ""
        inputs_rule = "_op_inputs" if input_rule == "op_input_plain" else f"_{name}_inputs"
        if inputs_rule != "_op_inputs":
            rules.append(f'{inputs_rule}: op_in? {input_rule} ("," {input_rule})*')
        parts.append(f"{inputs_rule}{optional}")
    tail = f"({name}_prop | parallel)*" if prop_rules else "parallel?"
    rules.append(f"_{name}_tail: {tail}")
    rules.insert(0, f"{name}: {' '.join(parts)} _{name}_tail -> op_call")
    return rules + prop_rules + inprop_rules


def _io_rules(scope) -> list[str]:
    words: list[str] = []
    for _, _, fmt in scope.formats.items():
        for spec in getattr(fmt, "properties", ()):
            words.extend(w for w in spec.all_words if w.strip() and w not in words)
    if not words:
        return ["io_options: io_option*", "io_option: io_words expr", "io_words: NO_IO_WORDS",
                "%declare NO_IO_WORDS"]
    return ["io_options: io_option*", "io_option: io_words expr",
            f"!io_words: {_alternatives(words, 'propwords')}"]


def _direction_rule(classes: list[type]) -> list[str]:
    """``direction``: the direction words of every property in scope that declares some (sort keys)."""
    words = list(dict.fromkeys(word for cls in classes for spec in cls.properties for word, _ in spec.directions))
    if not words:
        return ["direction: NO_DIRECTION", "%declare NO_DIRECTION"]
    return ["!direction: " + " | ".join(_words_pattern(w) for w in words)]  # whole words: not 'desc' of 'descx'



def _cast_terminal() -> str:
    from sopremo.types import TYPE_NAMES

    names = sorted(TYPE_NAMES, key=lambda n: (-len(n), n))
    return "CAST: /\\(\\s*(?:" + "|".join(re.escape(n) for n in names) + ")\\s*\\)/"


def operator_grammar(scope) -> str:
    """The generated rules for the operators, formats and types in ``scope`` (appended to the base grammar)."""
    classes = operators_in_scope(scope)
    lines = ["op_input_plain: op_alias? VARIABLE -> op_input", 'op_in: "in"',
             '_op_inputs: op_in? op_input_plain ("," op_input_plain)*']
    if classes:
        lines.append("?operator: " + " | ".join(f"op{i}" for i in range(len(classes))))
        for i, cls in enumerate(classes):
            lines.extend(_operator_rules(i, cls))
        first_words = list(dict.fromkeys(cls.verb.split()[0] for cls in classes))
        lines.append(f"!name_kw: {' | '.join(_literal(w) for w in first_words)}")
        pattern = "|".join(re.escape(w) for w in sorted(first_words, key=len, reverse=True))
        lines.append(f"QUAL: /[A-Za-z_][A-Za-z0-9_]*:(?=\\s*(?:{pattern})\\b)/")
    else:
        lines += ["operator: NO_OPERATOR", "name_kw: NO_OPERATOR", "QUAL: /(?!x)x/", "%declare NO_OPERATOR"]
    lines.extend(_io_rules(scope))
    lines.extend(_direction_rule(classes))
    lines.append(_cast_terminal())
    return "\n".join(lines) + "\n"


def full_grammar(scope) -> str:
    """Base grammar plus the rules generated for ``scope``."""
    return base_grammar() + "\n// ---- generated from the operators in scope ----\n" + operator_grammar(scope)
