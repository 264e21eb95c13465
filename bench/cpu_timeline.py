"""Where the cores sit idle: run a command and print, for each slice of its run, the CPU its processes used.

    python bench/cpu_timeline.py --out timeline.txt -- monitor -c monitor.toml run --json
    python bench/run.py PAGES --only cold --n 2000 --rounds 1 --first-n 0 --timeline DIR   # the same, per run

Each line is one slice (0.5 s by default): the share of one core used by the started process (`flow`, the
temporary API's thread included), the extraction processes' forkserver (`forkserver`, its warm-up) and the
extraction processes (`workers`), their sum (200 % is both cores of a 2-core machine busy), and what the rest of the
machine used meanwhile (`other processes`: in bench/run.py, the benchmark's page server among them). A sum well
under the cores available is time the cycle could have used and did not: its start-up, a pool run dry, its
end, or cores taken by other processes.

Processes are sampled every 0.1 s; a process that ends loses its last interval, so a slice where one ends may
read a little low. The command's standard output passes through (bench/run.py reads its JSON summary).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import psutil

EVERY = 0.1  # seconds between samples


def _role(proc: psutil.Process, root: int) -> str:
    if proc.pid == root:
        return "flow"
    try:
        parent = proc.ppid()
        command = " ".join(proc.cmdline())
    except psutil.Error:
        return "workers"
    return "forkserver" if "forkserver" in command and parent == root else "workers"


def _busy() -> float:
    """CPU seconds the whole machine has spent busy so far (every process, the kernel's work included)."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))


def sample(command: list[str], slice_s: float) -> tuple[int, list[tuple[float, dict[str, float]]]]:
    """Run `command`; its exit code and, per slice start, the CPU seconds each role used in it."""
    started = time.perf_counter()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    last: dict[int, float] = {}
    busy = _busy()
    sampled = time.perf_counter()
    roles: dict[int, str] = {}
    slices: dict[float, dict[str, float]] = {}
    while child.poll() is None:
        time.sleep(EVERY)
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        now_s = time.perf_counter()
        at = int((now_s - started) / slice_s) * slice_s
        used = slices.setdefault(at, {})
        # the time this sample covers: a slice holds 4 or 5 samples as the loop's own time adds up, so shares
        # are of the time covered, not of the slice's nominal length
        used["seconds"] = used.get("seconds", 0.0) + now_s - sampled
        sampled = now_s
        now = _busy()
        used["machine"] = used.get("machine", 0.0) + now - busy
        busy = now
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total = times.user + times.system
            role = roles.setdefault(proc.pid, _role(proc, child.pid))
            used[role] = used.get(role, 0.0) + total - last.get(proc.pid, 0.0)
            last[proc.pid] = total
    return child.wait(), sorted(slices.items())


def render(slices: list[tuple[float, dict[str, float]]], slice_s: float) -> str:
    names = ("flow", "forkserver", "workers")
    lines = ["  from   all  " + "  ".join(f"{n:>10}" for n in names) + "  other processes"]
    for at, used in slices:
        seconds = used.get("seconds") or slice_s
        share = {n: used.get(n, 0.0) / seconds * 100 for n in names}
        tree = sum(share.values())
        other = max(0.0, used.get("machine", 0.0) / seconds * 100 - tree)
        cells = "  ".join(f"{share[n]:8.0f} %" for n in names)
        lines.append(f"{at:6.1f} {tree:4.0f} %  {cells}  {other:13.0f} %")
    idle = sum(
        max(0.0, (psutil.cpu_count() or 1) * u.get("seconds", 0.0) - sum(u.get(n, 0.0) for n in names))
        for _, u in slices
    )
    sampled = sum(u.get("seconds", 0.0) for _, u in slices)
    lines.append(f"core-seconds unused over the run: {idle:.1f} (of {sampled:.1f} s sampled)")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="where the timeline goes (stdout is the command's)")
    p.add_argument("--slice", type=float, default=0.5, help="seconds per line (default 0.5)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the command to run after --")
    code, slices = sample(command, args.slice)
    args.out.write_text(render(slices, args.slice))
    return code


if __name__ == "__main__":
    sys.exit(main())
