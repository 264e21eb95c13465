"""Benchmark: figure extraction time against trafilatura's extraction time, per language.

    .venv/bin/python bench/figures_speed.py ../shared/corpus/pages [--pool ../shared/corpus/feed_items/pool.jsonl]

English: trafilatura.extract over PAGES_DIR/*.html (real pages), then monitor.figures.find over the extracted
texts. Other languages: few real pages of theirs are at hand, so the same real pages are rewritten in the
language: every paragraph's text is replaced by one of the project's own texts in it
(tests/figures_data/multilingual_*.jsonl; Polish from the feed-item pool when --pool is given), keeping the
page's markup and boilerplate, so trafilatura does the work it does on a real page. Those texts were written to
hold figures (two thirds do), so their figure cost is a worst case: a real article has far fewer such
sentences.
Each page's figures are found as the pipeline finds them: in the language its <html lang> declares, else the
one detected from its text.
Targets: figures cost at most 5 % of extraction on English pages and 15 % on others.

A second table gives what each language costs once per process: the memory (unique set size, USS) and the
time its lexicon, analyser and decider take on the first text in that language, each in a fresh process that
has imported trafilatura and monitor.figures already (as an extraction worker has). Every extraction process
that meets a page in a language pays this once.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import lxml.html
import trafilatura

from monitor import articles, figures

REPEATS = 3  # both stages are timed as the best of a few runs, so machine load hits both alike
PAGES_PER_LANGUAGE = 60
DATA = Path(__file__).resolve().parents[1] / "tests" / "figures_data"
SEED = 7


def _best(fn: object, repeats: int = REPEATS) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, result


def _rewritten(html: str, texts: list[str], lang: str, rng: random.Random) -> str:
    """A real page with every paragraph's text replaced by a text in `lang`."""
    doc = lxml.html.document_fromstring(html)
    doc.set("lang", lang)
    for p in doc.iter("p"):
        for child in list(p):
            p.remove(child)
        p.text = rng.choice(texts)
    return str(lxml.html.tostring(doc, encoding="unicode"))


def _texts_by_language(pool: Path | None) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for path in sorted(DATA.glob("multilingual_*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            texts.setdefault(row["lang"], []).append(row["text"])
    if pool is not None and pool.exists():
        for line in pool.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("lang") == "pl":
                texts.setdefault("pl", []).append(row["text"])
    return texts


def _measure(name: str, htmls: list[str]) -> None:
    extract_s, extracted = _best(lambda: [trafilatura.extract(h) or "" for h in htmls])
    texts = list(extracted)  # type: ignore[call-overload]
    # as the pipeline reads them: in the page's declared language, else the detected one (monitor.articles)
    declared = [articles.declared_language(h.encode("utf-8")) for h in htmls]
    find_s, found = _best(lambda: sum(len(figures.find(t, lang)) for t, lang in zip(texts, declared, strict=True)))
    n = len(htmls)
    chars = sum(len(t) for t in texts)
    print(
        f"| {name} | {n} | {chars // max(n, 1):,} | {1000 * extract_s / n:.2f} | {1000 * find_s / n:.3f} "
        f"| {found} | {100 * find_s / extract_s:.2f} % |"
    )


# A short text per language, with a figure: enough to load everything that language needs.
FIRST_TEXTS = {
    "en": "3 soldiers were killed.",
    "de": "Zwölf Menschen wurden getötet.",
    "es": "Murieron 15 soldados.",
    "fr": "15 soldats ont été tués.",
    "ja": "3人が死亡した。",
    "ko": "3명이 숨졌다.",
    "pl": "Zginęło 5 osób.",
    "ru": "Около 600 военных погибли.",
    "uk": "Загинули 15 солдатів.",
}


def _first_text_child(lang: str) -> None:
    """In a fresh process: the USS and time that the first text in `lang` adds (printed as JSON)."""
    import psutil

    own = psutil.Process()
    before, start = own.memory_full_info().uss, time.perf_counter()
    found = figures.find(FIRST_TEXTS[lang], lang)
    seconds = time.perf_counter() - start
    print(json.dumps({"mb": (own.memory_full_info().uss - before) / 2**20, "s": seconds, "found": len(found)}))


def _first_text_costs() -> None:
    print()
    print("| language | memory added by its first text (USS) | time of its first text | figures in it |")
    print("|---|---|---|---|")
    for lang in FIRST_TEXTS:
        out = subprocess.run(
            [sys.executable, __file__, ".", "--first-text", lang], capture_output=True, text=True, check=True
        ).stdout
        cost = json.loads(out.strip().splitlines()[-1])
        print(f"| {lang} | {cost['mb']:.0f} MB | {cost['s']:.2f} s | {cost['found']} |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, help="directory of real (English) pages: *.html")
    parser.add_argument("--pool", type=Path, help="shared/corpus/feed_items/pool.jsonl, for Polish pages")
    parser.add_argument("--first-text", choices=sorted(FIRST_TEXTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_text:
        _first_text_child(args.first_text)
        return 0
    pages = sorted(args.pages.glob("*.html"))
    if not pages:
        print(f"error: no *.html pages in {args.pages}. Pass the directory holding the corpus pages.", file=sys.stderr)
        return 2
    for lang, warm in FIRST_TEXTS.items():
        figures.find(warm, lang)  # load lexicons, analysers and deciders outside the timing
    figures.find(FIRST_TEXTS["en"])  # and the language detector
    print("| pages | n | chars/page | trafilatura ms/page | figures ms/page | figures found | figures/extract |")
    print("|---|---|---|---|---|---|---|")
    real = [p.read_text(encoding="utf-8", errors="replace") for p in pages]
    _measure("en (real pages)", real)
    rng = random.Random(SEED)
    for lang, texts in sorted(_texts_by_language(args.pool).items()):
        htmls = [_rewritten(html, texts, lang, rng) for html in real[:PAGES_PER_LANGUAGE]]
        _measure(f"{lang} (real pages, own texts)" if lang != "pl" else "pl (real pages, feed items)", htmls)
    _first_text_costs()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
