"""The bound: bare trafilatura over the benchmark's pages on all cores, and figures.find's cost beside it.

Run by bench/run.py in a fresh subprocess (so it starts as cold as `monitor run` does); prints one JSON
document. trafilatura is called as a user would call it for what the pipeline keeps (metadata on, tables
on, comments off, no deduplication), done by nothing but a process pool. The pipeline asks trafilatura's
metadata step for less (monitor/pagemeta.py: no categories, tags or license; no title, author or date the
feed item gave): with --figures, the two calls' CPU on the same pages, one after the other, is reported too.

    python bench/bound.py PAGES_DIR --workers 0 --figures 175
    python bench/bound.py PAGES_DIR --workers 0 --warm   # the pool also starts warm, as the pipeline's does
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def extract(item: tuple[str, bytes]) -> tuple[str, float]:
    """One page's text and the CPU seconds trafilatura spent on it."""
    import trafilatura

    url, html = item
    t = time.process_time()
    text = trafilatura.extract(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True, deduplicate=False
    )
    return text or "", time.process_time() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", type=Path, help="a directory of NNNN.html files (the served copies)")
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = one per core)")
    parser.add_argument("--figures", type=int, default=0, help="run figures.find on the first K texts")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="import monitor.warmup before the pool forks, as the pipeline's forkserver does: "
        "the strictest bound for the pipeline to be compared with",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # dateutil's time-zone warnings on real pages: noise here
    files = sorted(args.pages.glob("*.html"))
    items = [(f"http://127.0.0.1/bench/{f.name}", f.read_bytes()) for f in files]
    workers = args.workers or os.cpu_count() or 1
    # Timed from the import on, as the pipeline pays it too; imported before the pool forks, as a script
    # would.
    start = time.perf_counter()
    import trafilatura  # noqa: F401

    if args.warm:
        import monitor.warmup  # noqa: F401  (builds dateparser's locale expressions etc. once, before forking)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(extract, items, chunksize=4))
    wall = time.perf_counter() - start
    # CPU of the pool's work (this process and its reaped workers), before the comparisons below add theirs
    pool_cpu = sum(
        r.ru_utime + r.ru_stime
        for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )
    texts = [t for t, _ in done]
    extract_cpu = [c for _, c in done]

    # figures.find on the first K texts (the distinct pages), in the language the pipeline reads them in (the
    # page's <html lang>, else the detected one), its CPU beside trafilatura's on the same pages: English
    # pages apart from the others, whose morphology costs more.
    k = min(args.figures, len(texts))
    cpu = {"en": [0.0, 0.0, 0], "other": [0.0, 0.0, 0]}  # figures CPU, trafilatura CPU, pages
    found = 0
    calls = {"bound": 0.0, "pipeline": 0.0}
    if k:
        from monitor import articles, figures, pagemeta

        # The bound's trafilatura call beside the pipeline's own (articles.extract, asking for the fields the
        # benchmark's feed items lack: the author; they give a title and a date), one after the other on each
        # page, in this one process: how much cheaper the pipeline's extraction work is than the bound's.
        wanted = pagemeta.Wanted(title=False, author=True, date=False)
        for url, html in items[:8]:  # each call's first-use costs (dateparser's expressions) paid untimed
            extract((url, html))
            articles.extract(html, url, wanted=wanted)
        for i, (url, html) in enumerate(items[:k]):
            order = ("bound", "pipeline") if i % 2 else ("pipeline", "bound")
            for who in order:
                t = time.process_time()
                if who == "bound":
                    extract((url, html))
                else:
                    articles.extract(html, url, wanted=wanted)
                calls[who] += time.process_time() - t

        figures.find("Some 15,000 soldiers were deployed; 600 were killed.")  # load the lexicon first
        for (_, html), text, extract_s in zip(items[:k], texts[:k], extract_cpu[:k], strict=True):
            if not text:
                continue
            language = figures.language.declared(articles.declared_language(html)) or figures.detect(text)[0]
            figures.find("", language)  # this language's lexicon and morphology loaded: not timed
            t = time.process_time()
            found += len(figures.find(text, language))
            side = cpu["en" if language == "en" else "other"]
            side[0] += time.process_time() - t
            side[1] += extract_s
            side[2] += 1
    print(
        json.dumps(
            {
                "pages": len(items),
                "workers": workers,
                "warm": args.warm,
                "wall": wall,
                "extract_cpu": sum(extract_cpu),
                "pool_cpu": pool_cpu,
                "empty_texts": sum(1 for t in texts if not t),
                "figures_pages": k,
                "figures_found": found,
                "figures_cpu": cpu["en"][0] + cpu["other"][0],
                "extract_cpu_same_pages": cpu["en"][1] + cpu["other"][1],
                "calls_cpu": calls,
                "figures_by_language": {
                    side: {"figures_cpu": v[0], "extract_cpu": v[1], "pages": v[2]} for side, v in cpu.items()
                },
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
