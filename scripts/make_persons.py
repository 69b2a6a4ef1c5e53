"""Generates dirty person records with a known truth for the cleansing package (duplicates, typos, blocks).

Usage: ``python scripts/make_persons.py N OUT.json [--seed S] [--jsonl] [--named]``. Every generated *entity* (a
real person) yields one clean record and, with probability 0.5, one to three dirty copies: a typo (one letter
replaced), two neighbouring letters swapped, an abbreviated first name (``J.``), or a birthday off by days.
Records carry ``id`` (unique), ``entity`` (the truth: equal for records of one person), ``firstName``,
``lastName``, ``birthDay`` (ISO date), ``zip`` (a block shared by about 75 records) and ``_source``.
``make_persons(n, seed)`` returns the records; ``truth_pairs(records)`` the true duplicate pairs as id pairs.

``--named`` (``make_named_persons``) writes the persons of the paper's Listing 3 instead: ``id``, ``entity``,
``name`` (full name; the first entities are people in the news of the project's corpus, e.g. ``Yasser
Arafat``), ``birthDay`` and ``_source``; a dirty copy has its birthday off by one to five days, or, for names
of 11 letters or more, one letter dropped (so that the paper's ``average(levenshtein(name), dateSim(birthDay))
> 0.95`` finds it and ``retain longest(name)`` keeps the full name).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import random
from pathlib import Path

FIRST = ["john", "mary", "peter", "anna", "michael", "sarah", "thomas", "laura", "james", "emma", "robert",
         "linda", "william", "olivia", "david", "sophia", "richard", "grace", "charles", "alice", "martha",
         "berta", "henry", "clara", "george", "helen", "frank", "irene", "walter", "julia"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "miller", "davis", "garcia", "wilson", "martinez",
        "anderson", "taylor", "thomas", "moore", "jackson", "martin", "lee", "thompson", "white", "harris",
        "clark", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "green", "baker",
        "adams", "nelson", "hill", "campbell", "mitchell", "roberts", "carter", "phillips", "evans", "turner",
        "torres", "parker", "collins", "edwards", "stewart", "morris", "murphy", "cook", "rogers"]
SOURCES = ["crm", "web", "erp"]
NEWS_NAMES = ["Osama bin Laden", "Yasser Arafat", "Ariel Sharon", "Alexander Downer", "David Hicks", "Anthony Zinni",
              "Daryl Williams", "Glenn McGrath", "Brett Lee", "George W Bush", "Shane Warne", "Shaun Pollock",
              "Andy Bichel", "Jacques Kallis", "Jason Gillespie", "Philip Ruddock", "Ricky Ponting", "Robert Hill",
              "Steve Waugh", "Donald Rumsfeld", "Matthew Hayden", "Neil McKenzie", "Peter Hollingworth",
              "Simon Crean", "Adam Gilchrist", "Allan Donald", "Colin Powell", "Hamid Karzai", "Justin Langer",
              "Mark Waugh"]


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1:]


def _swap(rng: random.Random, word: str) -> str:
    if len(word) < 2:
        return word
    i = rng.randrange(len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _dirty(rng: random.Random, record: dict) -> dict:
    """A dirty copy of ``record``: one of typo, swap, abbreviation, shifted birthday (plus another source)."""
    copy = dict(record, _source=rng.choice(SOURCES))
    kind = rng.randrange(4)
    if kind == 0:
        field = rng.choice(["firstName", "lastName"])
        copy[field] = _typo(rng, copy[field])
    elif kind == 1:
        field = rng.choice(["firstName", "lastName"])
        copy[field] = _swap(rng, copy[field])
    elif kind == 2:
        copy["firstName"] = copy["firstName"][0] + "."
    else:
        day = datetime.date.fromisoformat(copy["birthDay"]) + datetime.timedelta(days=rng.randint(1, 20))
        copy["birthDay"] = day.isoformat()
    return copy


def make_persons(n: int, seed: int = 7) -> list[dict]:
    """About ``n`` person records (ids 0..n-1 in a shuffled order) with their ``entity`` truth."""
    rng = random.Random(seed)
    records: list[dict] = []
    entity = 0
    blocks = max(1, n // 75)
    while len(records) < n:
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(60 * 365))
        clean = {"entity": entity, "firstName": rng.choice(FIRST), "lastName": rng.choice(LAST),
                 "birthDay": born.isoformat(), "zip": 10000 + rng.randrange(blocks), "_source": rng.choice(SOURCES)}
        records.append(clean)
        if rng.random() < 0.5:
            records.extend(_dirty(rng, clean) for _ in range(rng.randint(1, 3)))
        entity += 1
    records = records[:n]
    rng.shuffle(records)
    return [{"id": i, **r} for i, r in enumerate(records)]


def _named_copy(rng: random.Random, record: dict) -> dict:
    copy = dict(record, _source=rng.choice(SOURCES))
    name = copy["name"]
    if len(name) >= 11 and rng.random() < 0.5:
        i = rng.randrange(1, len(name))
        copy["name"] = name[:i] + name[i + 1:]
    else:
        day = datetime.date.fromisoformat(copy["birthDay"]) + datetime.timedelta(days=rng.randint(1, 5))
        copy["birthDay"] = day.isoformat()
    return copy


def make_named_persons(n: int, seed: int = 7) -> list[dict]:
    """About ``n`` records of named persons (``NEWS_NAMES`` first, then generated names) with dirty copies."""
    rng = random.Random(seed)
    records: list[dict] = []
    entity = 0
    while len(records) < n:
        name = NEWS_NAMES[entity] if entity < len(NEWS_NAMES) else \
            f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"
        born = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(50 * 365))
        clean = {"entity": entity, "name": name, "birthDay": born.isoformat(), "_source": rng.choice(SOURCES)}
        records.append(clean)
        if rng.random() < 0.5:
            records.extend(_named_copy(rng, clean) for _ in range(rng.randint(1, 3)))
        entity += 1
    records = records[:n]
    rng.shuffle(records)
    return [{"id": i, **r} for i, r in enumerate(records)]


def truth_pairs(records: list[dict]) -> set[tuple[int, int]]:
    """The true duplicate pairs ``(smaller id, larger id)``: records of one entity."""
    by_entity: dict[int, list[int]] = {}
    for r in records:
        by_entity.setdefault(r["entity"], []).append(r["id"])
    return {tuple(sorted(p)) for ids in by_entity.values() for p in itertools.combinations(ids, 2)}


def main() -> None:
    """Command line: write the records as a JSON array (or JSON Lines with --jsonl)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jsonl", action="store_true")
    parser.add_argument("--named", action="store_true", help="full names and birthdays (the paper's Listing 3)")
    args = parser.parse_args()
    records = (make_named_persons if args.named else make_persons)(args.n, args.seed)
    text = "\n".join(json.dumps(r) for r in records) + "\n" if args.jsonl else json.dumps(records)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
