"""Train the learned figure decider (monitor/figures/decide.py) on the labelled English sets, and say how it does.

    .venv/bin/pip install -e '.[train]'          # scikit-learn: training only; the shipped model needs nothing
    .venv/bin/python bench/figures_train.py [--shared ../shared] [--folds 5] [--out monitor/figures/model_en.json]

Candidate-then-decide: the rules find every number that may count people (monitor.figures.extract.
sentence_candidates) and give most a category; each candidate is labelled from the gold figures of its text (the
gold category with the candidate's bounds, else "none"; candidates equal to an `optional` figure are left out)
and described by decide.features. A multinomial logistic regression learns category-or-none from them.

How confident the model must be to overrule the rules (add_at, drop_at) is chosen by cross-validation over texts
(--folds, fixed seed): each fold is decided by a model trained on the others, and the thresholds with the best F1
over all folds' texts win. The report prints that cross-validated F1 beside the rules alone. The model shipped is
then trained on every text. Its weights are written as JSON (features seen at least twice, weights rounded).

Training data: every labelled set the project has in the languages asked for (English: the feed items and their
later samples, the deployments-and-captives texts, the sixth to twenty-third own samples, shared/figures/dev.jsonl,
tests/figures_cases.jsonl; --langs de,es,fr,pl,ru,uk --add-only: the Polish feed items and the own texts in those
languages, pooled into one model, model_multi.json, that only adds). A set kept blind for the model must not be in
it: score such a set only after training, once. The models of VERSION 2026.12.03-25 were trained on the English
and pooled sets with the twenty-third samples and the nineteenth Polish feed sample included, before the
twenty-fourth samples (news_blind24_*) and the twentieth Polish feed sample were scored; those judge them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures_quality import rows_of  # noqa: E402

from monitor.figures import decide, evaluate, extract, lexicon, link  # noqa: E402

SEED = 20261203
Key = tuple[str, int | None, int | None]


def labelled_rows(shared: Path, languages: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every labelled text in `languages` (the project's sets and, for English, tests/figures_cases.jsonl)."""
    rows = [r for split in ("dev", "blind") for r in rows_of(shared, split) if r.get("lang", "en") in languages]
    cases = evaluate.read_gold(ROOT / "tests" / "figures_cases.jsonl")
    rows += [{**r, "source": "cases"} for r in cases if r.get("lang", "en") in languages]
    return rows


CATEGORIES = ("killed", "wounded", "casualties", "captured", "missing", "deployed")


def candidates(row: dict[str, Any]) -> list[tuple[list[str], str, str, Key, frozenset[str]]]:
    """(features, gold class, rules' class, key, categories the guideline allows) of every candidate in the text."""
    lex = lexicon.load(row.get("lang", "en"))
    gold: dict[tuple[int | None, int | None], list[str]] = {}
    for f in row["figures"]:
        gold.setdefault((f.get("low"), f.get("high")), []).append(f["category"])
    optional = {(f["category"], f.get("low"), f.get("high")) for f in row.get("optional", [])}
    optional_bounds = {(k[1], k[2]) for k in optional}
    out = []
    text = row["text"]
    _, chosen = extract.figure_sentences(text, lex)
    earlier = link.Earlier()  # as extract._find reads it: what earlier sentences spoke of
    with decide.using(lex.language, None):
        for _, start, end, has_words, captive_unseen in chosen:
            if captive_unseen and not earlier.captive:
                earlier = link.Earlier(True, earlier.deploying)
            found = extract.sentence_candidates(text, start, end, lex, has_words, earlier)
            if found is None:
                continue
            s, cands = found
            earlier = extract.spoken_of(earlier, s, cands)
            for c in cands:
                bounds = (c.expr.low, c.expr.high)
                rule = c.link.category if c.link else decide.NONE
                cats = gold.get(bounds, [])
                if cats:
                    label = rule if rule in cats else cats[0]
                elif bounds in optional_bounds:
                    continue  # the annotators disagreed: neither a figure nor none
                else:
                    label = decide.NONE
                feats = decide.features(s, c)
                near = decide.supported(feats)
                allowed = frozenset(k for k in CATEGORIES if k in near and not link.vetoed(s, c.expr, c.who, k))
                out.append((feats, label, rule, (label, *bounds), allowed))
    return out


def train(examples: list[tuple[list[str], str]], c_value: float) -> Any:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for feats, _ in examples for f in set(feats))
    keep = {f for f, n in counts.items() if n >= 2}
    vec = DictVectorizer()
    x = vec.fit_transform([{f: 1 for f in feats if f in keep} for feats, _ in examples])
    y = [label for _, label in examples]
    model = LogisticRegression(C=c_value, max_iter=3000)
    model.fit(x, y)
    return vec, model


def to_decider(vec: Any, model: Any, add_at: float, drop_at: float, switch_at: float) -> decide.Decider:
    names = vec.get_feature_names_out()
    coef = model.coef_
    weights = {}
    for j, name in enumerate(names):
        w = [round(float(coef[i, j]), 4) for i in range(len(model.classes_))]
        if any(abs(v) >= 0.001 for v in w):
            weights[str(name)] = w
    return decide.Decider(
        tuple(str(c) for c in model.classes_),
        tuple(round(float(v), 4) for v in model.intercept_),
        weights,
        add_at,
        drop_at,
        switch_at,
    )


def score_keys(rows: list[dict[str, Any]], predicted: dict[str, set[Key]]) -> dict[str, Any]:
    preds = {
        rid: [{"category": k[0], "low": k[1], "high": k[2]} for k in keys if k[0] != decide.NONE]
        for rid, keys in predicted.items()
    }
    return evaluate.score(rows, preds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, default=0.5, help="inverse regularisation strength")
    parser.add_argument(
        "--langs",
        default="en",
        help="languages to train one model on, comma-separated (default en; e.g. de,es,fr,pl,ru,uk: one pooled model)",
    )
    parser.add_argument(
        "--out", type=Path, help="model file (default monitor/figures/model_en.json, or model_multi.json)"
    )
    parser.add_argument("--dry-run", action="store_true", help="cross-validate and report; write no model")
    parser.add_argument(
        "--add-only",
        action="store_true",
        help="never drop or switch what the rules found: the model then reads only the counts the rules left open "
        "(the pooled model is trained so, to keep figures within their time budget in those languages)",
    )
    args = parser.parse_args()
    languages = tuple(sorted(x.strip() for x in args.langs.split(",") if x.strip()))
    name = f"model_{languages[0]}.json" if len(languages) == 1 else "model_multi.json"
    out_path: Path = args.out or ROOT / "monitor" / "figures" / name

    rows = labelled_rows(args.shared, languages)
    per_row = {str(r["id"]): candidates(r) for r in rows}
    ids = sorted(per_row)
    random.Random(SEED).shuffle(ids)
    fold_of = {rid: i % args.folds for i, rid in enumerate(ids)}
    print(
        f"{len(rows)} texts in {', '.join(languages)}, {sum(len(v) for v in per_row.values())} candidates", flush=True
    )

    # out-of-fold probabilities for every candidate
    oof: dict[str, list[dict[str, float]]] = {}
    for fold in range(args.folds):
        train_ex = [(f, lab) for rid, cs in per_row.items() if fold_of[rid] != fold for f, lab, _, _, _ in cs]
        vec, model = train(train_ex, args.c)
        d = to_decider(vec, model, 1.0, 1.0, 1.0)
        for rid, cs in per_row.items():
            if fold_of[rid] == fold:
                oof[rid] = [d.probabilities(f) for f, _, _, _, _ in cs]
        print(f"fold {fold + 1}/{args.folds} trained on {len(train_ex)} candidates", flush=True)

    def decided(add_at: float, drop_at: float, switch_at: float = 1.01) -> dict[str, set[Key]]:
        out: dict[str, set[Key]] = {}
        for rid, cs in per_row.items():
            keys: set[Key] = set()
            for (_, _, rule, key, allowed), p in zip(cs, oof[rid], strict=True):
                cat = rule
                best = max(allowed, key=p.__getitem__) if allowed else None
                if rule == decide.NONE:
                    if best is not None and p[best] >= add_at:
                        cat = best
                elif p.get(decide.NONE, 0.0) >= drop_at:
                    cat = decide.NONE
                elif best is not None and best != rule and p[best] >= switch_at:
                    cat = best
                if cat != decide.NONE:
                    keys.add((cat, key[1], key[2]))
            out[rid] = keys
        return out

    rules_alone = score_keys(rows, decided(1.01, 1.01))
    best = (rules_alone["overall"]["f1"], 1.01, 1.01, 1.01)
    for add_at in (0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01):
        for drop_at in (0.6, 0.7, 0.8, 0.9, 0.95, 1.01):
            for switch_at in (0.9, 0.95, 1.01):  # overruling a category the rules gave needs near certainty
                f1 = score_keys(rows, decided(add_at, drop_at, switch_at))["overall"]["f1"]
                if f1 > best[0] + 1e-9:
                    best = (f1, add_at, drop_at, switch_at)
    best_f1, add_at, drop_at, switch_at = best
    # A model that only adds reads only the counts the rules left open, a fraction of the work: prefer it when
    # dropping and switching gain nothing in cross-validation.
    add_only = score_keys(rows, decided(add_at, 1.01, 1.01))["overall"]["f1"]
    if (drop_at, switch_at) != (1.01, 1.01) and (args.add_only or add_only >= best_f1 - 0.0005):
        print(f"dropping and switching gain {best_f1 - add_only:+.4f} F1 in cross-validation: the model only adds")
        drop_at = switch_at = 1.01
    chosen = score_keys(rows, decided(add_at, drop_at, switch_at))

    def line(name: str, s: dict[str, Any]) -> str:
        o = s["overall"]
        cats = " ".join(f"{k} {v['f1']:.3f}" for k, v in s["categories"].items())
        return f"{name}: P {o['precision']:.3f} R {o['recall']:.3f} F1 {o['f1']:.3f} | {cats}"

    print(
        f"thresholds chosen by {args.folds}-fold cross-validation: "
        f"add_at {add_at}, drop_at {drop_at}, switch_at {switch_at}"
    )
    print(line("rules alone (candidate keys)     ", rules_alone))
    print(line("rules + model, cross-validated   ", chosen))
    if len(languages) > 1:
        base, mine = decided(1.01, 1.01), decided(add_at, drop_at, switch_at)
        for lang in languages:
            part = [r for r in rows if r.get("lang", "en") == lang]
            print(line(f"  {lang} rules alone                ", score_keys(part, base)))
            print(line(f"  {lang} rules + model (CV)         ", score_keys(part, mine)))
    if args.dry_run:
        return 0

    vec, model = train([(f, lab) for cs in per_row.values() for f, lab, _, _, _ in cs], args.c)
    d = to_decider(vec, model, add_at, drop_at, switch_at)
    data = {
        "classes": list(d.classes),
        "intercept": list(d.intercept),
        "add_at": d.add_at,
        "drop_at": d.drop_at,
        "switch_at": d.switch_at,
        "languages": list(languages),
        "trained_on": f"{len(rows)} texts in {', '.join(languages)} (bench/figures_train.py)",
        "weights": dict(sorted(d.weights.items())),
    }
    out_path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {out_path} ({len(d.weights)} features, {out_path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
