"""examples/paper/listing3.meteor (the paper's Listing 3) on three shipped articles and generated dirty persons:
every mentioned person that the person file knows appears once, with its articles, duplicates removed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("rapidfuzz")

from meteor import api  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [
    {"url": "a1", "text": "Palestinian leader Yasser Arafat met Israeli Prime Minister Ariel Sharon in Jerusalem on "
                          "Tuesday. Arafat said the talks were useful."},
    {"url": "a2", "text": "Australian leg-spinner Shane Warne took five wickets in Hobart. Captain Steve Waugh "
                          "praised the bowlers after the match."},
    {"url": "a3", "text": "Ariel Sharon told reporters in Tel Aviv that the army would stay. Yasser Arafat was not "
                          "available for comment."},
]


def _named_persons(n: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("make_persons", ROOT / "scripts" / "make_persons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_named_persons(n, seed=2)


def test_listing3_joins_deduplicated_persons_with_their_articles(tmp_path):
    persons = _named_persons(80)
    (tmp_path / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    (tmp_path / "persons.json").write_text(json.dumps(persons))
    out = tmp_path / "out.json"
    api.run_file(ROOT / "examples" / "paper" / "listing3.meteor",
                 params={"news": str(tmp_path / "news.jsonl"), "persons": str(tmp_path / "persons.json"),
                         "out": str(out)}, executor="inline")
    result = json.loads(out.read_text())
    assert [(r["name"], r["articles"]) for r in result] == [
        ("Ariel Sharon", ["a1", "a3"]), ("Shane Warne", ["a2"]), ("Steve Waugh", ["a2"]),
        ("Yasser Arafat", ["a1", "a3"])]
    birthdays = {(p["name"], p["birthDay"]) for p in persons}
    assert all((r["name"], r["birthDay"]) in birthdays for r in result)
    copies = {name: sum(p["name"] == name for p in persons) for name, _ in birthdays}
    assert max(copies[r["name"]] for r in result) > 1  # at least one of them had duplicates to remove
