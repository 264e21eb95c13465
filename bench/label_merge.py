"""Merge two annotators' labels into a gold set, and report their agreement.

    python bench/label_merge.py A.jsonl B.jsonl --split tests/figures_data/feed_items_split.jsonl \\
        --out tests/figures_data/feed_items_gold.jsonl

Figures both annotators list (same category, low and high) are gold; the ones only one lists become
`optional` (neither credited nor penalised when scored). Agreement is F1 of A against B on those keys.
The gold file keeps ids and labels only: texts stay where they came from (shared/ or the project's own sets).
Claimants of both annotators are kept (`claimants`): a predicted claimant is right when it names either.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

FIELDS = ("category", "low", "high", "qualifier")
SEED = 20261203
BLIND_SHARE = 0.30


def _key(f: dict[str, Any]) -> tuple[str, int | None, int | None]:
    return (f["category"], f.get("low"), f.get("high"))


def _read(paths: list[Path]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for path in paths:
        for line in path.open(encoding="utf-8"):
            if line.strip():
                row = json.loads(line)
                rows[row["id"]] = row
    return rows


def _draw_split(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{id: {lang, split, text}}: 30% of each language blind, drawn with the fixed seed."""
    rng = random.Random(SEED)
    by_lang: dict[str, list[str]] = {}
    for gid in sorted(rows):
        by_lang.setdefault(rows[gid]["lang"], []).append(gid)
    blind: set[str] = set()
    for lang in sorted(by_lang):
        blind |= set(rng.sample(by_lang[lang], round(len(by_lang[lang]) * BLIND_SHARE)))
    return {
        gid: {"lang": rows[gid]["lang"], "text": rows[gid]["text"], "split": "blind" if gid in blind else "dev"}
        for gid in sorted(rows)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, nargs="+", required=True, help="annotator A's files")
    parser.add_argument("--b", type=Path, nargs="+", required=True, help="annotator B's files")
    parser.add_argument(
        "--split",
        type=Path,
        help="JSONL of {id, lang, split}; without it the texts are the "
        "project's own (A's rows carry them): they are kept, and 30%% per language drawn blind",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    a, b = _read(args.a), _read(args.b)
    split = {r["id"]: r for r in map(json.loads, args.split.open(encoding="utf-8"))} if args.split else _draw_split(a)
    missing = [i for i in split if i not in a or i not in b]
    if missing:
        raise SystemExit(f"error: {len(missing)} ids lack a label from one annotator, e.g. {missing[0]}")
    agree: Counter[str] = Counter()
    with args.out.open("w", encoding="utf-8") as out:
        for gid, meta in split.items():
            fa = {_key(f): f for f in a[gid]["figures"]}
            fb = {_key(f): f for f in b[gid]["figures"]}
            both = [k for k in fa if k in fb]
            lang = meta["lang"]
            agree[lang + ":both"] += len(both)
            agree[lang + ":a"] += len(fa)
            agree[lang + ":b"] += len(fb)
            gold = []
            for k in both:
                f = {field: fa[k].get(field) for field in FIELDS}
                claimants = sorted({c for c in (fa[k].get("claimant"), fb[k].get("claimant")) if c})
                f["claimants"] = claimants
                gold.append(f)
            optional = [
                {field: f.get(field) for field in FIELDS}
                for k, f in list(fa.items()) + list(fb.items())
                if k not in both
            ]
            row = {"id": gid, "lang": lang, "split": meta["split"], "figures": gold, "optional": optional}
            if "text" in meta:
                row["text"] = meta["text"]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    for lang in sorted({k.split(":")[0] for k in agree}):
        n, na, nb = agree[lang + ":both"], agree[lang + ":a"], agree[lang + ":b"]
        p, r = n / nb if nb else 1.0, n / na if na else 1.0
        print(f"{lang}: A {na} figures, B {nb}, both {n}; agreement F1 {2 * p * r / (p + r):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
