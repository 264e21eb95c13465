"""Prefect orchestration of news-monitor. Import `flows.poll` only after `prepare_environment()`."""

from __future__ import annotations

import _thread
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, MutableMapping
from pathlib import Path
from types import FrameType

EPHEMERAL_STARTUP_TIMEOUT = "90"  # the temporary API takes 6-10 s on a fresh database, more on a busy machine


def prepare_environment(data_dir: Path, environ: MutableMapping[str, str] | None = None, verbose: bool = False) -> None:
    """Point Prefect at a home inside the data directory, with telemetry off, before Prefect is imported.

    Zero set-up: Prefect's state (profiles, the temporary API's SQLite file, a served server's) lives in
    <data dir>/prefect, and nothing at start-up talks to anything but 127.0.0.1 (no analytics, no
    telemetry, no promotional content in the UI). Values the user already set win: a real server
    (PREFECT_API_URL), another home, another log level.
    """
    env = os.environ if environ is None else environ
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": EPHEMERAL_STARTUP_TIMEOUT,
        "PREFECT_LOGGING_EXTRA_LOGGERS": "monitor",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        # a local Dask cluster logs every worker's start and stop at INFO: noise in a run's output
        "DASK_LOGGING__DISTRIBUTED": "info" if verbose else "warning",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)


class _OneLine(logging.Formatter):
    """Another formatter's lines without the traceback: a failed task or flow is one line on the terminal."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return self.inner.format(record)
        finally:  # the API's log handler still stores the traceback, for the UI
            record.exc_info, record.exc_text, record.stack_info = saved


class _QuietAfterCtrlC(logging.Filter):
    """Drops Prefect's error lines ("Crash detected!", "Finished in state Crashed", a task left Pending) once
    the user pressed Ctrl-C: the command says "interrupted" itself, and the run's state stays in Prefect. A
    crash without Ctrl-C (the API gone, a worker killed) is still shown."""

    interrupted = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not _QuietAfterCtrlC.interrupted or not record.name.startswith("prefect"):
            return True
        # after Ctrl-C every error Prefect reports is that interruption seen from somewhere: the flow crashed, a
        # query DuckDB stopped for the same SIGINT failed it, a task cut off in Pending
        return record.levelno < logging.ERROR


def ctrl_c_seen() -> bool:
    """Whether the user pressed Ctrl-C during this command (once `one_line_logs` set its SIGINT hook): an
    error raised after it (DuckDB's "Query interrupted", a cut-off fetch) is the interruption, not a failure."""
    return _QuietAfterCtrlC.interrupted


def note_ctrl_c() -> None:
    """Remember a SIGINT before Python turns it into KeyboardInterrupt (main thread only; else nothing): a
    library that wraps the KeyboardInterrupt in its own error (pydantic does) cannot hide it from the command."""
    previous = signal.getsignal(signal.SIGINT)
    if getattr(previous, "_notes_ctrl_c", False):
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        _QuietAfterCtrlC.interrupted = True
        if previous == signal.SIG_IGN:
            return
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    on_sigint._notes_ctrl_c = True  # type: ignore[attr-defined]
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C is not this thread's to handle
        signal.signal(signal.SIGINT, on_sigint)
        sys.unraisablehook = _ctrl_c_raised_again(sys.unraisablehook)


def _ctrl_c_raised_again(
    previous: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], object]:
    """An unraisable-exception hook that raises Ctrl-C's KeyboardInterrupt again where it can be raised.

    A SIGINT that arrives while Python runs a callback it cannot raise from (a weak reference's, such as
    the import system's module locks, or a __del__) is printed as "Exception ignored in ..." with a
    traceback, and lost: the command would go on. Here it is signalled to the main thread again instead,
    once the hook has returned, and raised where the main thread then is."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # from another thread, a moment later: signalled from here, it would be raised in this hook
            threading.Timer(0.01, _thread.interrupt_main, (signal.SIGINT,)).start()
            return
        previous(unraisable)

    return hook


def one_line_logs() -> None:
    """Prefect's console log lines without tracebacks (`monitor run` without --verbose): the reason is in
    the line and in the run's summary; the traceback stays in the run's logs in Prefect. After Ctrl-C,
    the command's own "interrupted" is the only line (not Prefect's crash report of the same thing)."""
    note_ctrl_c()
    names = ["", *(n for n in logging.root.manager.loggerDict if n.startswith("prefect"))]
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)  # the temporary API's log keeps its tracebacks
                and not isinstance(handler.formatter, _OneLine)
            ):
                handler.setFormatter(_OneLine(handler.formatter))
                handler.addFilter(_QuietAfterCtrlC())
