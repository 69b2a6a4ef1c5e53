"""Fuzzing the parser and binder: thousands of mutations of real scripts raise nothing but MeteorError.

Scripts from tests/cases and examples/ get a few edits each (tokens inserted, deleted, replaced or swapped;
characters inserted or deleted; slices duplicated), then go through ``compile_script`` as ``meteor run`` would
give them. A crash (any exception other than MeteorError and its subclasses) fails the test with the mutated
script, which hypothesis shrinks to a small one. Derandomized, so every run tries the same scripts.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meteor.frontend import compile_script
from sopremo.errors import MeteorError

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*(ROOT / "tests" / "cases").glob("*/*.meteor"), *(ROOT / "examples").rglob("*.meteor")])
TEXTS = {path: path.read_text(encoding="utf-8") for path in SCRIPTS}
# whitespace runs are tokens too, so that lines (and so `//` comments) keep their extent
TOKEN = re.compile(r"\s+|\$?[A-Za-z_]\w*|\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|//[^\n]*|/\*.*?\*/|\S", re.S)
VOCABULARY = [
    # statements, operators and their property words, functions, values, punctuation, lexer edge cases
    "$a", "$b", "$x", "=", ";", ",", ".", ":", "(", ")", "[", "]", "{", "}", "[*]", "?", "?.", "&", "*", "+", "-",
    "/", "%", "==", "!=", "<", ">=", "!", "and", "or", "not", "in", "if", "as", "fn", "true", "false", "null",
    "read", "write", "from", "to", "using", "include", "filter", "where", "transform", "into", "group", "by",
    "join", "preserve", "sort", "on", "desc", "limit", "union", "all", "iterate", "times", "replace", "with",
    "pyudf", "javaudf", "cleansing", "ie", "base", "base:filter", "count", "sum", "length", "concat", "(int)",
    "0", "-1", "1.5", "1e999", "9" * 30, "''", "'x.json'", "'in.csv'", "'/'", '"', "'", "/*", "*/", "//",
    "\n", "\t", "\0", "\ufeff", "é", "$", "_", "@",
]
FUZZ = settings(max_examples=2000, derandomize=True, deadline=None, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated_scripts(draw) -> tuple[Path, str]:
    path = draw(st.sampled_from(SCRIPTS))
    tokens = [m.group(0) for m in TOKEN.finditer(TEXTS[path])]
    for _ in range(draw(st.integers(1, 6))):
        tokens = draw(_mutation(tokens))
    return path, "".join(tokens)


def _mutation(tokens: list[str]):
    at = st.integers(0, max(0, len(tokens) - 1))
    vocabulary = st.sampled_from(VOCABULARY).map(lambda word: f" {word} ")
    insert = st.tuples(at, vocabulary).map(lambda p: tokens[:p[0]] + [p[1]] + tokens[p[0]:])
    delete = at.map(lambda i: tokens[:i] + tokens[i + 1:])
    replace = st.tuples(at, vocabulary).map(lambda p: tokens[:p[0]] + [p[1]] + tokens[p[0] + 1:])
    swap = st.tuples(at, at).map(lambda p: _swapped(tokens, *p))
    duplicate = st.tuples(at, at).map(lambda p: tokens[:max(p)] + tokens[min(p):max(p)] + tokens[max(p):])
    cut = st.tuples(at, st.integers(0, 10)).map(lambda p: tokens[:p[0]] + tokens[p[0] + p[1]:])
    chars = st.tuples(at, st.text(max_size=3)).map(lambda p: _edit_chars(tokens, *p))
    return st.one_of(insert, delete, replace, swap, duplicate, cut, chars)


def _swapped(tokens: list[str], i: int, j: int) -> list[str]:
    if not tokens:
        return tokens
    result = list(tokens)
    result[i], result[j] = result[j], result[i]
    return result


def _edit_chars(tokens: list[str], i: int, text: str) -> list[str]:
    """Token ``i`` with ``text`` inserted in its middle, or with its first character dropped when ``text`` is
    empty (a quote or a brace lost inside a token)."""
    if not tokens:
        return [text]
    token = tokens[i]
    edited = token[:len(token) // 2] + text + token[len(token) // 2:] if text else token[1:]
    return tokens[:i] + [edited] + tokens[i + 1:]


@FUZZ
@given(mutated_scripts())
def test_mutated_scripts_compile_or_raise_a_meteor_error(case):
    path, text = case
    try:
        compile_script(text, path=str(path))
    except MeteorError as exc:
        assert str(exc)  # a message the CLI can print
