"""Figure scope: a running total or one incident, decided from the figure's clause and sentence (figures.scope)."""

from __future__ import annotations

import pytest

from monitor import figures
from monitor.figures import scope


def scopes(text: str) -> list[tuple[str, int | None, str]]:
    return [(f.category, f.low, f.scope) for f in figures.find(text)]


@pytest.mark.parametrize(
    ("sentence", "want"),
    [
        # totals: a running count, a toll, a period up to now, or nothing that says one event (the default)
        ("About 600 North Korean soldiers have been killed so far, the agency said.", "total"),
        ("The death toll rose to 45 on Sunday.", "total"),
        ("In total, 1,200 soldiers have been wounded.", "total"),
        ("Since October, about 300 North Korean troops have died in the Kursk region.", "total"),
        ("At least 12 people were killed when the river flooded.", "total"),
        ("200 North Korean soldiers were killed in their first assaults.", "total"),  # assaults: many events
        # incidents: one event
        ("Two soldiers had been captured, one of whom later died.", "incident"),
        ("Five soldiers were killed in Tuesday's strike on the base.", "incident"),
        ("Eight soldiers were killed in an attack on a convoy near Sudzha.", "incident"),
        ("At least 12 civilians were killed when a drone struck a village.", "incident"),
    ],
)
def test_the_sentence_decides_the_scope(sentence: str, want: str) -> None:
    found = figures.find(sentence)
    assert found, sentence
    assert found[-1].scope == want, (sentence, scopes(sentence))


def test_the_clause_decides_before_the_sentence() -> None:
    assert scopes("A drone strike on a convoy killed 12 soldiers, bringing the death toll to 300.") == [
        ("killed", 12, "incident"),
        ("killed", 300, "total"),
    ]
    assert scopes("Since October, about 300 have died, including 12 in Tuesday's strike.") == [
        ("killed", 300, "total"),
        ("killed", 12, "incident"),
    ]


def test_korean_and_russian_cues() -> None:
    assert [f.scope for f in figures.find("북한군 누적 사상자가 3000명을 넘었다고 국정원이 밝혔다.")] == ["total"]
    assert [
        f.scope
        for f in figures.find("По данным Генштаба ВСУ, в результате удара погибли около 30 северокорейских военных.")
    ] == ["incident"]


def test_decide_takes_the_whole_text_and_the_figures_offsets() -> None:
    text = "The toll is 300. Then a blast killed 4 soldiers."
    start = text.index("killed 4")
    assert scope.decide(text, start, start + len("killed 4 soldiers")) == scope.INCIDENT
    assert scope.decide(text, text.index("300"), text.index("300") + 3) == scope.TOTAL
    assert scope.SCOPES == ("total", "incident")
