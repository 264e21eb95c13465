"""Where a command's CPU goes, thread by thread: run it with a CPU sampler inside its first process.

    python bench/cpu_profile.py --out cpu.txt -- monitor -c monitor.toml run --json
    python bench/cpu_profile.py --summary cpu.txt            # seconds by part: the project's module, the package
    python bench/run.py PAGES --only cold --n 2000 --rounds 1 --first-n 0 --cpu-profile DIR   # per run

The sampler (bench/cpu_profile_site/sitecustomize.py) adds each thread's CPU clock's growth to the stack it
is in, every 10 ms, in the started process only (the flow process of `monitor run`, with Prefect's temporary
API's thread; not the extraction processes). The output is folded stacks in microseconds, readable by
bench/profile_summary.py too. The sampler costs the process about a tenth more CPU: for reading where the
time goes, not for the table.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

SITE = Path(__file__).resolve().parent / "cpu_profile_site"
_PROJECT = re.compile(r"/((?:monitor|flows)/[\w/]+\.py)")
_PACKAGE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_STDLIB = re.compile(r"lib/python3\.\d+/([A-Za-z0-9_]+)")


def run(out: Path, cmd: list[str]) -> int:
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "CPU_PROFILE_OUT": str(out)}
    return subprocess.run(cmd, env=env, check=False).returncode


def part(frames: list[str]) -> str:
    """The innermost frame of the project's own code, and the first package it called into below it."""
    where, into = "(no project frame)", ""
    for frame in frames:
        if (m := _PROJECT.search(frame)) and "site-packages" not in frame:
            where, into = m.group(1), ""
        elif not into and (m := _PACKAGE.search(frame) or _STDLIB.search(frame)):
            into = m.group(1)
    return f"{where} -> {into}" if into else where


def summary(path: Path, top: int) -> None:
    seconds: Counter[str] = Counter()
    process = ""
    for line in path.read_text().splitlines():
        if line.startswith("# process CPU"):
            process = line.removeprefix("# ")
            continue
        stack, _, micros = line.rpartition(" ")
        frames = stack.split(";")[1:]  # the process prefix first
        seconds[part(frames)] += int(micros) / 1e6
    total = sum(seconds.values())
    print(f"{path}: {process}; sampled {total:.2f} s")
    for name, s in seconds.most_common(top):
        print(f"{s:7.2f} s {s / total:6.1%}  {name}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="write the folded stacks here")
    p.add_argument("--summary", type=Path, help="print seconds by part from a file written by --out")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the command to run")
    args = p.parse_args()
    if args.summary:
        summary(args.summary, args.top)
        return 0
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not args.out or not cmd:
        p.error("give --out FILE -- COMMAND, or --summary FILE")
    return run(args.out, cmd)


if __name__ == "__main__":
    sys.exit(main())
