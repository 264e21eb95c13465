"""Robustness of monitor.figures.find: any str input, valid records, bounded and linear cost."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import figures

WORLD_POPULATION = 8_200_000_000
# Generous: a 1 MB adversarial string takes a few seconds on a slow machine; the point is that it is linear.
MAX_SECONDS_PER_MB = 30.0

# Text built from the pieces figures are made of, so hypothesis reaches the extractor's inner paths.
PIECES = [
    "killed",
    "wounded",
    "dead",
    "casualties",
    "captured",
    "missing",
    "troops",
    "soldiers",
    "deployed",
    "sent",
    "death toll",
    "rose to",
    "at least",
    "about",
    "up to",
    "between",
    "and",
    "to",
    "-",
    "\u2013",
    "+",
    ",",
    ".",
    ";",
    "(",
    ")",
    "of them",
    "including",
    "people",
    "1",
    "12",
    "1,000",
    "15 000",
    "15.000",
    "1.5 million",
    "11k",
    "seven",
    "twenty-one",
    "a dozen",
    "one",
    "hundreds",
    "2024",
    "$5",
    "%",
    "19",
    "-year-old",
    "said",
    "according to",
    "the ministry",
    "Seoul's",
    "\u202f",
    "\u00a0",
    "İ",
    "ß",
    "\n",
    "\u201c",
    "\u201d",
    "'",
    "#",
    "day",
    "Brigade",
    "bodies",
    "found",
    "number of",
    "total",
    "lost",
    "shot",
    "in",
    "Kursk",
    "Soldaten",
    "muertos",
]


def check(text: str) -> None:
    result = figures.find(text)
    assert isinstance(result, list)
    assert [f.start for f in result] == sorted(f.start for f in result)
    for f in result:
        assert f.category in figures.CATEGORIES
        assert 0 <= f.start < f.end <= len(text)
        assert f.quote == text[f.start : f.end]
        for value in (f.low, f.high):
            assert value is None or (isinstance(value, int) and 0 < value <= WORLD_POPULATION)
        if f.low is not None and f.high is not None:
            assert f.low <= f.high
        if f.qualifier in ("exact", "approximate"):
            assert f.low is not None and f.low == f.high
        elif f.qualifier == "at_least":
            assert f.low is not None and f.high is None
        elif f.qualifier == "at_most":
            assert f.low is None and f.high is not None
        else:
            assert f.qualifier == "range" and f.low is not None and f.high is not None and f.low < f.high
        assert f.who is None or f.who in f.quote or f.who in text
        assert f.claimant is None or f.claimant in text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_text(text: str) -> None:
    check(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([" ", "", "  "]))
def test_text_made_of_figure_pieces(pieces: list[str], sep: str) -> None:
    check(sep.join(pieces))


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(SURROGATES, min_size=1, max_size=2), max_size=30))
def test_lone_surrogates(pieces: list[str]) -> None:
    # Text decoded with errors="surrogateescape" holds lone surrogates; text2num's Rust core panics on them.
    check(" ".join(pieces))


def test_lone_surrogate_next_to_a_number_word() -> None:
    found = figures.find("\ud800 five soldiers were killed \udcff")
    assert [(f.category, f.low) for f in found] == [("killed", 5)]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**30), st.sampled_from(["soldiers were killed", "dead", "troops"]))
def test_counts_bounded_by_world_population(value: int, tail: str) -> None:
    text = f"At least {value:,} {tail} on Monday."
    check(text)
    if value > WORLD_POPULATION:
        assert all(f.low != value and f.high != value for f in figures.find(text))


def test_count_above_world_population_is_dropped() -> None:
    assert figures.find("Officials said 9,000,000,000 people were killed.") == []
    assert figures.find("Officials said 12 billion people were killed.") == []


ADVERSARIAL = {
    "numbers": "1 ",
    "triggers": "killed ",
    "numbers and triggers": "killed 1 ",
    "grouped digits": "1,000,",
    "spaced digits": "111 ",
    "dotted digits": "1.1.",
    "figure sentences": "3 soldiers were killed and ",
    "number words": "one two three killed ",
    "open parentheses": "( killed 5 ",
    "asides": "5 soldiers , including ",
    "hyphens": "1-1-",
    "sentence ends": ". ",
    "tolls": "death toll rose to ",
}


@pytest.mark.slow  # five megabytes of adversarial text: ~15 s of CPU
@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=list(ADVERSARIAL))
def test_one_megabyte_adversarial_input_is_linear(unit: str) -> None:
    big = unit * (1_000_000 // len(unit))
    small = big[: len(big) // 4]
    start = time.perf_counter()
    check(small)
    small_s = time.perf_counter() - start
    start = time.perf_counter()
    check(big)
    big_s = time.perf_counter() - start
    assert big_s < MAX_SECONDS_PER_MB
    # Four times the input may cost at most about four times the time (with slack for timer noise).
    assert big_s < 8 * small_s + 0.5


@pytest.mark.parametrize("text", ["a" * 1_000_000, "9" * 1_000_000, "\n" * 100_000, "İ" * 100_000 + " 5 killed"])
def test_long_runs(text: str) -> None:
    start = time.perf_counter()
    check(text)
    assert time.perf_counter() - start < MAX_SECONDS_PER_MB
