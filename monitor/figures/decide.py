"""Figure extraction, the learned decider: candidate-then-decide over the rules' output.

The rules (link.py) find every number that may count people and give most of them a category. A small linear
model, trained on the labelled sets by `bench/figures_train.py` and shipped as `model_<lang>.json` beside this
file (or one pooled `model_multi.json` for several languages), reads the words around each candidate (and what
the rules decided) and revises the decision where it is confident: it adds a category the rules missed ("About
400 North Korean artillerymen are operating near …") and drops one it is sure is no figure. Where no model file
exists for a language, the rules decide alone.

The model is a multinomial logistic regression over sparse string features; scoring it is a few dozen dictionary
look-ups per candidate, in plain Python (no numerical library at run time).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import cast

from .link import Candidate, Link, Sentence, vetoed

NONE = "none"  # the class of a number that is no figure
LEFT_WINDOW = 8
RIGHT_WINDOW = 10
TRIGGER_SPAN = 12  # how far a category's trigger word is looked for, each side


class ModelError(ValueError):
    """A model file is not a model this code can read."""


@dataclass(frozen=True)
class Decider:
    """A trained model and its thresholds."""

    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: Mapping[str, Sequence[float]]
    add_at: float  # add a category the rules missed when its probability is at least this
    drop_at: float  # drop the rules' category when "no figure" is at least this likely
    switch_at: float  # change the rules' category when another is at least this likely

    def probabilities(self, features: Sequence[str]) -> dict[str, float]:
        scores = list(self.intercept)
        for f in features:
            w = self.weights.get(f)
            if w is not None:
                for i, v in enumerate(w):
                    scores[i] += v
        top = max(scores)
        exps = [math.exp(v - top) for v in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def revise(self, s: Sentence, cands: list[Candidate]) -> None:
        """Revise the rules' decisions in place where the model is confident."""
        add_only = self.drop_at > 1 and self.switch_at > 1
        for c in cands:
            if add_only and c.link is not None:
                continue  # a model that only adds reads only the counts the rules left open (most are decided)
            feats = features(s, c)
            near = supported(feats)
            if c.link is None and not near:
                continue  # nothing to add: no trigger near the count speaks of a category
            p = self.probabilities(feats)
            allowed = [k for k in sorted(near) if k in p and not vetoed(s, c.expr, c.who, k)]
            best = max(allowed, key=p.__getitem__) if allowed else None
            if c.link is None:
                if best is not None and p[best] >= self.add_at:
                    c.link = Link(best, c.expr.first, c.expr.last, "model")
            elif p.get(NONE, 0.0) >= self.drop_at:
                c.link = None
            elif best is not None and best != c.link.category and p[best] >= self.switch_at:
                c.link = Link(best, c.link.first, c.link.last, c.link.kind)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Decider:
        try:
            classes = tuple(str(c) for c in data["classes"])  # type: ignore[attr-defined]
            intercept = tuple(float(v) for v in data["intercept"])  # type: ignore[attr-defined]
            weights = {str(k): tuple(float(x) for x in v) for k, v in data["weights"].items()}  # type: ignore[attr-defined]
            add_at, drop_at = float(data["add_at"]), float(data["drop_at"])  # type: ignore[arg-type]
            switch_at = float(data["switch_at"])  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ModelError(f"not a figures model: {e}. Retrain it with bench/figures_train.py.") from e
        if NONE not in classes or len(intercept) != len(classes):
            raise ModelError("a figures model needs the class 'none' and one intercept per class.")
        return cls(classes, intercept, weights, add_at, drop_at, switch_at)


_OVERRIDE: dict[str, Decider | None] = {}


@contextlib.contextmanager
def using(language: str, decider: Decider | None) -> Iterator[None]:
    """Decide `language` with `decider` (None: the rules alone) inside the block: for training and evaluation."""
    before = _OVERRIDE.get(language, _UNSET)
    _OVERRIDE[language] = decider
    try:
        yield
    finally:
        if before is _UNSET:
            del _OVERRIDE[language]
        else:
            _OVERRIDE[language] = before  # type: ignore[assignment]


_UNSET = object()


def model_for(language: str) -> Decider | None:
    """The model deciding `language`: the shipped one, or None (the rules decide alone)."""
    if language in _OVERRIDE:
        return _OVERRIDE[language]
    return _shipped(language)


@functools.cache
def _shipped(language: str) -> Decider | None:
    """`model_<language>.json`, else the pooled `model_multi.json` when it was trained on `language`."""
    folder = resources.files("monitor.figures")
    own = folder / f"model_{language}.json"
    if own.is_file():
        return Decider.from_json(json.loads(own.read_text(encoding="utf-8")))
    pooled = _pooled()
    return pooled[1] if pooled is not None and language in pooled[0] else None


@functools.cache
def _pooled() -> tuple[frozenset[str], Decider] | None:
    f = resources.files("monitor.figures") / "model_multi.json"
    if not f.is_file():
        return None
    data = json.loads(f.read_text(encoding="utf-8"))
    return frozenset(str(x) for x in data.get("languages", ())), Decider.from_json(data)


def supported(feats: Sequence[str]) -> set[str]:
    """The categories the words near a candidate speak of: a trigger of the category on either side (or, for a
    deployment, counted troops): the model weighs evidence, it never invents a category from none."""
    out = {f.split("=", 1)[1] for f in feats if f.startswith(("trigL=", "trigR="))}
    if "head:troops" in feats or "cue:deploy" in feats:
        out.add("deployed")
    return out


def _words(s: Sentence) -> list[str]:
    """The sentence's words as the model reads them (numbers as "#"), computed once per sentence."""
    found = s.memo.get("decide_words")
    if found is None:
        at = s.numbers_at
        found = s.memo["decide_words"] = ["#" if t.kind == "num" or k in at else t.low for k, t in enumerate(s.tokens)]
    return cast(list[str], found)


def _triggers(s: Sentence) -> list[tuple[int, str, int]]:
    """(position, category, length) of every after-trigger of the sentence, computed once per sentence."""
    found = s.memo.get("decide_triggers")
    if found is None:
        found = s.memo["decide_triggers"] = [(k, *hit) for k in range(len(s.tokens)) if (hit := s.trigger_at(k))[1]]
    return cast(list[tuple[int, str, int]], found)


def features(s: Sentence, c: Candidate) -> list[str]:
    """The model's view of a candidate: the rules' decision, the words next to and around it, the counted noun,
    the nearest trigger of each category on each side, and cues of the sentence."""
    e, w, n = c.expr, c.who, len(s.tokens)
    ws = _words(s)
    out = [f"rule={c.link.category if c.link else NONE}", f"kind={c.link.kind if c.link else NONE}"]
    out.append(f"q={e.qualifier}")
    value = e.low if e.low is not None else e.high
    out.append(f"mag={0 if not value else min(7, int(math.log10(max(1, value))))}")
    end = w.last if w else e.last
    first = e.first
    for off in range(1, 4):
        if first - off >= 0:
            out.append(f"l{off}={ws[first - off]}")
        if end + off - 1 < n:
            out.append(f"r{off}={ws[end + off - 1]}")
    if first >= 2:
        out.append(f"l12={ws[first - 2]}_{ws[first - 1]}")
    if end + 1 < n:
        out.append(f"r12={ws[end]}_{ws[end + 1]}")
    out.extend("L=" + x for x in ws[max(0, first - LEFT_WINDOW) : first])
    out.extend("R=" + x for x in ws[end : min(n, end + RIGHT_WINDOW)])
    if w is not None and w.head:
        head = " ".join(w.head)
        out.append(f"head={head}")
        if head in s.lex.troops:
            out.append("head:troops")
    elif w is not None:
        out.append("who:bare")
    else:
        out.append("who:none")
    trigs = _triggers(s)
    # the words up to the first trigger after the count, as one feature; and back to the first trigger before it
    after = next(((k, cat) for k, cat, _ in trigs if end <= k < end + 6), None)
    if after is not None:
        k, cat = after
        out.append(f"gap={'_'.join(ws[end:k])}>{cat}")
        out.append(f"gapn={k - end}>{cat}")
    before = next(((k, cat, m) for k, cat, m in reversed(trigs) if max(0, first - 6) <= k < first), None)
    if before is not None:
        k, cat, m = before
        out.append(f"lgap={'_'.join(ws[k + m : first])}<{cat}")
        out.append(f"lgapn={first - k - m}<{cat}")
    seen: set[str] = set()
    for k, cat, _ in trigs:
        if k < first - TRIGGER_SPAN or k >= end + TRIGGER_SPAN or first <= k < end:
            continue
        side = "L" if k < first else "R"
        near = "1" if (first - k if side == "L" else k - end) <= 3 else "2"
        for f in (f"trig{side}={cat}", f"trig{side}{near}={cat}"):
            if f not in seen:
                seen.add(f)
                out.append(f)
    if s.deploy_cue:
        out.append("cue:deploy")
    if s.war_cue:
        out.append("cue:war")
    if s.captive_cue:
        out.append("cue:captive")
    if s.title_case:
        out.append("titlecase")
    return out
