"""Draw the labelled sample of shared/corpus/feed_items/pool.jsonl and its dev/blind split (fixed seed).

    python bench/label_sample.py ../shared/corpus/feed_items/pool.jsonl --out tests/figures_data/feed_items_split.jsonl
    python bench/label_sample.py ../shared/corpus/feed_items/pool.jsonl --en 700 --pl 0 --blind-share 1 \
        --seed 20261204 --exclude tests/figures_data/feed_items_split.jsonl \
        --out tests/figures_data/feed_items_blind2_split.jsonl

The second form draws a further, wholly blind sample from the items not drawn before: once the first blind part
had been scored, it joined the development data, and this one took its place (the third sample, seed 20261205,
excluded both earlier files the same way).

Writes one line per sampled item: {"id", "lang", "split"} (no text: the pool's texts stay in shared/).
The split is drawn before any item is labelled or any rule is changed: 30% of each language goes to `blind`,
which is scored only at the end of a round of work (docs/figures.md, "Evaluation").
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20261203
PER_LANGUAGE = {"en": 1000, "pl": 560}
BLIND_SHARE = 0.30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pool", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--en", type=int, default=PER_LANGUAGE["en"], help="English items to draw")
    parser.add_argument("--pl", type=int, default=PER_LANGUAGE["pl"], help="Polish items to draw")
    parser.add_argument("--blind-share", type=float, default=BLIND_SHARE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--exclude", type=Path, help="a split file whose items are not drawn again")
    args = parser.parse_args()
    items = [json.loads(line) for line in args.pool.open(encoding="utf-8") if line.strip()]
    if args.exclude:
        taken = {json.loads(line)["id"] for line in args.exclude.open(encoding="utf-8") if line.strip()}
        items = [i for i in items if i["id"] not in taken]
    rng = random.Random(args.seed)
    rows = []
    for lang, n in {"en": args.en, "pl": args.pl}.items():
        if n <= 0:
            continue
        pool = sorted((i for i in items if i["lang"] == lang), key=lambda i: i["id"])
        picked = rng.sample(pool, n)
        blind = {i["id"] for i in rng.sample(picked, round(n * args.blind_share))}
        rows += [{"id": i["id"], "lang": lang, "split": "blind" if i["id"] in blind else "dev"} for i in picked]
    rng.shuffle(rows)
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    print(f"{len(rows)} items -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
