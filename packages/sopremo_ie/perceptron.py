"""Greedy averaged-perceptron part-of-speech tagger whose weights are plain JSON (no pickle).

The model is Collins' averaged perceptron (EMNLP 2002) with the greedy left-to-right feature set Honnibal
published for ``textblob-aptagger`` (2013), the tagger NLTK also ships: the word, its 3-letter suffix and first
letter, the two previous tags, and the neighbouring words and suffixes. Frequent unambiguous words are looked up
in a tag dictionary instead. ``PerceptronTagger.load`` reads ``{weights, tagdict, classes}`` from a (gzip'd) JSON
file; ``PerceptronTagger.train`` learns a model from tagged sentences and ``to_json`` writes it back.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from typing import Iterable

START = ("-START-", "-START2-")
END = ("-END-", "-END2-")

# The model was trained on Penn Treebank tokens: straight double quotes are `` or '' there, brackets -LRB-/-RRB-.
_BRACKETS = {"(": "-LRB-", "[": "-LRB-", "{": "-LRB-", ")": "-RRB-", "]": "-RRB-", "}": "-RRB-",
             "“": "``", "”": "''", "‘": "`", "’": "'"}


def treebank_words(words: Iterable[str]) -> list[str]:
    """``words`` as the Penn Treebank writes them: ``"`` alternates `````/``''``, brackets become -LRB-/-RRB-."""
    out, quoted = [], False
    for word in words:
        if word == '"':
            out.append("''" if quoted else "``")
            quoted = not quoted
        else:
            out.append(_BRACKETS.get(word, word))
    return out


def normalize(word: str) -> str:
    """The word feature: ``!HYPHEN`` (inner hyphen), ``!YEAR`` (4 digits), ``!DIGITS`` (leading digit), else
    the lower-cased word."""
    if "-" in word and word[0] != "-":
        return "!HYPHEN"
    if word.isdigit() and len(word) == 4:
        return "!YEAR"
    if word[0].isdigit():
        return "!DIGITS"
    return word.lower()


def features(i: int, word: str, context: list[str], prev: str, prev2: str) -> list[str]:
    """Feature names of the word at position ``i`` (``context`` holds the normalised sentence between START
    and END padding, so the word itself is ``context[i + 2]``)."""
    i += 2
    here = context[i]
    return ["bias", "i suffix " + word[-3:], "i pref1 " + word[0], "i-1 tag " + prev, "i-2 tag " + prev2,
            f"i tag+i-2 tag {prev} {prev2}", "i word " + here, f"i-1 tag+i word {prev} {here}",
            "i-1 word " + context[i - 1], "i-1 suffix " + context[i - 1][-3:], "i-2 word " + context[i - 2],
            "i+1 word " + context[i + 1], "i+1 suffix " + context[i + 1][-3:], "i+2 word " + context[i + 2]]


class PerceptronTagger:
    """Tags tokenised sentences with Penn Treebank tags (or whatever tag set the weights were trained on).

    ``weights``: feature name -> {tag: weight}; ``tagdict``: word -> its only tag; ``classes``: all tags.
    """

    def __init__(self, weights: dict[str, dict[str, float]], tagdict: dict[str, str], classes: Iterable[str]):
        self.weights, self.tagdict = weights, tagdict
        self.classes = sorted(classes)

    @classmethod
    def from_json(cls, data: dict) -> "PerceptronTagger":
        """A tagger from ``{"weights": ..., "tagdict": ..., "classes": [...]}``; ValueError when keys lack."""
        missing = {"weights", "tagdict", "classes"} - set(data)
        if missing:
            raise ValueError(f"perceptron model lacks {', '.join(sorted(missing))}")
        return cls(data["weights"], data["tagdict"], data["classes"])

    @classmethod
    def load(cls, raw: bytes) -> "PerceptronTagger":
        """A tagger from the bytes of a JSON model file, gzip'd or not (no pickle involved)."""
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return cls.from_json(json.loads(raw.decode("utf-8")))

    def to_json(self) -> dict:
        """The model as JSON-ready data (the inverse of ``from_json``)."""
        return {"classes": self.classes, "tagdict": self.tagdict, "weights": self.weights}

    def predict(self, feats: list[str]) -> str:
        """The tag of highest score for ``feats`` (ties broken by the tag's name, as in Honnibal's code)."""
        scores: dict[str, float] = defaultdict(float)
        weights = self.weights
        for feat in feats:
            row = weights.get(feat)
            if row:
                for tag, weight in row.items():
                    scores[tag] += weight
        return max(self.classes, key=lambda tag: (scores[tag], tag))

    def tag(self, words: list[str]) -> list[str]:
        """One tag per word of one sentence (``words`` already in treebank form: see ``treebank_words``)."""
        context = [*START, *(normalize(w) for w in words), *END]
        prev, prev2 = START
        tags = []
        for i, word in enumerate(words):
            tag = self.tagdict.get(word) or self.predict(features(i, word, context, prev, prev2))
            tags.append(tag)
            prev2, prev = prev, tag
        return tags

    @classmethod
    def train(cls, sentences: list[tuple[list[str], list[str]]], iterations: int = 5,
              seed: int = 0) -> "PerceptronTagger":
        """A model trained on ``(words, tags)`` pairs: averaged perceptron updates over ``iterations`` shuffled
        passes, weights averaged over all steps and rounded to 3 decimals (Collins 2002)."""
        sentences = list(sentences)
        tagdict, classes = _tag_dictionary(sentences)
        learner = _Learner(cls({}, tagdict, classes))
        rng = random.Random(seed)
        for _ in range(iterations):
            for words, tags in sentences:
                learner.learn(words, tags)
            rng.shuffle(sentences)
        return learner.averaged()


def _tag_dictionary(sentences: list[tuple[list[str], list[str]]]) -> tuple[dict[str, str], set[str]]:
    """Words seen at least 20 times with one tag 97% of the time -> that tag; and the set of all tags."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    classes: set[str] = set()
    for words, tags in sentences:
        for word, tag in zip(words, tags):
            counts[word][tag] += 1
            classes.add(tag)
    tagdict = {}
    for word, freqs in counts.items():
        tag, mode = max(freqs.items(), key=lambda item: item[1])
        total = sum(freqs.values())
        if total >= 20 and mode / total >= 0.97:
            tagdict[word] = tag
    return tagdict, classes


class _Learner:
    """Perceptron updates with lazily accumulated totals for averaging (Honnibal's timestamp trick)."""

    def __init__(self, model: PerceptronTagger):
        self.model, self.step = model, 0
        self.totals: dict[tuple[str, str], float] = defaultdict(float)
        self.stamps: dict[tuple[str, str], int] = defaultdict(int)

    def learn(self, words: list[str], gold: list[str]) -> None:
        context = [*START, *(normalize(w) for w in words), *END]
        prev, prev2 = START
        for i, word in enumerate(words):
            guess = self.model.tagdict.get(word)
            if not guess:
                feats = features(i, word, context, prev, prev2)
                guess = self.model.predict(feats)
                self.update(gold[i], guess, feats)
            prev2, prev = prev, guess

    def update(self, truth: str, guess: str, feats: list[str]) -> None:
        self.step += 1
        if truth == guess:
            return
        for feat in feats:
            row = self.model.weights.setdefault(feat, {})
            for tag, delta in ((truth, 1.0), (guess, -1.0)):
                key = (feat, tag)
                weight = row.get(tag, 0.0)
                self.totals[key] += (self.step - self.stamps[key]) * weight
                self.stamps[key] = self.step
                row[tag] = weight + delta

    def averaged(self) -> PerceptronTagger:
        steps = max(self.step, 1)
        for feat, row in self.model.weights.items():
            averaged = {}
            for tag, weight in row.items():
                key = (feat, tag)
                total = self.totals[key] + (self.step - self.stamps[key]) * weight
                value = round(total / steps, 3)
                if value:
                    averaged[tag] = value
            self.model.weights[feat] = averaged
        return self.model
