"""Loaded by Python at start-up when bench/cpu_profile.py puts this folder on PYTHONPATH: samples the CPU of
each thread of the process it was started for (not its children), attributed to the thread's stack.

Every SAMPLE_EVERY seconds, each thread's CPU clock (pthread_getcpuclockid) is read and its growth since the
last sample is added to the stack the thread is in now. Unlike a wall-clock sampler (py-spy, on a machine
where it cannot tell idle threads from busy ones), a waiting thread adds nothing. CPU spent just before a
thread blocked is put on the stack it blocked in: read a lock's or a queue's wait as "the work before it".
The folded stacks (microseconds) are written on exit, `os._exit` included, to CPU_PROFILE_OUT.
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time

SAMPLE_EVERY = 0.01  # seconds


def _start(out: str) -> None:
    pid = os.getpid()
    totals: collections.Counter[str] = collections.Counter()
    last: dict[int, float] = {}
    own: list[int] = []
    lock = threading.Lock()  # the sampler adds, dump() reads: never both at once

    def stack(frame: object) -> str:
        names = []
        f = frame
        while f is not None:
            code = f.f_code  # type: ignore[attr-defined]
            names.append(f"{code.co_name} ({code.co_filename}:{f.f_lineno})")  # type: ignore[attr-defined]
            f = f.f_back  # type: ignore[attr-defined]
        return ";".join(reversed(names))

    def sample() -> None:
        own.append(threading.get_ident())
        while True:
            time.sleep(SAMPLE_EVERY)
            for ident, frame in sys._current_frames().items():
                if ident in own:
                    continue
                try:
                    now = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except (OSError, ValueError, OverflowError):  # the thread has just ended
                    continue
                before = last.get(ident)
                last[ident] = now
                if before is not None and now > before:
                    key = stack(frame)
                    with lock:
                        totals[key] += now - before

    def dump() -> None:
        if os.getpid() != pid:  # a forked child inherits this; only the process started writes
            return
        command = " ".join(sys.argv)[:200].replace('"', "'")
        with lock:
            folded = list(totals.items())
        with open(out, "w") as fh:
            for key, seconds in folded:
                fh.write(f'process {pid}:"{command}";{key} {round(seconds * 1e6)}\n')
            cpu = os.times()
            fh.write(f"# process CPU {cpu.user + cpu.system:.3f} s\n")

    threading.Thread(target=sample, name="cpu-profile", daemon=True).start()
    atexit.register(dump)
    real_exit = os._exit

    def exit_after_dump(code: int) -> None:
        try:
            dump()
        finally:
            real_exit(code)

    os._exit = exit_after_dump  # type: ignore[assignment]


_out = os.environ.pop("CPU_PROFILE_OUT", "")  # popped: the processes this one starts are not sampled
if _out:
    _start(_out)
