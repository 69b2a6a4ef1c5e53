"""Text analysis on plain strings with character offsets: sentences, tokens, POS tags, chunks, n-grams, stopwords.

Every function returns spans ``(start, end)`` into the text it was given (end exclusive), so the operators can
turn them into annotations without re-searching the text. No Meteor or record types here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Iterable

from . import resources
from .perceptron import treebank_words

Span = tuple[int, int]

SENTENCE_ALGORITHMS = ("punkt", "morphAdorner", "regex")
DEFAULT_SENTENCE_PATTERN = r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+"

# Words with inner apostrophes/hyphens/periods, numbers with separators, clitics split off as in the
# Penn Treebank ("do" + "n't", "Howard" + "'s"), any other non-space character alone.
_TOKEN = re.compile(r"""
    (?:[A-Za-z]\.){2,}(?![A-Za-z])            # U.S. a.m.
  | [$€£]?\d+(?:[.,:/]\d+)*%?                  # 1,000  4:00  3.5%  $20
  | [A-Za-z]+(?=n['’]t\b)                       # do(n't)
  | n['’]t\b
  | ['’](?:s|S|re|ve|ll|d|m|D|M)\b            # 's 're 've
  | \w+(?:-\w+|['’](?!(?:s|S|re|ve|ll|d|m)\b)\w+)*  # words, rock-hard, O'Brien (not Howard's)
  | \.\.\.|--|\S                                # ellipsis, dash, any other character
""", re.VERBOSE)


def sentences(text: str, algorithm: str = "punkt", pattern: str | None = None) -> list[Span]:
    """Sentence spans of ``text`` (leading/trailing spaces excluded).

    ``algorithm``: 'punkt' (default; the English Punkt model) or its alias 'morphAdorner', or 'regex'
    (sentences end where ``pattern`` matches; default: white space after ``.!?`` and closing quotes).
    Raises ValueError for an unknown algorithm or an invalid pattern.
    """
    name = algorithm.lower()
    if name in ("punkt", "morphadorner"):
        return [(s, e) for s, e in resources.punkt_tokenizer().span_tokenize(text)]
    if name == "regex":
        return _regex_sentences(text, _compiled(pattern or DEFAULT_SENTENCE_PATTERN))
    raise ValueError(f"unknown sentence algorithm {algorithm!r}; use one of {', '.join(SENTENCE_ALGORITHMS)}")


@cache
def _compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def _regex_sentences(text: str, separator: re.Pattern) -> list[Span]:
    spans, start = [], 0
    for match in separator.finditer(text):
        if match.end() > match.start():
            spans.append((start, match.start()))
            start = match.end()
    spans.append((start, len(text)))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s[1] > s[0]]


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Token spans of ``text[start:end]`` (offsets into ``text``), Penn Treebank style.

    A period right after a word joins it when the English Punkt model knows the word as an abbreviation
    (``Mr.``, ``Jan.``) and the period does not end the span.
    """
    end = len(text) if end is None else end
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    return _join_abbreviations(text, spans, end)


def _join_abbreviations(text: str, spans: list[Span], end: int) -> list[Span]:
    known = resources.abbreviations()
    out: list[Span] = []
    i = 0
    while i < len(spans):
        s, e = spans[i]
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        if (nxt is not None and nxt[0] == e and text[e] == "." and nxt[1] < end
                and text[s:e].lower() in known):
            out.append((s, e + 1))
            i += 2
            continue
        out.append((s, e))
        i += 1
    return out


POS_ALGORITHMS = ("perceptron", "brill")


def pos_tags(words: list[str], algorithm: str = "perceptron") -> list[str]:
    """Penn Treebank tags of ``words`` (one sentence).

    ``algorithm``: 'perceptron' (default; the averaged-perceptron tagger of ``data/perceptron-en.json.gz``;
    opening and closing quotes get the tags `` and '', brackets -LRB- and -RRB-, as in the Treebank) or 'brill'
    (Brill's tagger: lexicon, lexical rules for unknown words, then contextual rules, from ``textblob``).
    Raises ValueError for another algorithm.
    """
    if not words:
        return []
    name = algorithm.lower()
    if name == "perceptron":
        return resources.perceptron_tagger().tag(treebank_words(words))
    if name != "brill":
        raise ValueError(f"unknown tagger {algorithm!r}; use one of {', '.join(POS_ALGORITHMS)}")
    lexicon = resources.brill_lexicon()
    tagged = resources.brill_find_tags()(list(words), lexicon=lexicon, morphology=lexicon.morphology,
                                         context=lexicon.context, default=("NN", "NNP", "CD"))
    return [tag for _, tag in tagged]


DEFAULT_CHUNK_GRAMMAR = r"""
NP: {<DT|PRP\$|CD>*<JJ.*|VBN|VBG>*<NN.*>+}
NP: {<PRP>}
VP: {<MD>?<VB.*>*<RB.*>*<VB.*>+<RP>?}
PP: {<IN|TO>}
"""
_RULE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:\s*\{(.*)\}\s*$")


@cache
def chunk_rules(grammar: str) -> tuple[tuple[str, re.Pattern], ...]:
    """Compiled rules ``LABEL: {<TAG>...}`` of a regexp chunk grammar (one rule per line, applied in order).

    Tag patterns are regular expressions over tags written ``<...>`` as in NLTK's RegexpParser.
    Raises ValueError naming the line that is no rule.
    """
    rules = []
    for line in grammar.strip().splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _RULE.match(line)
        if match is None:
            raise ValueError(f"chunk grammar: {line.strip()!r} is no rule such as NP: {{<DT>?<NN.*>+}}")
        body = re.sub(r"<([^>]+)>", _tag_group, match.group(2).replace(" ", ""))
        rules.append((match.group(1), _compiled(body)))
    return tuple(rules)


def _tag_group(match: re.Match) -> str:
    """``<NN.*>`` -> a group matching one whole tag (``.`` never crosses a tag boundary, as in NLTK)."""
    inner = re.sub(r"(?<!\\)\.", "[^<>|]", match.group(1))
    return "(?:<(?:" + inner + ")>)"


def chunks(tags: list[str], grammar: str = DEFAULT_CHUNK_GRAMMAR) -> list[tuple[str, int, int]]:
    """(label, first token, last token + 1) of the chunks of one sentence's ``tags``; rules apply in order and
    never overlap an earlier chunk (the cascade of a regexp chunker)."""
    taken = [False] * len(tags)
    found: list[tuple[str, int, int]] = []
    for label, rule in chunk_rules(grammar):
        text, starts = _tag_string(tags, taken)
        for match in rule.finditer(text):
            first, last = starts.get(match.start()), starts.get(match.end(), len(tags))
            if first is None or match.end() == match.start():
                continue
            found.append((label, first, last))
            for i in range(first, last):
                taken[i] = True
    return sorted(found, key=lambda c: c[1])


def _tag_string(tags: list[str], taken: list[bool]) -> tuple[str, dict[int, int]]:
    """``<DT><NN>...`` with taken tokens masked by ``|``; char offset -> token index."""
    parts, starts, offset = [], {}, 0
    for i, (tag, used) in enumerate(zip(tags, taken)):
        starts[offset] = i
        piece = "|" if used else f"<{tag}>"
        parts.append(piece)
        offset += len(piece)
    starts[offset] = len(tags)
    return "".join(parts), starts


def ngrams(spans: list[Span], size: int) -> Iterable[tuple[int, int]]:
    """(index of first, index past last) of every run of ``size`` consecutive spans."""
    return ((i, i + size) for i in range(len(spans) - size + 1))


def is_word(text: str) -> bool:
    """True for a token holding a letter or digit (n-grams and stopwords skip punctuation)."""
    return any(ch.isalnum() for ch in text)
