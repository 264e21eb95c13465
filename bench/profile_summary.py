"""Summarise a py-spy raw profile (collapsed stacks, from `bench/run.py --profile DIR`) per process.

    python bench/profile_summary.py DIR/monitor-run--N-2000.txt [--top 25] [--match monitor/]

For each process (the flow process, each extraction worker, Prefect's API server) it prints the samples
seen (busy samples only: py-spy skips idle threads) and the functions with the most inclusive samples.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

_PROCESS = re.compile(r'process (\d+):"(.*?)"(?:;|$)')  # leading frames; a command may hold ";"
_SITE = re.compile(r"\(/[^()]*?(?:site-packages|lib/python3\.\d+)/")


def role(command: str) -> str:
    if "forkserver" in command or "multiprocessing" in command:
        return "worker"
    if "prefect server" in command or "uvicorn" in command:
        return "api-server"
    return "flow"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("profile", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--match", default="", help="only list functions whose frame contains this text")
    args = p.parse_args()
    totals: Counter[str] = Counter()
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    for line in args.profile.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        who = "flow"
        while m := _PROCESS.match(stack):
            who = role(m.group(2))
            stack = stack[m.end() :]
        totals[who] += count
        seen: set[str] = set()
        for f in stack.split(";"):
            name = _SITE.sub("(", f)
            if name not in seen and args.match in name:
                seen.add(name)
                inclusive[who][name] += count
    grand = sum(totals.values())
    for who, n in totals.most_common():
        print(f"\n== {who}: {n} samples ({n / grand:.0%} of busy samples)")
        for name, c in inclusive[who].most_common(args.top):
            print(f"{c:7d} {c / n:6.1%}  {name}")


if __name__ == "__main__":
    sys.exit(main())
