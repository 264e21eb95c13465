"""Progress: the run reports counts as it goes; whoever runs it (the CLI) decides how to show them.

The flow runs in the `monitor run` process, so a process-wide list of observers is enough: the CLI
installs a display for the length of a run, the flow calls `start`/`advance`/`done`, and with nobody
watching (a Prefect worker, a test) every call is a cheap no-op. A display that fails never stops a run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, TextIO

log = logging.getLogger(__name__)

LINE_EVERY = 10.0  # seconds between plain progress lines within one stage: a log, not a flood


class Observer(Protocol):
    def start(self, stage: str, total: int) -> None: ...

    def advance(self, stage: str, n: int) -> None: ...

    def done(self, stage: str, message: str) -> None: ...


_observers: list[Observer] = []
_lock = threading.Lock()


@contextlib.contextmanager
def observe(observer: Observer | None) -> Iterator[None]:
    """Install an observer for the duration of the block (None: nothing to install)."""
    if observer is None:
        yield
        return
    with _lock:
        _observers.append(observer)
    try:
        yield
    finally:
        with _lock:
            _observers.remove(observer)


def start(stage: str, total: int) -> None:
    """A stage begins with `total` items to do."""
    _tell("start", stage, total)


def advance(stage: str, n: int = 1) -> None:
    """`n` more items of the stage are done (called from worker threads too)."""
    _tell("advance", stage, n)


def done(stage: str, message: str = "") -> None:
    """A stage is finished; `message` sums it up ("12 ok, 1 failed")."""
    _tell("done", stage, message)


def note(message: str) -> None:
    """What is happening outside the counted stages ("starting Prefect's local API …"), so the user is
    never left looking at nothing. Observers without a `note` method skip it."""
    _tell("note", message)


def _tell(method: str, *args: Any) -> None:
    with _lock:
        observers = list(_observers)
    for o in observers:
        fn = getattr(o, method, None)
        if fn is None:
            continue
        try:
            fn(*args)
        except Exception:  # a broken display is not worth a failed run
            log.debug("progress display failed", exc_info=True)


class Lines:
    """Plain timestamped lines for logs (cron mail, Prefect workers): a start, a few counts, an end."""

    def __init__(self, stream: TextIO, every: float = LINE_EVERY) -> None:
        self.stream = stream
        self.every = every
        self.totals: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def _line(self, text: str) -> None:
        self.stream.write(f"{datetime.now():%H:%M:%S} {text}\n")
        self.stream.flush()

    def start(self, stage: str, total: int) -> None:
        with self.lock:
            self.totals[stage], self.counts[stage], self.last[stage] = total, 0, time.monotonic()
            self._line(f"{stage}: {total} to do")

    def advance(self, stage: str, n: int) -> None:
        with self.lock:
            self.counts[stage] = self.counts.get(stage, 0) + n
            now = time.monotonic()
            if now - self.last.get(stage, 0.0) >= self.every:
                self.last[stage] = now
                self._line(f"{stage}: {self.counts[stage]}/{self.totals.get(stage, '?')}")

    def note(self, message: str) -> None:
        with self.lock:
            self._line(message)

    def done(self, stage: str, message: str) -> None:
        with self.lock:
            count = self.counts.pop(stage, None)
            total = self.totals.pop(stage, None)
            numbers = f"{count}/{total} " if total is not None else ""
            self._line(f"{stage}: {numbers}done" + (f" ({message})" if message else ""))


class Bar:
    """A rich progress bar per stage with counts, for a terminal; closed by `close()` (or `with`)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(file=stream),
            transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def start(self, stage: str, total: int) -> None:
        self.tasks[stage] = self.progress.add_task(stage, total=max(total, 0), note="")

    def advance(self, stage: str, n: int) -> None:
        if stage in self.tasks:
            self.progress.advance(self.tasks[stage], n)

    def done(self, stage: str, message: str) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=1, note="")
        task = self.tasks[stage]
        total = self.progress.tasks[task].total or 0
        self.progress.update(task, completed=total, note=message)

    def note(self, message: str) -> None:
        self.progress.console.print(message, highlight=False, markup=False)

    def close(self) -> None:
        self.progress.stop()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def display(stream: TextIO, *, quiet: bool = False, verbose: bool = False) -> Iterator[None]:
    """The right display for `stream`: none when quiet, a bar on a terminal, plain lines otherwise
    (and with --verbose, whose log lines would tear a bar apart)."""
    if quiet:
        yield
        return
    if stream.isatty() and not verbose:
        with Bar(stream) as bar, observe(bar):
            yield
        return
    with observe(Lines(stream)):
        yield
