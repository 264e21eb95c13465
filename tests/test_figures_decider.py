"""The learned figure decider (monitor/figures/decide.py): the shipped model, what it adds to the rules on
sentences it was never trained on, the guideline lines it never crosses, and its training script.

Every sentence here was written for these tests after the model was trained; none is in its training data."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.figures import decide, extract, find, lexicon

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

Key = tuple[str, int | None, int | None]


def keys(text: str) -> set[Key]:
    return {(f.category, f.low, f.high) for f in find(text, "en")}


def rules_alone(text: str) -> set[Key]:
    with decide.using("en", None):
        return keys(text)


def test_the_english_model_ships_and_loads() -> None:
    model = decide.model_for("en")
    assert model is not None
    assert decide.NONE in model.classes
    assert {"killed", "wounded", "casualties", "captured", "missing", "deployed"} <= set(model.classes)
    assert 0 < model.add_at <= 1.01 and 0 < model.drop_at <= 1.01 and 0 < model.switch_at <= 1.01
    assert len(model.weights) > 1000


def test_probabilities_are_a_distribution() -> None:
    model = decide.model_for("en")
    assert model is not None
    lex = lexicon.load("en")
    for text, expected in (
        ("Twelve people were killed in the blast.", "killed"),
        ("The ministry approved a budget of 400 million.", decide.NONE),
    ):
        found = extract.sentence_candidates(text, 0, len(text), lex, True)
        assert found is not None
        s, cands = found
        p = model.probabilities(decide.features(s, cands[0]))
        assert set(p) == set(model.classes)
        assert math.isclose(sum(p.values()), 1.0, rel_tol=1e-9)
        assert max(p, key=p.__getitem__) == expected, (text, p)


@pytest.mark.parametrize(
    ("text", "added"),
    [
        # a count joined to the victim by "with": the rules see no verb of its own
        ("The engineer was abducted with three Nigerian colleagues near the mine.", ("captured", 3, 3)),
        # survivors "with injuries": no verb of harm the rules know
        (
            "Five marines were killed when a transport plane crashed in a storm, the navy said. Three crew members "
            "survived with injuries.",
            ("wounded", 3, 3),
        ),
        # a bare count set off by dashes after "called up reservists"
        ("The army called up reservists at record speed — 50,000 within a week.", ("deployed", 50000, 50000)),
    ],
)
def test_the_model_adds_what_the_rules_miss(text: str, added: Key) -> None:
    assert added not in rules_alone(text)
    assert added in keys(text)


@pytest.mark.parametrize(
    "text",
    [
        "France will withdraw its 1,500 troops from Niger.",
        "Around 200 of the 1,000 troops sent to the region have returned.",
        "Refugees: 1,000 people fled the fighting in which a soldier was killed.",
        "The army plans to recruit 10,000 additional soldiers over the next three years.",
        "Israel freed 30 political prisoners as part of the deal.",
        "The town's council approved a budget of 400 for the festival.",
    ],
)
def test_the_model_never_crosses_the_guideline(text: str) -> None:
    """Withdrawals, intakes, state detainees, people who are not casualties, numbers near no trigger: whatever
    the model's weights say, what the rules rule out stays out."""
    extra = keys(text) - rules_alone(text)
    assert not extra, extra


def test_a_damaged_model_file_says_what_to_do() -> None:
    with pytest.raises(decide.ModelError, match=r"bench/figures_train\.py"):
        decide.Decider.from_json({"classes": ["killed"]})
    with pytest.raises(decide.ModelError, match="none"):
        decide.Decider.from_json(
            {"classes": ["killed"], "intercept": [0.0], "weights": {}, "add_at": 0.5, "drop_at": 0.9, "switch_at": 1}
        )


def test_a_language_without_a_model_is_decided_by_the_rules() -> None:
    assert decide.model_for("pt") is None
    text = "Cinco pessoas morreram no acidente."
    assert {(f.category, f.low) for f in find(text, "pt")} == {("killed", 5)}


def test_one_pooled_model_decides_the_languages_it_was_trained_on() -> None:
    pooled = decide.model_for("ru")
    assert pooled is not None
    for language in ("de", "es", "fr", "pl", "uk"):
        assert decide.model_for(language) is pooled
    assert decide.model_for("en") is not pooled


def test_the_pooled_model_only_adds_and_never_removes_what_the_rules_found() -> None:
    """Cross-validation gave the pooled model nothing for dropping or switching: it reads only the counts the rules
    left open (a fraction of the work), so every figure the rules find stays."""
    pooled = decide.model_for("ru")
    assert pooled is not None and pooled.drop_at > 1 and pooled.switch_at > 1
    for lang, text in [
        ("ru", "При обстреле погибли 4 человека, ещё 11 ранены."),
        ("de", "Bei dem Angriff wurden 7 Menschen getötet und 20 verletzt."),
        ("pl", "W wypadku zginęło pięć osób, a trzy zostały ranne."),
    ]:
        found = {(f.category, f.low, f.high) for f in find(text, lang)}
        with decide.using(lang, None):
            alone = {(f.category, f.low, f.high) for f in find(text, lang)}
        assert alone <= found, (lang, alone - found)


# Written for this test after the pooled model was trained: counts the rules leave open in each language.
@pytest.mark.parametrize(
    ("lang", "text", "key"),
    [
        ("uk", "На півночі Молдови досі перебувають близько 1200 російських військових.", ("deployed", 1200, 1200)),
        ("es", "Con ellos ya son más de 9.000 los militares desplegados en la región.", ("deployed", 9000, None)),
        ("de", "Das Mandat sieht bis zu 500 Soldatinnen und Soldaten vor.", ("deployed", None, 500)),
        ("ru", "Боевики удерживают не менее 15 рабочих, сообщает агентство.", ("captured", 15, None)),
    ],
)
def test_the_pooled_model_adds_what_the_rules_miss_in_other_languages(lang: str, text: str, key: Key) -> None:
    found = {(f.category, f.low, f.high) for f in find(text, lang)}
    with decide.using(lang, None):
        alone = {(f.category, f.low, f.high) for f in find(text, lang)}
    assert key in found and key not in alone


@pytest.mark.slow
def test_the_training_script_trains_a_model_that_loads(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="pip install -e '.[train]' to retrain the model")
    if not SHARED.exists():
        pytest.skip(f"shared data not found at {SHARED}")
    out = tmp_path / "model_en.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "figures_train.py"), "--folds", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert "rules + model, cross-validated" in run.stdout
    model = decide.Decider.from_json(json.loads(out.read_text(encoding="utf-8")))
    assert decide.NONE in model.classes and len(model.weights) > 1000
