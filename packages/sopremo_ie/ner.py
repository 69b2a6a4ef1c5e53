"""Named-entity recognition on plain text: rules with gazetteers and titles, regular expressions, dictionaries.

``rule_entities`` finds persons, organizations, locations and dates: dates by patterns; names as runs of
capitalised tokens (``bin``, ``de``, ``of`` ... may join them) typed by, in order, the curated and geonames
gazetteers, organisation and location cue words (``Party``, ``Highway``), titles (``Prime Minister``, ``Mr``,
``spokesman``) before or inside the run, census first names, and the shape of unknown names; a single name that
repeats the last name of a person found in the same text is that person (``Howard`` after ``John Howard``).
Each function returns ``(start, end, entityType)`` spans into the text.

Relations between the entities of one sentence: ``cooccurrence`` relates every pair in text order (predicate
``'cooccurs with'``); ``pattern`` relates two consecutive entities when the tokens between them hold a verb
(``VB*``/``MD``) and no third entity: the predicate is the text from that verb up to the object, without a
trailing determiner (``'met with'``, ``'was sold to'``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Iterable

from . import resources

Entity = tuple[int, int, str]
CONNECTORS = frozenset({"bin", "al", "de", "da", "van", "von", "der", "den", "la", "le", "du", "el", "of", "di",
                        "ibn", "abu"})
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)")
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DATE = re.compile(rf"""\b(?:
    {_DAY}(?:,?\s+{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?)?
  | \d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?
  | {_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s+\d{{4}})?(?!\d)
  | {_MONTH}(?:\s+\d{{4}})?
  | (?:19|20)\d{{2}}(?![\d,.]\d)
)(?!\w)""", re.VERBOSE)


def rule_entities(text: str, sentences: list[list[tuple[int, int]]]) -> list[Entity]:
    """Persons, organizations, locations and dates in ``text`` whose tokens per sentence are ``sentences``."""
    dates = [(m.start(), m.end(), "date") for m in DATE.finditer(text)]
    in_date = _covered(dates)
    found: list[Entity] = []
    leftovers: list[tuple[int, int]] = []
    for spans in sentences:
        words = [text[s:e] for s, e in spans]
        for first, last, lead in _runs(words, [in_date(s) for s, _ in spans]):
            typed = _classify(words, first, last, lead)
            if typed:
                found += [(spans[a][0], spans[b - 1][1], kind) for a, b, kind in typed]
            elif last - first == 1:
                leftovers.append((spans[first][0], spans[last - 1][1]))
    return sorted(_corefer(text, found, leftovers) + dates)


def _covered(spans: list[Entity]):
    starts = [(s, e) for s, e, _ in spans]
    return lambda pos: any(s <= pos < e for s, e in starts)


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and any(ch.isalpha() for ch in word)


def _runs(words: list[str], dated: list[bool]) -> Iterable[tuple[int, int, str | None]]:
    """(first, last + 1, lower-case word before) of each run of capitalised words outside dates."""
    i = 0
    while i < len(words):
        if not _capitalised(words[i]) or dated[i]:
            i += 1
            continue
        j = i + 1
        while j < len(words) and not dated[j] and (
                _capitalised(words[j]) or (words[j] in CONNECTORS and j + 1 < len(words)
                                           and _capitalised(words[j + 1]))):
            j += 1
        before = words[i - 1] if i > 0 and not _capitalised(words[i - 1]) else None
        yield i, j, before
        i = j


def _classify(words: list[str], first: int, last: int, lead: str | None) -> list[tuple[int, int, str]]:
    """Typed sub-spans of the run ``words[first:last]`` (titles split it; leading noise words are dropped)."""
    gaz = resources.gazetteer()
    titled = _title_split(words, first, last)
    while titled is None and first < last and not _listed(" ".join(words[first:last])) and (
            words[first] in gaz["not_names"] or words[first] in CONNECTORS
            or (first == 0 and _common(words[first]) and words[first] not in resources.first_names())):
        first += 1
    if first >= last:
        return []
    if titled is not None:
        cut, after = titled
        left = _classify(words, first, cut, lead) if cut > first else []
        return left + ([(after, last, "person")] if after < last else [])
    peeled = _peel_place(words, first, last)
    if peeled is not None:
        return [(first, peeled, "location"), (peeled, last, "person")]
    kind = _type_of(words[first:last], lead)
    return [(first, last, kind)] if kind else []


def _peel_place(words: list[str], first: int, last: int) -> int | None:
    """The end of a leading place name (one or two words) followed by a person's name, else None
    (``Afghanistan Lakhdar Brahimi``)."""
    places = resources.place_names()
    for size in (2, 1):
        if last - first - size >= 2 and " ".join(words[first:first + size]) in places \
                and _looks_like_person(words[first + size:last]):
            return first + size
    return None


def _listed(name: str) -> bool:
    """A name of the gazetteers (places, organisations, known entities): never trimmed."""
    return (name in resources.place_names() or name in resources.gazetteer()["organizations"]
            or name in resources.known_entities())


def _title_split(words: list[str], first: int, last: int) -> tuple[int, int] | None:
    """(start of a title, end of it) for the first title inside the run followed by a name, else None."""
    titles = resources.gazetteer()["titles"]
    for i in range(first, last):
        for size in (3, 2, 1):
            title = " ".join(w.rstrip(".") for w in words[i:i + size])
            if i + size < last and title in titles and _capitalised(words[i + size]):
                return i, i + size
    return None


def _type_of(run: list[str], lead: str | None) -> str | None:
    gaz = resources.gazetteer()
    name = " ".join(run)
    known = resources.known_entities().get(name)
    if name in gaz["organizations"] or known == "organization":
        return "organization"
    if name in gaz["locations"] or known == "location":
        return "location"
    if run[-1] in gaz["org_suffixes"] or any(name.startswith(p + " ") for p in gaz["org_prefixes"]):
        return "organization" if len(run) > 1 else None
    if len(run) > 1 and (run[-1] in gaz["location_suffixes"] or run[0] in gaz["location_prefixes"]) \
            or name in resources.place_names():
        return "location"
    if "of" in run:
        return "organization"
    if known == "person" or (lead is not None and lead.rstrip(".").lower() in _lower_titles()):
        return "person"
    if all(w in gaz["nationalities"] or w in gaz["not_names"] for w in run):
        return None
    return "person" if _looks_like_person(run) else None


def _looks_like_person(run: list[str]) -> bool:
    """A run of 2-4 names: a census first name first, or no common word and a name-shaped last word."""
    names = [w for w in run if w not in CONNECTORS]
    if not 2 <= len(names) <= 4 or any(w.isupper() and len(w) > 1 for w in names):
        return False
    if names[0] in resources.first_names() and (not _common(names[-1]) or names[-1] in resources.last_names()):
        return True
    if len(names) < len(run) and run[0] not in CONNECTORS:
        return True  # Osama bin Laden, Ludwig van Beethoven
    return not any(_common(w) for w in names) and names[-1] not in resources.gazetteer()["nationalities"]


@cache
def _lower_titles() -> frozenset[str]:
    """The titles of the gazetteer in lower case (a title before a run may be written in lower case)."""
    return frozenset(t.lower() for t in resources.gazetteer()["titles"])


def _common(word: str) -> bool:
    """A word the Brill lexicon knows in lower case (``Top``, ``Bush``, ``Police``)."""
    return word.lower() in resources.common_words()


def _corefer(text: str, found: list[Entity], leftovers: list[tuple[int, int]]) -> list[Entity]:
    """Single names (leftovers or typed as places) that repeat a found person's last name become persons."""
    surnames = {text[s:e].split()[-1] for s, e, kind in found if kind == "person" and " " in text[s:e]}
    out = [(s, e, "person") if kind == "location" and text[s:e] in surnames else (s, e, kind)
           for s, e, kind in found]
    return out + [(s, e, "person") for s, e in leftovers if text[s:e] in surnames]


def pattern_entities(text: str, patterns: list[re.Pattern], kind: str) -> list[Entity]:
    """Matches of ``patterns`` in ``text`` (group 1 when the pattern has a group), typed ``kind``."""
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            span = match.span(1) if pattern.groups else match.span()
            if span[1] > span[0]:
                found.append((span[0], span[1], kind))
    return sorted(set(found))


def dictionary_pattern(names: list[str]) -> re.Pattern:
    """One regex matching any of ``names`` as whole words, longest names first."""
    alternatives = sorted({n for n in names if n}, key=len, reverse=True)
    body = "|".join(re.escape(n) for n in alternatives) or r"(?!x)x"
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


# ---- relations ------------------------------------------------------------------------------------------------

RELATION_ALGORITHMS = ("cooccurrence", "pattern")
COOCCURS = "cooccurs with"
MAX_GAP = 8  # tokens between subject and object in a pattern relation
_DROP_AT_END = frozenset({"DT", "PRP$", ",", "CC", "``", "''", ":", "JJ", "CD"})

Mention = tuple[int, int, str, str]  # (start, end, text, type) of an entity
Relation = tuple[Mention, str, Mention]


def cooccurrence(entities: list[Mention]) -> Iterable[Relation]:
    """Every pair ``(a, b)`` of distinct-text entities of one sentence with ``a`` before ``b``."""
    for i, left in enumerate(entities):
        for right in entities[i + 1:]:
            if left[2] != right[2]:
                yield left, COOCCURS, right


def pattern(text: str, entities: list[Mention], tagged: list[tuple[int, int, str]]) -> Iterable[Relation]:
    """Consecutive entities joined by a verb phrase; ``tagged`` holds the sentence's ``(start, end, tag)``."""
    for left, right in zip(entities, entities[1:]):
        between = [t for t in tagged if left[1] <= t[0] and t[1] <= right[0]]
        if not between or len(between) > MAX_GAP:
            continue
        verbs = [i for i, t in enumerate(between) if t[2].startswith("VB") or t[2] == "MD"]
        if not verbs:
            continue
        words = between[verbs[0]:]
        while words and words[-1][2] in _DROP_AT_END:
            words = words[:-1]
        if words:
            yield left, text[words[0][0]:words[-1][1]], right


def in_sentences(entities: list[Mention], sentences: list[tuple[int, int]]) -> list[list[Mention]]:
    """The entities of each sentence (an entity belongs to the sentence holding its start), in text order."""
    grouped: list[list[Mention]] = [[] for _ in sentences]
    for entity in sorted(entities):
        for index, (s, e) in enumerate(sentences):
            if s <= entity[0] < e:
                grouped[index].append(entity)
                break
    return grouped


def sentence_index(sentences: list[tuple[int, int]], start: int) -> int | None:
    """The index of the sentence holding offset ``start`` (None when it is in none)."""
    for index, (s, e) in enumerate(sentences):
        if s <= start < e:
            return index
    return None
