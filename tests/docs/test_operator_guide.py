"""The shell sessions in docs/operator-guide.md and docs/configuration.md run, top to bottom,
each page against a real journal of its own.

The page is read in order:

* a ```python title="agent.py"``` block is written to ``agent.py`` in a temporary folder (the
  working directory of every command);
* a ```console``` block is a shell session. A line starting with ``$ `` is a command (a line
  ending in ``\\`` continues it; a heredoc ``<<'EOF'`` runs to its ``EOF`` line), run with
  ``sh`` in that folder with ``KITARU_CONFIG_PATH`` pointing at a fresh config folder (so the
  embedded SQLite journal) and this interpreter's ``bin`` first on ``PATH``. Every command must
  exit 0 (a session shows a failure as ``...; echo "exit $?"``). The lines after a command are
  its expected output (stdout and stderr together, as a terminal shows them): they must appear
  in that order, each line right after the previous one, except where a line ``...`` stands
  for any number of lines; ``...`` inside a line stands for any text.
* ``<NAME>`` (capitals) is a placeholder: in expected output it matches an id-like word the
  first time and is bound to it; in a command it is replaced by its value, and ``<NAME:8>``
  by its first 8 characters.
* Read-only commands (``kitaru executions get``/``list``/``logs`` without ``--follow``) are
  repeated for up to 30 s until their output matches: executions run in worker processes, so
  the session shows the state a reader sees once the worker got there.
* An HTML comment ``<!-- tty-input: ["c", "true"] -->`` right before a block runs its command
  in a pseudo-terminal and types those lines, one per prompt (a line ending in ``: ``).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "operator-guide.md"
#: Pages whose ```console``` sessions run (each in a fresh config folder).
SESSION_PAGES = (GUIDE, DOCS / "configuration.md")
FENCE = re.compile(
    r"(?:<!-- tty-input: (?P<tty>.*?) -->\n)?^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$",
    re.S | re.M,
)
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)(?::(\d+))?>")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")
READ_ONLY = re.compile(r"^kitaru executions (get|list|logs)\b(?!.*--follow)")
COMMAND_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0


@dataclass
class Step:
    command: str
    expected: list[str]
    line: int  # 1-based line of the command in the guide
    tty_input: list[str] | None = None
    page: str = "operator-guide.md"


@dataclass
class Session:
    cwd: Path
    env: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)

    def substitute(self, command: str, line: int, page: str = "operator-guide.md") -> str:
        def value(m: re.Match[str]) -> str:
            name, length = m.group(1), m.group(2)
            if name not in self.values:
                pytest.fail(f"{page}:{line}: <{name}> is used before it is shown")
            return self.values[name][: int(length)] if length else self.values[name]

        return PLACEHOLDER.sub(value, command)


def parse(
    text: str, page: str = "operator-guide.md"
) -> tuple[dict[str, str], list[Step | tuple[str, str]]]:
    """The guide's files (name -> text) and its steps in order (a step or a file to write)."""
    items: list[Step | tuple[str, str]] = []
    files: dict[str, str] = {}
    for m in FENCE.finditer(text):
        info, body = m.group("info").strip(), m.group("body")
        title = re.search(r'title="([^"]+)"', info)
        if info.startswith("python") and title:
            files[title.group(1)] = body
            items.append((title.group(1), body))
        elif info == "console":
            tty = json.loads(m.group("tty")) if m.group("tty") else None
            first_line = text.count("\n", 0, m.start("body")) + 1
            items.extend(_steps(body, first_line, tty, page))
    return files, items


def _steps(
    body: str, first_line: int, tty: list[str] | None, page: str = "operator-guide.md"
) -> list[Step]:
    steps: list[Step] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if not steps:
                raise AssertionError(f"{page}:{first_line + i}: output before a command")
            steps[-1].expected.append(line)
            i += 1
            continue
        start = i
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", command)
        if heredoc:
            end = heredoc.group(1)
            body_lines = []
            while i + 1 < len(lines):
                i += 1
                body_lines.append(lines[i])
                if lines[i].strip() == end:
                    break
            command = command + "\n" + "\n".join(body_lines)
        steps.append(Step(command, [], first_line + start, tty, page))
        i += 1
    return steps


def _line_pattern(expected: str, session: Session, bound: dict[str, str]) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\.\.\.|" + PLACEHOLDER.pattern, expected):
        out.append(re.escape(expected[pos : m.start()]))
        if m.group(0) == "...":
            out.append(".*?")
        else:
            name = m.group(1)
            known = session.values.get(name, bound.get(name))
            if known is not None:
                out.append(re.escape(known))
            elif f"(?P<{name}>" in "".join(out):
                out.append(f"(?P={name})")
            else:
                out.append(f"(?P<{name}>[A-Za-z0-9_.:-]+)")
        pos = m.end()
    out.append(re.escape(expected[pos:]))
    return re.compile("".join(out).rstrip())


def match(expected: list[str], output: list[str], session: Session) -> dict[str, str] | None:
    """Bindings if ``expected`` (with ``...`` gaps) appears in ``output`` in order, else None."""

    def walk(e: int, o: int, gap: bool, bound: dict[str, str]) -> dict[str, str] | None:
        if e == len(expected):
            return bound
        if expected[e].strip() == "...":
            return walk(e + 1, o, True, bound)
        starts = range(o, len(output)) if gap else [o]
        for start in starts:
            if start >= len(output):
                break
            m = _line_pattern(expected[e], session, bound).fullmatch(output[start].rstrip())
            if m:
                found = walk(e + 1, start + 1, False, {**bound, **m.groupdict()})
                if found is not None:
                    return found
        return None

    return walk(0, 0, True, {})


def run_plain(command: str, session: Session) -> tuple[int, str]:
    done = subprocess.run(
        command,
        shell=True,
        cwd=session.cwd,
        env=session.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    return done.returncode, done.stdout


def run_tty(command: str, session: Session, answers: list[str]) -> tuple[int, str]:
    """Run ``command`` in a pseudo-terminal, typing one answer per prompt."""
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=session.cwd,
        env=session.env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    pending = list(answers)
    chunks: list[bytes] = []
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    data = os.read(leader, 4096)
                except OSError:  # the other side closed: the command is done
                    break
                if not data:
                    break
                chunks.append(data)
                if pending and b"".join(chunks).endswith(b": "):  # a prompt waits for us
                    os.write(leader, pending.pop(0).encode() + b"\n")
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert not pending, f"the command never asked for {pending}"
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
    return code, text


def execute(step: Step, session: Session) -> None:
    command = session.substitute(step.command, step.line, step.page)
    settle = READ_ONLY.match(command) is not None and bool(step.expected)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        if step.tty_input is not None:
            code, output = run_tty(command, session, step.tty_input)
        else:
            code, output = run_plain(command, session)
        lines = ANSI.sub("", output).splitlines()
        bound = match(step.expected, lines, session) if code == 0 else None
        if bound is not None:
            session.values.update(bound)
            return
        if not settle or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    where = f"{step.page}:{step.line}: $ {command}"
    assert code == 0, f"{where}\nexited {code}:\n{output}"
    expected = "\n".join(step.expected)
    pytest.fail(f"{where}\nexpected:\n{expected}\n\ngot:\n{output}")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITARU_")}
    env.update(
        KITARU_CONFIG_PATH=str(tmp_path / "config"),
        # Only the journal's plugin: other kitaru plugins installed next to the CLI (an
        # adapter importing its framework, say) would add their import time to every command.
        KITARU_LOAD_PLUGINS="sql",
        KITARU_SQLITE_SYNCHRONOUS=os.environ.get("KITARU_SQLITE_SYNCHRONOUS", "NORMAL"),
        PATH=bin_dir + os.pathsep + env.get("PATH", ""),
        PYTHONUNBUFFERED="1",  # stdout and stderr interleave as on a terminal
        NO_COLOR="1",
        COLUMNS="100",
        TERM="xterm",
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    work = tmp_path / "work"
    work.mkdir()
    yield Session(cwd=work, env=env)
    # Stop what the session left waiting, so no worker outlives the test.
    code, out = run_plain("kitaru executions list --status waiting -o json", Session(work, env))
    if code == 0:
        for item in json.loads(out.splitlines()[-1])["items"]:
            run_plain(f"kitaru executions cancel {item['exec_id']}", Session(work, env))


def test_guide_parses() -> None:
    files, items = parse(GUIDE.read_text())
    assert "agent.py" in files
    assert sum(isinstance(i, Step) for i in items) >= 15


@pytest.mark.parametrize("page", SESSION_PAGES, ids=lambda p: p.name)
def test_operator_guide_sessions_run(session: Session, page: Path) -> None:
    _, items = parse(page.read_text(), page.name)
    for item in items:
        if isinstance(item, Step):
            execute(item, session)
        else:
            name, body = item
            (session.cwd / name).write_text(body)


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        (["a", "b"], ["x", "a", "b", "y"], True),
        (["a", "b"], ["a", "x", "b"], False),
        (["a", "...", "b"], ["a", "x", "b"], True),
        (["Status: ..."], ["Status: waiting"], True),
        (["id: <ID>", "again <ID>"], ["id: ab-12", "again ab-12"], True),
        (["id: <ID>", "again <ID>"], ["id: ab-12", "again cd-34"], False),
    ],
)
def test_matcher(expected: list[str], output: list[str], ok: bool, tmp_path: Path) -> None:
    assert (match(expected, output, Session(tmp_path, {})) is not None) is ok
