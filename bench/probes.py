"""Measuring a subprocess: wall time, CPU of the whole process tree, and peak memory of the tree.

CPU comes from two places: getrusage(RUSAGE_CHILDREN) around the subprocess (exact, but only for
descendants that were waited for) and psutil samples of every descendant (catches the ones nobody waits
for, misses the last sample interval of short-lived ones). The larger of the two is reported.
Memory: ru_maxrss of children is the largest single process, so the tree's peak is sampled instead:
the sum of the resident sets (RSS every 0.25 s, PSS every second) of the flow process and all its
descendants.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_EVERY = 0.25  # seconds between samples of RSS and CPU
PSS_EVERY = 4  # samples between reads of the process list and PSS (every second)
MB = 2**20


@dataclass(slots=True)
class Sample:
    """What the sampler saw of one process tree."""

    # peak[measure][part]: measure rss or pss; part tree, main (the flow process), workers (the extraction
    # processes and their forkserver), server (Prefect's temporary API), tree_no_server
    peak: dict[str, dict[str, int]] = field(default_factory=lambda: {"rss": {}, "pss": {}})
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> last seen user+system seconds
    roles: dict[int, str] = field(default_factory=dict)
    samples: int = 0
    timeline: list[tuple[float, int, int, int]] = field(default_factory=list)  # (s, main, workers, tree) PSS

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = self.roles.get(pid, "other")
            out[role] = out.get(role, 0.0) + seconds
        return out


def _role(proc: psutil.Process, root: int) -> str:
    if proc.pid == root:
        return "main"
    try:
        cmd = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "other"
    if "multiprocessing" in cmd or "forkserver" in cmd:
        return "workers"
    if "uvicorn" in cmd or "prefect" in cmd:
        return "server"
    return "other"


class TreeSampler:
    """Samples RSS and CPU of a process and its descendants in a background thread."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY) -> None:
        self.pid = pid
        self.every = every
        self.result = Sample()
        self._stop = threading.Event()
        self._procs: dict[int, psutil.Process] = {}
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._started = time.perf_counter()

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        tick = 0
        while not self._stop.is_set():
            # RSS and CPU (cheap: /proc/PID/stat, statm) every tick; the process list and PSS (the kernel
            # walks the page tables for smaps_rollup: milliseconds for a big process) every PSS_EVERY ticks,
            # so the sampler takes well under 1% of a core from the run it measures, not ~10%.
            self._sample(root, full=tick % PSS_EVERY == 0)
            tick += 1
            self._stop.wait(self.every)

    def _sample(self, root: psutil.Process, *, full: bool) -> None:
        r = self.result
        if full or not self._procs:
            try:
                for proc in [root, *root.children(recursive=True)]:
                    self._procs.setdefault(proc.pid, proc)  # one Process object per pid: cmdline read once
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                return
        now: dict[str, dict[str, int]] = {"rss": {}, "pss": {}}
        for pid, known in list(self._procs.items()):
            try:
                with known.oneshot():
                    # PSS shares each page among the processes mapping it: forked workers' common pages
                    # are counted once in the sum, as the machine's memory sees them.
                    mem = known.memory_full_info() if full else known.memory_info()
                    t = known.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                del self._procs[pid]
                continue
            if pid not in r.roles:
                r.roles[pid] = _role(known, self.pid)
            r.cpu[pid] = t.user + t.system
            role = r.roles[pid]
            values = [("rss", mem.rss)] + ([("pss", getattr(mem, "pss", mem.rss))] if full else [])
            for measure, value in values:
                parts = now[measure]
                for part in ("tree", role, *(("tree_no_server",) if role != "server" else ())):
                    parts[part] = parts.get(part, 0) + value
        r.samples += 1
        if full:
            pss = now["pss"]
            r.timeline.append(
                (
                    round(time.perf_counter() - self._started, 2),
                    pss.get("main", 0),
                    pss.get("workers", 0),
                    pss.get("tree_no_server", 0),
                )
            )
        for measure, parts in now.items():
            peaks = r.peak[measure]
            for part, value in parts.items():
                peaks[part] = max(peaks.get(part, 0), value)


@dataclass(frozen=True, slots=True)
class Measured:
    """One subprocess run."""

    wall: float
    cpu_rusage: float  # RUSAGE_CHILDREN delta: user+system of the waited-for tree
    cpu_sampled: float  # sum over sampled processes
    cpu_roles: dict[str, float]
    peak: dict[str, dict[str, int]]  # see Sample.peak
    timeline: list[tuple[float, int, int, int]]
    maxrss_children: int  # ru_maxrss of children after the run: the largest single process so far
    returncode: int
    stdout: str
    stderr: str

    def mem(self, measure: str, part: str) -> int:
        return self.peak.get(measure, {}).get(part, 0)

    @property
    def cpu(self) -> float:
        return max(self.cpu_rusage, self.cpu_sampled)

    def json_tail(self) -> Any:
        """The last JSON document the process printed (monitor run --json, the probe scripts)."""
        text = "\n" + self.stdout
        decoder = json.JSONDecoder()
        start = len(text)
        while (start := text.rfind("\n{", 0, start)) >= 0:
            try:
                return decoder.raw_decode(text, start + 1)[0]
            except json.JSONDecodeError:
                continue
        raise SystemExit(f"expected a JSON document on stdout, got: {self.stdout[-500:]!r}")

    def check(self, what: str) -> Measured:
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-25:])
            raise SystemExit(f"{what} failed (exit {self.returncode}):\n{tail}")
        return self


def run(
    cmd: Sequence[str], env: Mapping[str, str], *, timeout: float = 3600, cwd: str | None = None, sample: bool = True
) -> Measured:
    """Run a command to completion and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(proc.pid)
    if sample:
        sampler.__enter__()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n(bench: killed after {timeout:.0f} s)"
    finally:
        wall = time.perf_counter() - start
        if sample:
            sampler.__exit__()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = sampler.result
    return Measured(
        wall=wall,
        cpu_rusage=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        cpu_sampled=s.cpu_total,
        cpu_roles=s.cpu_by_role(),
        peak=s.peak,
        timeline=s.timeline,
        maxrss_children=after.ru_maxrss * 1024,
        returncode=proc.returncode,
        stdout=out,
        stderr=err,
    )


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
