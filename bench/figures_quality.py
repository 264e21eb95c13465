"""Figure quality on every labelled set, dev and blind side by side: the table the figures work is judged by.

    .venv/bin/python bench/figures_quality.py [--split dev|blind|both] [--shared ../shared]

Sets (docs/figures.md, "Evaluation"):
- feed items: 1,560 real feed items (English, Polish) from shared/corpus/feed_items/pool.jsonl, labelled by two
  annotators (tests/figures_data/feed_items_gold.jsonl: labels only, the texts stay in shared/), 30 % blind;
- feed items, second to fifth blind samples (`feed2` … `feed5`): 700 more English items each (the fifth: the 397
  left), all blind, each drawn and labelled after the one before had been scored
  (tests/figures_data/feed_items_blind{2,3,4,5}_gold.jsonl);
- deployments and captives (`dc`): 240 English texts written for the project from real reporting on troop
  movements, hostages and prisoner swaps, 30 % blind (tests/figures_data/deployments_captives.jsonl);
- multilingual: 350 texts written for the project in German, Spanish, French, Korean, Japanese, Russian and
  Ukrainian, double-annotated (tests/figures_data/multilingual_*.jsonl);
- sixth blind sample (`news6`): 250 English and 175 texts in those seven languages (25 each), written for the
  project by writers who never saw the extractor, labelled by two annotators, all blind, scored once at VERSION
  2026.12.03-4 (tests/figures_data/news_blind6_{en,ml}.jsonl);
- seventh blind sample (`news7`): 200 English and 140 in the seven languages (20 each), made the same way after the
  sixth had been scored, scored once at VERSION 2026.12.03-5 (tests/figures_data/news_blind7_{en,ml}.jsonl);
- eighth blind sample (`news8`): 250 English feed items in a news desk's natural mix, written and labelled after
  the learned decider was trained, scored once at VERSION 2026.12.03-6 (tests/figures_data/news_blind8_en.jsonl);
- ninth blind sample (also `news8-<lang>`): 140 texts in the seven other languages (20 each), written and labelled
  after the seventh had been studied, scored once at VERSION 2026.12.03-7 (tests/figures_data/news_blind9_ml.jsonl);
- tenth blind sample (`news10`): 250 English and 140 texts in the seven other languages (20 each), written and
  labelled after the learned deciders of VERSION 2026.12.03-8 were trained, scored once at that VERSION
  (tests/figures_data/news_blind10_{en,ml}.jsonl);
- sixth Polish feed sample (`feed6-pl`): 200 real Polish pool items not drawn before (seed 20261210), all blind,
  scored once at VERSION 2026.12.03-8 (tests/figures_data/feed_items_blind6_gold.jsonl);
- eleventh blind sample (`news11`): 250 English and 140 texts in the seven other languages, made the same way after
  the deciders of VERSION 2026.12.03-9 were trained, scored once at that VERSION
  (tests/figures_data/news_blind11_{en,ml}.jsonl); seventh Polish feed sample (`feed7-pl`): 200 more real Polish
  pool items (seed 20261211), scored once at 2026.12.03-9 (tests/figures_data/feed_items_blind7_gold.jsonl);
- twelfth blind sample (`news12`): 250 English and 140 texts in the seven other languages, made the same way after
  the deciders of VERSION 2026.12.03-10 were trained, scored once at that VERSION
  (tests/figures_data/news_blind12_{en,ml}.jsonl); eighth Polish feed sample (`feed8-pl`): 200 more real Polish
  pool items (seed 20261212), scored once at 2026.12.03-10 (tests/figures_data/feed_items_blind8_gold.jsonl);
- thirteenth to nineteenth blind samples (`news13` … `news19`) and ninth to fifteenth Polish feed samples
  (`feed9-pl` … `feed15-pl`, seeds 20261213–20261219), made the same way, each pair scored once at VERSION
  2026.12.03-11, -13, -14, -16, -18, -19 and -20 (tests/figures_data/news_blind<n>_{en,ml}.jsonl,
  feed_items_blind<n>_gold.jsonl);
- shared/figures/dev.jsonl (281 texts; dev only: it has no blind part).
Each labelled set's blind part (30 %, drawn with a fixed seed before any rule was changed) is for the end of a
round of work only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.figures import evaluate  # noqa: E402

DATA = ROOT / "tests" / "figures_data"
ENGLISH_SOURCES = frozenset({"feed-en", "feed2-en", "feed3-en", "feed4-en", "feed5-en", "shared-dev"})
MULTILINGUAL = ("multilingual_de_es_fr.jsonl", "multilingual_ko_ja_ru_uk.jsonl")
# The own blind samples, by the name their rows carry ("news6-en"): each was scored once, then joined the rest.
NEWS = {
    6: ("news_blind6_en.jsonl", "news_blind6_ml.jsonl"),
    7: ("news_blind7_en.jsonl", "news_blind7_ml.jsonl"),
    8: ("news_blind8_en.jsonl", "news_blind9_ml.jsonl"),  # the eighth (English) and ninth (other languages)
    10: ("news_blind10_en.jsonl", "news_blind10_ml.jsonl"),
    11: ("news_blind11_en.jsonl", "news_blind11_ml.jsonl"),
    12: ("news_blind12_en.jsonl", "news_blind12_ml.jsonl"),
    13: ("news_blind13_en.jsonl", "news_blind13_ml.jsonl"),
    14: ("news_blind14_en.jsonl", "news_blind14_ml.jsonl"),
    15: ("news_blind15_en.jsonl", "news_blind15_ml.jsonl"),
    16: ("news_blind16_en.jsonl", "news_blind16_ml.jsonl"),
    17: ("news_blind17_en.jsonl", "news_blind17_ml.jsonl"),
    18: ("news_blind18_en.jsonl", "news_blind18_ml.jsonl"),
    19: ("news_blind19_en.jsonl", "news_blind19_ml.jsonl"),
    20: ("news_blind20_en.jsonl", "news_blind20_ml.jsonl"),
    21: ("news_blind21_en.jsonl", "news_blind21_ml.jsonl"),
    22: ("news_blind22_en.jsonl", "news_blind22_ml.jsonl"),
    23: ("news_blind23_en.jsonl", "news_blind23_ml.jsonl"),
    24: ("news_blind24_en.jsonl", "news_blind24_ml.jsonl"),
}
FEED_SAMPLES = tuple(range(2, 21))  # feed_items_blind<n>_gold.jsonl, all blind


def rows_of(shared: Path, split: str) -> list[dict[str, Any]]:
    """Every labelled row of `split`, with its text and a `source` naming its set and language."""
    rows: list[dict[str, Any]] = []
    items = [r for r in evaluate.read_gold(DATA / "feed_items_gold.jsonl") if r["split"] == split]
    pool = shared / "corpus" / "feed_items" / "pool.jsonl"
    if pool.exists():
        rows += [{**r, "source": f"feed-{r['lang']}"} for r in evaluate.with_texts(items, pool)]
        if split == "blind":
            for n in FEED_SAMPLES:
                later = evaluate.read_gold(DATA / f"feed_items_blind{n}_gold.jsonl")
                rows += [{**r, "source": f"feed{n}-{r['lang']}"} for r in evaluate.with_texts(later, pool)]
    rows += [
        {**r, "source": "dc-en"} for r in evaluate.read_gold(DATA / "deployments_captives.jsonl") if r["split"] == split
    ]
    for name in MULTILINGUAL:
        rows += [{**r, "source": f"own-{r['lang']}"} for r in evaluate.read_gold(DATA / name) if r["split"] == split]
    for n, names in NEWS.items():
        for name in names:
            gold = evaluate.read_gold(DATA / name)
            rows += [{**r, "source": f"news{n}-{r['lang']}"} for r in gold if r["split"] == split]
    dev = shared / "figures" / "dev.jsonl"
    if split == "dev" and dev.exists():
        rows += [{**r, "source": "shared-dev"} for r in evaluate.read_gold(dev)]
    return rows


def english_categories(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores of the English rows (feed items and shared dev), per category."""
    english = [r for r in rows if r["source"] in ENGLISH_SOURCES]
    return evaluate.score(english, evaluate.predict(english))


def table(shared: Path, splits: list[str]) -> str:
    results = {}
    english = {}
    for split in splits:
        rows = rows_of(shared, split)
        results[split] = evaluate.score(rows, evaluate.predict(rows))
        english[split] = english_categories(rows)
    lines = ["| set | " + " | ".join(f"{s} P / R / F1 (gold)" for s in splits) + " |", "|---|" + "---|" * len(splits)]
    names = sorted({n for r in results.values() for n in r["sources"]})

    def cell(s: dict[str, Any] | None) -> str:
        if s is None:
            return "–"
        return f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f} ({s['tp'] + s['fn']})"

    for name in names:
        lines.append(f"| {name} | " + " | ".join(cell(results[s]["sources"].get(name)) for s in splits) + " |")
    cats = sorted({c for r in english.values() for c in r["categories"]})
    for cat in cats:
        lines.append(f"| English {cat} | " + " | ".join(cell(english[s]["categories"].get(cat)) for s in splits) + " |")
    lines.append("| English all | " + " | ".join(cell(english[s]["overall"]) for s in splits) + " |")
    lines.append("| all sets | " + " | ".join(cell(results[s]["overall"]) for s in splits) + " |")
    lines.append(
        "| claimant right (matched, all sets) | "
        + " | ".join(f"{results[s]['claimant_accuracy']:.3f} ({results[s]['claimants_scored']})" for s in splits)
        + " |"
    )
    lines.append(
        "| claimant right (matched, English) | "
        + " | ".join(f"{english[s]['claimant_accuracy']:.3f} ({english[s]['claimants_scored']})" for s in splits)
        + " |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "blind", "both"), default="dev")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    splits = ["dev", "blind"] if args.split == "both" else [args.split]
    print(table(args.shared, splits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
