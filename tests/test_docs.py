"""Every command in README.md and docs/*.md runs, and every output shown there is the real one.

Conventions of the fenced code blocks (docs/packages.md, "Conventions of these documents", repeats them):

- ```` ```bash ````: each line is a shell command, run in order in one sandbox directory per document; it must
  exit with status 0. Lines ending in ``\\`` continue; blank lines and ``#`` comments are skipped.
- ```` ```<lang> file=PATH ````: the block's text is written to PATH in the sandbox before the commands after it.
- ```` ```<lang> output ````: the stdout of the last command of the preceding bash block, exactly (lines
  compared without trailing blanks; ``json`` blocks compared as JSON values).
- ```` ```bash norun ````: shown, not run (installing into an environment); it may hold no ``meteor`` command.

The sandbox holds a copy of ``examples/``, links to ``scripts/`` and ``.venv`` (this interpreter's environment),
and the environment's ``bin`` first on PATH. README's two set-up commands are pinned textually: the first one
runs from its TPC-H generation on (the environment exists already), the second is this test suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "README.md"]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)

SETUP_INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && "
SETUP_RUN = (".venv/bin/python scripts/make_tpch.py --sf 0.01 --out tpch && .venv/bin/meteor run "
             "examples/tpch/q15.meteor && head -c 600 q15.json")
PINNED = {SETUP_INSTALL + SETUP_RUN: SETUP_RUN,     # the environment exists: run the rest of it
          ".venv/bin/python -m pytest": None}       # the suite this test belongs to: checked textually


@dataclass
class Block:
    """One fenced code block: its language, options (``file=...``, ``output``, ``norun``) and text."""

    lang: str
    options: dict[str, str]
    text: str


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a markdown file, in order."""
    found = []
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        lang, *words = match.group(1).split() or [""]
        options = dict(w.split("=", 1) if "=" in w else (w, "") for w in words)
        found.append(Block(lang, options, match.group(2)))
    return found


def commands(text: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, blanks and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def sandbox(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__", "*.json.out"))
    (tmp_path / "scripts").symlink_to(ROOT / "scripts")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    return tmp_path


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "METEOR_PACKAGE_PATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(command: str, cwd: Path) -> str:
    """Run one documented command; its stdout. Fails the test with the command's output when it fails."""
    command = PINNED.get(command, command)
    if command is None:
        return ""
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=environment(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"documented command failed: {command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def same_output(shown: Block, actual: str) -> bool:
    if shown.lang == "json":
        return json.loads(shown.text) == json.loads(actual)
    def norm(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip("\n").splitlines()]
    return norm(shown.text) == norm(actual)


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_command_of_the_document_runs(doc: Path, tmp_path: Path) -> None:
    cwd, last_output = sandbox(tmp_path), None
    for block in blocks(doc):
        if "file" in block.options:
            target = cwd / block.options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        elif "output" in block.options:
            assert last_output is not None, f"{doc.name}: an output block without a command before it"
            assert same_output(block, last_output), f"{doc.name}: shown output differs from:\n{last_output}"
        elif block.lang == "bash" and "norun" in block.options:
            assert not any(re.match(r"(\S*/)?meteor\b", c) for c in commands(block.text)), \
                f"{doc.name}: a meteor command in a norun block"
        elif block.lang == "bash":
            for command in commands(block.text):
                last_output = run(command, cwd)


def test_readme_keeps_its_set_up_commands() -> None:
    shown = [c for b in blocks(ROOT / "README.md") if b.lang == "bash" for c in commands(b.text)]
    assert shown[:2] == list(PINNED)


def test_every_meteor_command_in_the_docs_is_in_a_bash_block() -> None:
    """``meteor ...`` lines in other blocks (console, sh, no language) would escape the test."""
    for doc in DOCS:
        for block in blocks(doc):
            if block.lang in ("bash", "meteor", "json", "python", "text", "toml") or "file" in block.options:
                continue
            assert not any(re.match(r"\$?\s*meteor\s", line) for line in block.text.splitlines()), doc.name


def test_operators_md_is_generated_from_the_current_metadata() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_operator_docs.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
