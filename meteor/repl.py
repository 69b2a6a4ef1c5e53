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

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings

from meteor import help as metadata_help
from meteor.completion import COMMANDS, MeteorCompleter, Vocabulary
from meteor.deep_stack import TOO_DEEP
from meteor.errors import did_you_mean
from meteor.highlight import STYLE, MeteorLexer, is_complete, show_target, split_statements
from meteor.repl_session import ReplSession
from sopremo.errors import MeteorError
from sopremo.package import PackageError
from sopremo.registry import suggest

PROMPT, CONTINUATION = "meteor> ", "...> "
HISTORY_FILE = ".meteor_history"


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
            for path, count in self.session.execute(statement, self.source):
                self.say(f"wrote {count} record(s) to {path}")
            return True
        shown = self.session.show(name, lambda data: self.say(data.decode("utf-8")))
        if shown.more:
            self.say("… (more)")
        elif not shown.count:
            self.say("(no records)")
        return True

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
                f"Commands:\n{commands}\n"
                f"Operators: {', '.join(sorted(vocab.operators))}\n"
                f"Functions: {', '.join(sorted(vocab.functions, key=str.lower))}\n"
                "Tab completes names, Ctrl-C cancels, Ctrl-D leaves. ':help <operator>' shows its syntax.")
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


def history_file() -> str:
    """``~/.meteor_history`` (``~`` from HOME)."""
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
    try:
        with open(path, "ab"):
            pass
        history: History = FileHistory(path)
    except OSError:
        history = InMemoryHistory()
    session, cache = repl.session, {}

    def vocabulary() -> Vocabulary:
        """The session's vocabulary, computed again only after an input changed the session."""
        if cache.get("binder") is not session.binder:
            vocab = Vocabulary.of(session)
            cache.update(binder=session.binder, vocabulary=vocab, keywords=vocab.keywords())
        return cache["vocabulary"]

    def keywords() -> set[str]:
        """The keywords of the current vocabulary (for the highlighter)."""
        vocabulary()
        return cache["keywords"]

    return PromptSession(
        PROMPT, multiline=True, key_bindings=bindings, history=history, input=input, output=output,
        prompt_continuation=lambda width, line, soft: CONTINUATION.rjust(width),
        lexer=MeteorLexer(keywords), style=STYLE,
        include_default_pygments_style=False, completer=MeteorCompleter(vocabulary, session.workdir),
        complete_while_typing=False)


def run_repl(input: Any = None, output: Any = None, out: TextIO | None = None,
             session: ReplSession | None = None) -> int:
    """Run the interactive loop until ``:quit`` or Ctrl-D; returns the exit status 0.

    ``input``/``output``: prompt-toolkit Input/Output (default: the terminal); ``out``: where results go.
    """
    repl = Repl(session, out)
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
