"""Ctrl-C noted by the command's SIGINT hook (flows.note_ctrl_c), in a real Python process sent a real SIGINT."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The SIGINT arrives while Python runs a weak reference's callback, as the import system's module locks have:
# Python cannot raise from there, prints "Exception ignored in ..." with a traceback and goes on.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time, weakref
    import flows
    if sys.argv[1] == "hooked":
        flows.note_ctrl_c()
    class Thing: pass
    def callback(ref):
        started = time.monotonic()
        while time.monotonic() - started < 1.0:  # the signal arrives in here
            pass
    thing = Thing()
    ref = weakref.ref(thing, callback)
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        del thing
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            pass
        print("went on")
    except KeyboardInterrupt:
        print("interrupted", flows.ctrl_c_seen())
    """
)


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("mode", ["hooked", "plain"])
def test_ctrl_c_inside_a_callback_python_cannot_raise_from(mode: str) -> None:
    done = _run(mode)
    if mode == "plain":  # Python alone: the interruption is printed with a traceback and lost
        assert "Traceback" in done.stderr and done.stdout.strip() == "went on"
        return
    # the command's hook: no traceback, and the interruption reaches the main thread after the callback
    assert done.stdout.strip() == "interrupted True", done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
