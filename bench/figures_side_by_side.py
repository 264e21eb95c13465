"""Figure scores per language and category, development data beside blind data, as a Markdown table.

    .venv/bin/python bench/figures_side_by_side.py [--shared ../shared]

English dev is everything the rules were written from and the learned decider was trained on: every labelled set
up to the twenty-third sample, their blind parts included (each was scored once in its round, then studied).
English blind is the twenty-fourth sample (news_blind24_en.jsonl: 250 texts in a news desk's natural mix, written
and labelled by helpers who never saw the extractor, the annotators given the specification's claimant wording,
scored once at VERSION 2026.12.03-25). Other languages: dev is everything their rules and the pooled decider were
written from (the project's own texts and every earlier own sample); blind is the twenty-fourth sample (20 texts
each). Polish: dev is the first and sixth to nineteenth feed samples, blind the twentieth Polish feed sample (the
138 pool items left, scored once at 2026.12.03-25).
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
    studied = [r for n in (2, 3, 4, 5) for r in gold(f"feed_items_blind{n}_gold.jsonl", texts=True)]
    news6 = gold("news_blind6_en.jsonl") + gold("news_blind6_ml.jsonl")
    news7 = gold("news_blind7_en.jsonl") + gold("news_blind7_ml.jsonl")
    news9 = gold("news_blind9_ml.jsonl")
    news10 = gold("news_blind10_en.jsonl") + gold("news_blind10_ml.jsonl")
    news11 = gold("news_blind11_en.jsonl") + gold("news_blind11_ml.jsonl")
    news12 = gold("news_blind12_en.jsonl") + gold("news_blind12_ml.jsonl")
    news13 = gold("news_blind13_en.jsonl") + gold("news_blind13_ml.jsonl")
    news14 = gold("news_blind14_en.jsonl") + gold("news_blind14_ml.jsonl")
    news15 = gold("news_blind15_en.jsonl") + gold("news_blind15_ml.jsonl")
    news16 = gold("news_blind16_en.jsonl") + gold("news_blind16_ml.jsonl")
    news17 = gold("news_blind17_en.jsonl") + gold("news_blind17_ml.jsonl")
    news18 = gold("news_blind18_en.jsonl") + gold("news_blind18_ml.jsonl")
    news19 = gold("news_blind19_en.jsonl") + gold("news_blind19_ml.jsonl")
    news20 = gold("news_blind20_en.jsonl") + gold("news_blind20_ml.jsonl")
    news21 = gold("news_blind21_en.jsonl") + gold("news_blind21_ml.jsonl")
    news22 = gold("news_blind22_en.jsonl") + gold("news_blind22_ml.jsonl")
    news23 = gold("news_blind23_en.jsonl") + gold("news_blind23_ml.jsonl")
    news24 = gold("news_blind24_en.jsonl") + gold("news_blind24_ml.jsonl")
    out = {
        "en": (
            [r for r in feed if r["lang"] == "en"]
            + ev.read_gold(shared / "figures" / "dev.jsonl")
            + gold("deployments_captives.jsonl")
            + studied
            + [r for r in news6 + news7 if r["lang"] == "en"]
            + gold("news_blind8_en.jsonl")
            + [r for r in news10 + news11 + news12 + news13 + news14 + news15 + news16 if r["lang"] == "en"]
            + [r for r in news17 + news18 + news19 + news20 + news21 + news22 + news23 if r["lang"] == "en"],
            [r for r in news24 if r["lang"] == "en"],
        ),
        "pl": (
            [r for r in feed if r["lang"] == "pl"]
            + [r for n in range(6, 20) for r in gold(f"feed_items_blind{n}_gold.jsonl", texts=True)],
            gold("feed_items_blind20_gold.jsonl", texts=True),
        ),
    }
    for name in ("multilingual_de_es_fr.jsonl", "multilingual_ko_ja_ru_uk.jsonl"):
        rows = ev.read_gold(DATA / name)
        for lang in sorted({r["lang"] for r in rows}):
            earlier = news6 + news7 + news9 + news10 + news11 + news12 + news13 + news14 + news15 + news16 + news17
            later = news18 + news19 + news20 + news21 + news22 + news23
            dev = [r for r in rows + earlier + later if r["lang"] == lang]
            out[lang] = (dev, [r for r in news24 if r["lang"] == lang])
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
