"""Figure scores per language and category, development data beside blind data, as a Markdown table.

    .venv/bin/python bench/figures_side_by_side.py [--shared ../shared]

English dev is everything rules were ever written from (the feed items' dev part, the first to fourth blind
samples whose errors were studied in earlier rounds, shared/figures/dev.jsonl, the deployments-and-captives dev
part); English blind is what no rule was written from (the fifth sample, the deployments-and-captives blind part).
Other languages: the Polish feed items and the project's own texts, 30 % blind each (docs/figures.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.figures import evaluate as ev  # noqa: E402

DATA = ROOT / "tests" / "figures_data"
Rows = list[dict[str, Any]]


def sets(shared: Path) -> dict[str, tuple[Rows, Rows]]:
    """language -> (dev rows, blind rows), texts joined."""
    pool = shared / "corpus" / "feed_items" / "pool.jsonl"

    def gold(name: str, split: str | None = None, texts: bool = False) -> Rows:
        rows = ev.read_gold(DATA / name)
        rows = [r for r in rows if split is None or r["split"] == split]
        return ev.with_texts(rows, pool) if texts else rows

    feed = gold("feed_items_gold.jsonl", texts=True)
    studied = [r for n in (2, 3, 4) for r in gold(f"feed_items_blind{n}_gold.jsonl", texts=True)]
    out = {
        "en": (
            [r for r in feed if r["lang"] == "en"]  # dev part, and the first blind part (studied)
            + ev.read_gold(shared / "figures" / "dev.jsonl")
            + gold("deployments_captives.jsonl", "dev")
            + studied,
            gold("feed_items_blind5_gold.jsonl", texts=True) + gold("deployments_captives.jsonl", "blind"),
        ),
        "pl": (
            [r for r in feed if r["lang"] == "pl" and r["split"] == "dev"],
            [r for r in feed if r["lang"] == "pl" and r["split"] == "blind"],
        ),
    }
    for name in ("multilingual_de_es_fr.jsonl", "multilingual_ko_ja_ru_uk.jsonl"):
        rows = ev.read_gold(DATA / name)
        for lang in sorted({r["lang"] for r in rows}):
            mine = [r for r in rows if r["lang"] == lang]
            out[lang] = ([r for r in mine if r["split"] == "dev"], [r for r in mine if r["split"] == "blind"])
    return out


def _cell(s: dict[str, Any] | None) -> str:
    if not s or not (s["tp"] + s["fp"] + s["fn"]):
        return "–"
    return f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f} ({s['tp'] + s['fn']})"


def table(shared: Path) -> str:
    lines = [
        "| language | category | dev P / R / F1 (gold) | blind P / R / F1 (gold) | gap F1 |",
        "|---|---|---|---|---|",
    ]
    for lang, (dev, blind) in sets(shared).items():
        sd, sb = ev.score(dev, ev.predict(dev)), ev.score(blind, ev.predict(blind))
        for c in [*sorted(set(sd["categories"]) | set(sb["categories"])), "all"]:
            a = sd["overall"] if c == "all" else sd["categories"].get(c)
            b = sb["overall"] if c == "all" else sb["categories"].get(c)
            both = a and b and a["tp"] + a["fn"] > 0 and b["tp"] + b["fn"] > 0
            gap = f"{a['f1'] - b['f1']:+.3f}" if both else ""
            name = f"**{c}**" if c == "all" else c
            lines.append(f"| {lang} | {name} | {_cell(a)} | {_cell(b)} | {gap} |")
        lines.append(f"| {lang} | claimant right | {sd['claimant_accuracy']:.3f} | {sb['claimant_accuracy']:.3f} | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    print(table(parser.parse_args().shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
