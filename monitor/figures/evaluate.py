"""Figure extraction, evaluation: precision, recall and F1 of figures.find against a labelled JSONL set.

    python -m monitor.figures.evaluate ../shared/figures/dev.jsonl [--errors] [--predictions OUT.jsonl]
    python -m monitor.figures.evaluate tests/figures_data/feed_items_gold.jsonl \
        --texts ../shared/corpus/feed_items/pool.jsonl --split dev --lang en

A gold set may hold labels only (ids): --texts names the JSONL its texts come from (joined on id).
Rows with a `lang` are read in that language; claimants are scored on matched figures whose gold names
the claimants (`claimants`: any of them, compared without case, articles and possessives).

Figures match on (category, low, high) per text, as sets; a prediction equal to an "optional" gold figure is
neither credited nor penalised (the same rules as shared/figures/score.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .extract import find

Key = tuple[str, int | None, int | None]


class GoldError(ValueError):
    """A labelled set line is not a JSON object with an id and a list of figures."""


def _key(figure: Mapping[str, Any]) -> Key:
    return (str(figure["category"]), figure.get("low"), figure.get("high"))


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def _name(claimant: object) -> str:
    words = str(claimant or "").lower().replace("\u2019", "'").replace("'s ", " ").split()
    return " ".join(w for w in words if w not in {"the", "a", "an"})


def claimant_right(predicted: object, gold: Sequence[object]) -> bool:
    """Whether a predicted claimant names the gold source: equal, or one contains the other; null only when
    the gold names none."""
    names = [_name(g) for g in gold if g]
    mine = _name(predicted)
    if not names:
        return not mine
    return bool(mine) and any(mine == g or mine in g or g in mine for g in names)


def score(
    gold_rows: Iterable[Mapping[str, Any]], predictions: Mapping[str, Iterable[Mapping[str, Any]]]
) -> dict[str, Any]:
    """Score predicted figures (id -> figure dicts) against gold rows.

    Returns {"overall": {...}, "categories": {name: {...}}, "sources": {name: {...}},
    "qualifier_accuracy": float, "errors": [str, ...]}; each {...} holds precision, recall, f1, tp, fp, fn.
    """
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    errors: list[str] = []
    qual_ok = qual_all = claim_ok = claim_all = 0
    for row in gold_rows:
        gid = str(row["id"])
        gold = {_key(f): f for f in row["figures"]}
        optional = {_key(f) for f in row.get("optional", [])}
        pred = {_key(f): f for f in predictions.get(gid, [])}
        source = "src:" + str(row.get("source", "all"))
        for k, f in pred.items():
            if k in gold:
                slot = 0
                qual_all += 1
                qual_ok += f.get("qualifier") == gold[k].get("qualifier")
                if "claimants" in gold[k]:
                    claim_all += 1
                    if claimant_right(f.get("claimant"), gold[k]["claimants"]):
                        claim_ok += 1
                    else:
                        errors.append(f"CL {gid}: {k} claimant {f.get('claimant')!r}, gold {gold[k]['claimants']!r}")
            elif k not in optional:
                slot = 1
                errors.append(f"FP {gid}: {k}  <- {f.get('quote')!r}")
            else:
                continue
            for name in ("all", "cat:" + k[0], source):
                tally[name][slot] += 1
        for k in gold:
            if k not in pred:
                errors.append(f"FN {gid}: {k}  <- {gold[k].get('quote')!r}")
                for name in ("all", "cat:" + k[0], source):
                    tally[name][2] += 1
    return {
        "overall": _prf(*tally["all"]),
        "categories": {n[4:]: _prf(*v) for n, v in sorted(tally.items()) if n.startswith("cat:")},
        "sources": {n[4:]: _prf(*v) for n, v in sorted(tally.items()) if n.startswith("src:")},
        "qualifier_accuracy": qual_ok / qual_all if qual_all else 1.0,
        "claimant_accuracy": claim_ok / claim_all if claim_all else 1.0,
        "claimants_scored": claim_all,
        "errors": errors,
    }


def read_gold(path: Path) -> list[dict[str, Any]]:
    """The rows of a labelled JSONL file."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("figures"), list):
                raise GoldError(f"{path}:{number}: expected an object with 'id' and a 'figures' list.")
            rows.append(row)
    return rows


def with_texts(rows: list[dict[str, Any]], texts: Path) -> list[dict[str, Any]]:
    """The rows with the `text` of the same id in `texts` (a JSONL file of {id, text, ...})."""
    wanted = {str(r["id"]) for r in rows}
    found: dict[str, str] = {}
    with texts.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if str(item.get("id")) in wanted:
                found[str(item["id"])] = str(item["text"])
    lacking = wanted - found.keys()
    if lacking:
        raise GoldError(
            f"{texts}: no text for {len(lacking)} labelled ids (e.g. {min(lacking)}); "
            "pass the file the labels were made from."
        )
    return [{**r, "text": found[str(r["id"])]} for r in rows]


def predict(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, object]]]:
    """figures.find over each row's text (in the row's `lang` when it has one): id -> figure dicts."""
    return {str(row["id"]): [f.to_dict() for f in find(str(row.get("text", "")), row.get("lang"))] for row in rows}


def _line(name: str, s: Mapping[str, Any]) -> str:
    return (
        f"{name:24s} P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f}  "
        f"(tp={s['tp']} fp={s['fp']} fn={s['fn']})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the scores of figures.find on a labelled set; exit 0 (2 on a bad file)."""
    parser = argparse.ArgumentParser(
        prog="python -m monitor.figures.evaluate",
        description="Score monitor.figures.find on a labelled JSONL set.",
        epilog="example: python -m monitor.figures.evaluate ../shared/figures/dev.jsonl --errors",
    )
    parser.add_argument("gold", type=Path, help="labelled JSONL: {id, source, text, figures, optional}")
    parser.add_argument("--errors", action="store_true", help="list false positives and negatives")
    parser.add_argument("--predictions", type=Path, help="also write predictions as JSONL here")
    parser.add_argument("--texts", type=Path, help="JSONL holding the texts of a labels-only gold set")
    parser.add_argument("--split", help="score only rows of this split (dev, blind)")
    parser.add_argument("--lang", help="score only rows in this language")
    args = parser.parse_args(argv)
    try:
        rows = read_gold(args.gold)
        rows = [
            r
            for r in rows
            if (args.split is None or r.get("split") == args.split)
            and (args.lang is None or r.get("lang") == args.lang)
        ]
        if args.texts:
            rows = with_texts(rows, args.texts)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    predictions = predict(rows)
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as out:
            for gid, figs in predictions.items():
                out.write(json.dumps({"id": gid, "figures": figs}, ensure_ascii=False) + "\n")
    result = score(rows, predictions)
    if args.errors:
        for error in result["errors"]:
            print(error)
    for name, s in result["categories"].items():
        print(_line("cat:" + name, s))
    for name, s in result["sources"].items():
        print(_line("src:" + name, s))
    print(f"qualifier accuracy on matched figures: {result['qualifier_accuracy']:.3f}")
    if result["claimants_scored"]:
        print(
            f"claimant accuracy on matched figures: {result['claimant_accuracy']:.3f} "
            f"({result['claimants_scored']} scored)"
        )
    o = result["overall"]
    print(
        f"overall P={o['precision']:.3f} R={o['recall']:.3f} F1={o['f1']:.3f} "
        f"(tp={o['tp']} fp={o['fp']} fn={o['fn']}, texts={len(rows)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
