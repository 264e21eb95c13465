"""Benchmark: figure extraction time against trafilatura's extraction time on the same pages.

    .venv/bin/python bench/figures_speed.py ../shared/corpus/pages

Runs trafilatura.extract over PAGES_DIR/*.html, then monitor.figures.find over the extracted texts, and prints
both times and their ratio (the target: figures cost at most 5% of extraction).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import trafilatura

from monitor import figures

REPEATS = 3  # both stages are timed as the best of a few runs, so machine load hits both alike


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    pages = sorted(Path(argv[0]).glob("*.html"))
    if not pages:
        print(
            f"error: no *.html pages in {argv[0]}. Pass the directory holding the corpus pages.",
            file=sys.stderr,
        )
        return 2
    htmls = [p.read_text(encoding="utf-8", errors="replace") for p in pages]
    figures.find("warm-up: 3 soldiers were killed.")  # load lexicons outside the timing
    extract_s = float("inf")
    texts: list[str] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        texts = [trafilatura.extract(html) or "" for html in htmls]
        extract_s = min(extract_s, time.perf_counter() - start)
    find_s = float("inf")
    found = 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        found = sum(len(figures.find(text)) for text in texts)
        find_s = min(find_s, time.perf_counter() - start)
    chars = sum(len(t) for t in texts)
    n = len(pages)
    print(f"pages: {n}, extracted chars: {chars}, figures found: {found}")
    print(f"trafilatura.extract: {extract_s:.3f} s ({1000 * extract_s / n:.2f} ms/page)")
    print(f"figures.find:        {find_s:.3f} s ({1000 * find_s / n:.3f} ms/page)")
    print(f"ratio find/extract:  {100 * find_s / extract_s:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
