"""The interactive Meteor REPL (``meteor`` without arguments): prompt-toolkit loop, commands and help texts.

Statements end with ``;`` and may span lines; ``$x;`` shows the first records of a data set; ``:help``,
``:explain``, ``:packages``, ``:load``, ``:limit`` and ``:quit`` are commands. User errors print one message and
the session goes on; Ctrl-C cancels a running evaluation (or clears the input), Ctrl-D leaves with status 0.
``run_stream`` executes a script given on a non-terminal stdin the same way, statement by statement.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Callable, Iterable, TextIO

import orjson

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings

from meteor import help as metadata_help
from meteor.completion import COMMANDS, MeteorCompleter, Vocabulary
from meteor.deep_stack import TOO_DEEP
from meteor.errors import did_you_mean
from meteor.highlight import STYLE, MeteorLexer, is_complete, scan, show_target, split_statements
from meteor.errors import MeteorSyntaxError
from meteor.repl_session import ReplSession
from meteor.tables import table_text
from sopremo.errors import MeteorError
from sopremo.io import encode_json
from sopremo.package import PackageError
from sopremo.registry import suggest

PROMPT, CONTINUATION = "meteor> ", "...> "
HISTORY_FILE = ".meteor_history"
FORMATS = {"table": "a table", "json": "JSON, one line per record"}  # ``:format`` choices


class Repl:
    """Reads inputs, runs them in a ``ReplSession`` and prints results and errors to ``out``.

    ``handle(text)`` processes one complete input and returns False when the user asked to quit; ``failed``
    counts inputs that ended in an error.
    """

    def __init__(self, session: ReplSession | None = None, out: TextIO | None = None, source: str | None = None):
        self.session = session or ReplSession()
        self.out = out or sys.stdout
        self.source = source  # what errors name before line:column ('<stdin>'), None at the terminal
        self.failed = 0

    def say(self, text: str) -> None:
        """Print one line (or several) to ``out`` at once (results stream, so flush every time)."""
        self.out.write(text + "\n")
        self.out.flush()

    def handle(self, text: str) -> bool:
        """Run one input (statements or a ``:command``); errors are printed, never raised (except SystemExit)."""
        stripped = text.strip()
        if stripped.startswith(":"):
            command, _, arg = stripped.partition(" ")
            return self._guard(self._command, command, arg.strip()) is not False
        for statement in split_statements(text):
            if not self._guard(self._statement, statement):
                break
        return True

    def _guard(self, action: Callable[..., bool], *args: Any) -> bool | None:
        """``action(*args)``: its result, or None after printing the error it raised (counted in ``failed``)."""
        try:
            return action(*args) is not False
        except KeyboardInterrupt:
            self.say("cancelled")
        except (MeteorError, PackageError) as exc:
            self.say(f"error: {exc}")
        except RecursionError:
            self.say(f"error: {TOO_DEEP}")
        except Exception as exc:  # an internal error must not end the session; show where it happened
            self.say("internal error: " + "".join(traceback.format_exception(exc)).rstrip())
        self.failed += 1
        return None

    def _statement(self, statement: str) -> bool:
        """Show ``$x``, or execute any other statement (printing what ``write`` statements wrote)."""
        name = show_target(statement)
        if name is None:
            try:
                written = self.session.execute(statement, self.source)
            except MeteorSyntaxError as error:  # maybe an expression: `1 + 2;`, `x;`
                self.say(self._value(statement, error))
                return True
            for path, count in written:
                self.say(f"wrote {count} record(s) to {path}")
            return True
        if self.session.format == "table":
            rows: list = []
            shown = self.session.show(name, lambda data: rows.append(orjson.loads(data)))
            if rows:
                self.say(table_text(rows, len(rows)))
        else:
            shown = self.session.show(name, lambda data: self.say(data.decode("utf-8")))
        if shown.more:
            self.say("… (more)")
        elif not shown.count:
            self.say("(no records)")
        return True

    def _value(self, statement: str, error: MeteorSyntaxError) -> str:
        """The value of the expression ``statement`` as JSON; raises ``error`` (the statement's own syntax
        error) when ``statement`` is not an expression either."""
        try:
            value = self.session.evaluate(statement, self.source)
        except MeteorSyntaxError as as_expression:
            if (error.line, error.column) == start_of(statement):  # no statement starts so: an expression's
                raise as_expression from None
            raise error from None
        return encode_json(value).decode("utf-8")

    def _command(self, command: str, arg: str) -> bool:
        """Run a ``:command``; False for ``:quit``. Raises MeteorError for unknown commands or bad arguments."""
        session = self.session
        if command in (":quit", ":q", ":exit"):
            return False
        if command == ":help":
            self.say(help_text(session, arg))
        elif command == ":explain":
            self.say(session.explain(arg))
        elif command == ":packages":
            self.say(packages_text(session))
        elif command == ":load":
            for path, count in session.load(os.path.expanduser(arg.strip("'\""))):
                self.say(f"wrote {count} record(s) to {path}")
            self.say(f"loaded {arg}")
        elif command == ":format":
            if arg:
                if arg not in FORMATS:
                    raise MeteorError(f":format takes {' or '.join(FORMATS)}, got {arg!r}")
                session.format = arg
            self.say(f"records shown as {FORMATS[session.format]}")
        elif command == ":limit":
            if arg:
                if not arg.isdigit() or int(arg) < 1:
                    raise MeteorError(f":limit takes a positive number, got {arg!r}")
                session.limit = int(arg)
            self.say(f"showing up to {session.limit} record(s)")
        else:
            close = suggest(command, list(COMMANDS))
            raise MeteorError(f"unknown command {command}{did_you_mean(close)} (:help lists them)")
        return True


def start_of(statement: str) -> tuple[int, int]:
    """The 1-based line and column of the first code in ``statement`` (comments and blanks skipped)."""
    offset = next((lo for kind, lo, _ in scan(statement) if kind not in ("space", "comment")), 0)
    return statement.count("\n", 0, offset) + 1, offset - (statement.rfind("\n", 0, offset) + 1) + 1


def help_text(session: ReplSession, topic: str = "") -> str:
    """General REPL help, or the help (meteor/help.py, from package metadata) of the operator, function or
    format ``topic``; raises MeteorError naming close names when ``topic`` is unknown."""
    vocab = Vocabulary.of(session)
    topic = " ".join(topic.split())
    if not topic:
        commands = "\n".join(f"  {name:<10} {doc}" for name, doc in COMMANDS.items())
        return ("Statements end with ';' and may span lines. Examples:\n"
                "  $d = [{a: 1}, {a: 5}];             define a data set (or: read from 'file.json')\n"
                "  $big = filter $d where $d.a > 2;   apply an operator\n"
                "  $big;                              show its first records\n"
                "  write $big to 'big.json';          write it now\n"
                "  1 + 2;                             evaluate an expression (constants, functions)\n"
                f"Commands:\n{commands}\n"
                f"Operators: {', '.join(sorted(vocab.operators))}\n"
                f"Functions: {', '.join(sorted(vocab.functions, key=str.lower))}\n"
                "Tab completes names (and the fields of a data set after '$x.'), Ctrl-C cancels, Ctrl-D leaves.\n"
                f"History: {history_file() or 'not kept (METEOR_HISTORY is empty)'} (set METEOR_HISTORY to "
                "move it; empty keeps none). ':help <operator>' shows its syntax.")
    if topic in session.binder.fn_defs:
        return f"{topic}: a function defined in this session with fn(...)"
    try:
        return metadata_help.help_text(topic, session.manager)
    except metadata_help.HelpError as exc:
        raise MeteorError(str(exc)) from None


def packages_text(session: ReplSession) -> str:
    """Every installed package (``*`` marks those in scope) with its operators, functions and formats."""
    lines = []
    for name in session.manager.available():
        mark = "*" if name in session.packages() else " "
        try:
            package = session.manager.get(name)
        except PackageError as exc:
            lines.append(f"{mark} {name}: failed to load: {exc}")
            continue
        lines.append(f"{mark} {name}: {package.doc}".rstrip(": "))
        for label, names in (("operators", package.operators), ("functions", package.functions),
                             ("formats", package.formats)):
            if names:
                lines.append(f"    {label + ':':<11}{', '.join(sorted(names, key=str.lower))}")
    return "\n".join(lines) + "\n(* = in scope; 'using name;' brings a package into scope)"


def history_file() -> str | None:
    """Where the REPL keeps the inputs of earlier sessions (Up and Ctrl-R recall them): ``$METEOR_HISTORY``
    when set (set but empty: None, no history is kept), else ``~/.meteor_history`` (``~`` from HOME)."""
    path = os.environ.get("METEOR_HISTORY")
    if path is not None:
        return os.path.expanduser(path) or None
    return os.path.join(os.path.expanduser("~"), HISTORY_FILE)


def prompt_session(repl: Repl, input: Any = None, output: Any = None) -> PromptSession:
    """A prompt-toolkit PromptSession for ``repl``: multi-line input accepted at a final ``;``, history,
    completion and highlighting from the session's metadata. ``input``/``output``: prompt-toolkit Input and
    Output (None: the terminal)."""
    bindings = KeyBindings()

    @bindings.add("enter")
    @bindings.add("c-j")  # what Enter becomes when typed ahead while the terminal is not in raw mode
    def _enter(event: Any) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
        elif is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    path = history_file()
    history: History = InMemoryHistory()
    if path is not None:
        try:
            with open(path, "ab"):
                pass
            history = FileHistory(path)
        except OSError:
            pass  # an unwritable history file: this session's inputs are kept in memory only
    session, cache = repl.session, {}

    def vocabulary() -> Vocabulary:
        """The session's vocabulary, computed again only after an input changed the session."""
        if cache.get("binder") is not session.binder:
            vocab = Vocabulary.of(session)
            cache.update(binder=session.binder, vocabulary=vocab, keywords=vocab.keywords())
        return cache["vocabulary"]

    def sample(name: str) -> list:
        """Some records of ``$name`` (read once per data set until an input changes the session)."""
        if cache.get("sampled") is not session.binder:
            cache.update(sampled=session.binder, samples={})
        samples = cache["samples"]
        if name not in samples:
            samples[name] = session.sample(name)
        return samples[name]

    def keywords() -> set[str]:
        """The keywords of the current vocabulary (for the highlighter)."""
        vocabulary()
        return cache["keywords"]

    return PromptSession(
        PROMPT, multiline=True, key_bindings=bindings, history=history, input=input, output=output,
        prompt_continuation=lambda width, line, soft: CONTINUATION.rjust(width),
        lexer=MeteorLexer(keywords), style=STYLE,
        include_default_pygments_style=False, completer=MeteorCompleter(vocabulary, session.workdir, sample),
        complete_while_typing=False)


def run_repl(input: Any = None, output: Any = None, out: TextIO | None = None,
             session: ReplSession | None = None) -> int:
    """Run the interactive loop until ``:quit`` or Ctrl-D; returns the exit status 0.

    ``input``/``output``: prompt-toolkit Input/Output (default: the terminal); ``out``: where results go.
    """
    repl = Repl(session, out)
    if session is None:
        repl.session.format = "table"  # at the terminal records show as a table (`:format json` for lines)
    prompt = prompt_session(repl, input, output)
    repl.say("Meteor REPL: statements end with ';'. :help for help, Ctrl-D to leave.")
    while True:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not repl.handle(text):
            return 0


def run_stream(lines: Iterable[str], out: TextIO | None = None, session: ReplSession | None = None) -> int:
    """Execute the statements and commands of ``lines`` (a script piped to stdin) as the REPL would, without
    prompts; returns 1 when any input failed, else 0. Errors name ``<stdin>`` and the line and column in the
    whole input (each input is padded with the newlines before it)."""
    repl = Repl(session, out, source="<stdin>")
    buffer, before = "", 0
    for line in lines:
        buffer += line if line.endswith("\n") else line + "\n"
        if is_complete(buffer):
            if not repl.handle("\n" * before + buffer):
                return 1 if repl.failed else 0
            before += buffer.count("\n")
            buffer = ""
    if buffer.strip():
        repl.handle("\n" * before + buffer)
    return 1 if repl.failed else 0


__all__ = ["Repl", "run_repl", "run_stream", "help_text", "packages_text"]
