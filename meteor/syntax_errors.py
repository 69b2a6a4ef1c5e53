"""Turns Lark parse errors into MeteorSyntaxError: what was found, the expected words in plain terms, hints.

The expected set is computed from the parser's actual stack (not the merged LALR look-aheads), then phrased
for people: ``';'``, ``'where'``, ``a $variable``, ``an expression``. Hints cover misspelled keywords and
operators (did-you-mean over the operators and property words in scope), chained comparisons and malformed
object entries (docs/language.md, "Errors").
"""

from __future__ import annotations

import re
from copy import copy


from meteor.errors import MeteorSyntaxError, did_you_mean, plain_list, source_line, using_hint
from meteor.grammar import operators_in_scope
from meteor.lark_runtime import PatternStr, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from sopremo.registry import suggest

_NAMED = {
    "VARIABLE": "a $variable", "NAME": "a name", "STRING": "a string", "INT": "a number", "DECIMAL": "a number",
    "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'", "PREFIX_OP": "a prefix operator",
    "CAST": "a cast such as (int)", "QUAL": "a package prefix", "QNAME": "a package:name", "UDF_KIND": "'pyudf'",
    "QFUNC": "a package:function call", "$END": "the end of the script",
}
_WHOLE_WORDS = re.compile(r"(\w+(?:\\s\+\w+)*)\\b")
_VALUE_START = {"VARIABLE", "NAME", "STRING", "INT", "DECIMAL", "'true'", "'false'", "'null'", "'('", "'['",
                "'{'", "'fn'", "'&'", "'-'", "PREFIX_OP", "CAST", "'not'", "QFUNC", "QUAL"}
_CONTINUE = {"ADD_OP", "MUL_OP", "COMP_OP", "'.'", "'?.'", "'['", "'?'", "'if'", "'or'", "'||'", "'and'",
             "'&&'", "'in'", "'not'", "'as'"}


def _accepts(state) -> set[str]:
    """Terminals the parser in ``state`` can really shift next (simulating the reductions)."""
    result = set()
    for terminal in state.parse_conf.parse_table.states[state.position]:
        if not terminal.isupper():
            continue
        trial = copy(state)
        try:
            trial.feed_token(Token(terminal, ""), terminal == "$END")
        except UnexpectedInput:
            continue
        except Exception:  # a reduction callback building a tree from the dummy token
            pass
        result.add(terminal)
    return result


def _expected_terminals(exc: UnexpectedInput) -> set[str]:
    state = getattr(exc, "state", None)
    if state is None and getattr(exc, "interactive_parser", None) is not None:
        state = exc.interactive_parser.parser_state
    if state is not None and hasattr(state, "parse_conf"):
        try:
            return _accepts(state)
        except Exception:  # fall back to the look-ahead set Lark reported
            pass
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _readable(terminal: str, lark) -> str:
    if terminal in _NAMED:
        return _NAMED[terminal]
    try:
        pattern = lark.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    words = _WHOLE_WORDS.fullmatch(pattern.value)  # meteor.grammar's whole-word terminals: /and\s+type\b/
    return "'" + re.sub(r"\\s\+", " ", words.group(1)) + "'" if words else terminal.lower()


def phrase_expected(terminals: set[str], lark) -> list[str]:
    """Plain words for ``terminals``: keywords and punctuation, then 'an expression' / 'an operator'."""
    words = {t: _readable(t, lark) for t in terminals}
    shown = set(words.values())
    value_start = {w for w in shown if w in _VALUE_START or w in {_NAMED.get(k) for k in _VALUE_START}}
    continuation = {w for w in shown if w in _CONTINUE or w in {_NAMED.get(k) for k in _CONTINUE}}
    tail = []
    if len(value_start) >= 4:
        shown -= value_start
        tail.append("an expression")
    if len(continuation) >= 4:
        shown -= continuation
        tail.append("an operator such as '+' or 'and'")
    end = [w for w in shown if w == _NAMED["$END"]]
    keywords = sorted(w for w in shown if w.startswith("'") and w[1:2].isalpha())
    punctuation = sorted(w for w in shown if w.startswith("'") and not w[1:2].isalpha())
    others = sorted(w for w in shown if not w.startswith("'") and w not in end)
    return punctuation + keywords + others + tail + end


def _found(token: Token) -> str:
    if token.type == "$END":
        return "end of script"
    if token.type == "VARIABLE":
        return f"variable {token}"
    if token.type == "STRING":
        return f"string {token}"
    return f"'{token}'"


def _previous_name(text: str, pos: int) -> re.Match | None:
    """The bare identifier right before offset ``pos`` (not a field, variable or package part), as group 1."""
    return re.search(r"(?<![\w$.:])([A-Za-z_]\w*)\s*$", text[:pos])


def _operator_words(text: str, pos: int) -> re.Match | None:
    """The words of an operator call that offset ``pos`` is in or right after, as group 1: 'detect duplicates'
    in '$b = detect duplicates $a' for the offset of 'duplicates' or of '$a'."""
    start = max(text.rfind("=", 0, pos), text.rfind(";", 0, pos)) + 1
    m = _WORDS.match(text, start)
    return m if m and m.start(1) < pos <= m.end() else None


_WORDS = re.compile(r"\s*((?:[A-Za-z_]\w*[ \t]+)*?[A-Za-z_]\w*)\s*(?=\$)")
Hint = tuple[str, list[str], "int | None"]  # hint text, suggestions, offset the caret points at (None: the token)


def _hints(token: Token, expected: list[str], text: str, scope) -> Hint:
    """(hint text, suggestions, caret offset) for the unexpected ``token``."""
    keywords = [w[1:-1] for w in expected if w.startswith("'") and w[1:2].isalpha()]
    if token.type in ("VARIABLE", "NAME") and token.start_pos is not None:
        words = _operator_words(text, token.start_pos)
        verb = " ".join(words.group(1).split()) if words else ""
        if verb and (hint := using_hint(scope, "operators", verb)):
            return f"unknown operator '{verb}'{hint}", [], words.start(1)
    if token.type == "VARIABLE" and token.start_pos is not None:
        prev = _previous_name(text, token.start_pos)
        if prev is not None:
            verbs = [cls.verb for cls in operators_in_scope(scope)]
            close = suggest(prev.group(1), verbs)
            known = "" if close else f" (operators in scope: {', '.join(sorted(verbs))})"
            return f"unknown operator '{prev.group(1)}'{did_you_mean(close)}{known}", close, prev.start(1)
    if token.type == "NAME" and keywords:
        close = suggest(str(token), keywords)
        if close:
            return did_you_mean(close)[2:], close, None
    if token.type == "COMP_OP" and "a comparison" not in expected:
        return "comparisons do not chain: write 'a < b and b < c'", [], None
    if "':'" in expected and token.type == "LPAR":
        return ("an object entry is 'name: value', '$var.path' or '$var.*'; "
                "name a computed value: '{ name: f(...) }'"), [], None
    before = text[:token.start_pos] if token.start_pos is not None else ""
    if (m := re.search(r"\(\s*([A-Za-z_]\w*)\s*\)\s*$", before)):
        from sopremo.types import TYPE_NAMES

        close = suggest(m.group(1), list(TYPE_NAMES))
        return f"'({m.group(1)})' is no known type for a cast{did_you_mean(close)}", close, None
    if "';'" in expected and before.rstrip().count("\n") < before.count("\n"):
        return "missing ';' at the end of the previous statement?", [], None
    if token.type in ("NAME", "STRING", "VARIABLE", "INT", "DECIMAL") and "','" in expected:
        for closer, what in (("'}'", "object entries"), ("']'", "array elements"), ("')'", "arguments")):
            if closer in expected:
                return f"missing ',' between {what}?", [], None
    return "", [], None


_STRINGS = re.compile(r"//[^\n]*|/\*.*?\*/|'[^']*'|\"[^\"]*\"", re.S)


def _runaway_string(text: str, token: Token, line: int) -> int | None:
    """The offset of a string that spans lines and ends on ``line``, the line of the unexpected ``token``:
    most likely a quote left open earlier that swallowed the text up to the next quote."""
    end = token.start_pos if token.start_pos is not None else len(text)
    last = None
    for match in _STRINGS.finditer(text, 0, end):
        if match.group(0)[0] in "'\"":
            last = match
    if last is None or "\n" not in last.group(0) or text.count("\n", 0, last.end()) + 1 != line:
        return None
    return last.start()


def _position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), both 1-based, of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    return line, len(stripped) - (stripped.rfind("\n") + 1) + 1


def syntax_error(exc: UnexpectedInput, text: str, path: str | None, lark, scope) -> MeteorSyntaxError:
    """A MeteorSyntaxError for the Lark error ``exc`` raised while parsing ``text``."""
    expected = phrase_expected(_expected_terminals(exc), lark)
    if isinstance(exc, UnexpectedCharacters):
        line, column = exc.line, exc.column
        message = f"unexpected character {text[exc.pos_in_stream]!r}; expected {plain_list(expected)}"
        if text[exc.pos_in_stream] in "'\"":
            message = f"unterminated string: no closing {text[exc.pos_in_stream]} before the end of the script"
        return MeteorSyntaxError(message, path=path, line=line, column=column, expected=expected,
                                 source_line=source_line(text, line))
    token = exc.token if isinstance(exc, UnexpectedToken) else Token("$END", "")
    if token.type == "$END":
        line, column = _end_position(text)
    else:
        line, column = token.line, token.column
    if (runaway := _runaway_string(text, token, line)) is not None:
        start_line, start_column = _position(text, runaway)
        quote = text[runaway]
        message = (f"unterminated string? the string starting here runs to a {quote} on line {line}, where "
                   f"{_found(token)} is unexpected: is its closing {quote} missing?")
        return MeteorSyntaxError(message, path=path, line=start_line, column=start_column, expected=expected,
                                 source_line=source_line(text, start_line))
    hint, suggestions, caret = _hints(token, expected, text, scope)
    if hint.startswith("unknown operator"):
        message = hint
        if caret is not None:
            line, column = _position(text, caret)
    else:
        message = f"unexpected {_found(token)}; expected {plain_list(expected)}"
        if hint:
            message += f"; {hint}"
    return MeteorSyntaxError(message, path=path, line=line, column=column, expected=expected,
                             suggestions=suggestions, source_line=source_line(text, line))
