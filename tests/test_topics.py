"""Topic queries: phrases, words, prefixes, AND / OR / NOT, parentheses, whole words, positions of errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import topics

REFERENCE = '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)'


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("North Korean soldiers were seen in Kursk.", ("Kursk", "North Korean")),
        ("Pyongyang and Moscow signed a pact; Ukraine protested.", ("Pyongyang", "Ukraine")),
        ("NORTH   KOREA sent troops to russia", ("North Korea", "Russia")),
        ("North Korea's leader visited Russia's far east", ("North Korea", "Russia")),
    ],
)
def test_reference_topic_matches(text: str, terms: tuple[str, ...]) -> None:
    assert topics.parse(REFERENCE).match(text) == terms


@pytest.mark.parametrize(
    "text",
    [
        "North Korea tested a missile.",  # no Russia side
        "Russia and Ukraine exchanged prisoners.",  # no Korea side
        "DPRKS and Russians",  # whole words only: neither DPRKS nor Russians is a term
    ],
)
def test_reference_topic_does_not_match(text: str) -> None:
    assert topics.parse(REFERENCE).match(text) is None


def test_not_minus_implicit_and_prefix() -> None:
    q = topics.parse("troops deploy* NOT exercise -drill")
    assert q.match("Troops were deployed to the border") == ("deploy*", "troops")
    assert q.match("troops deploying for an exercise") is None
    assert q.match("troops deploying for a drill") is None
    assert q.match("troops arrived") is None


def test_or_binds_looser_than_and() -> None:
    q = topics.parse("a OR b AND c")
    assert q.match("a") == ("a",)
    assert q.match("b") is None
    assert q.match("b c") == ("b", "c")


def test_match_all_reports_each_topic_and_its_terms() -> None:
    specs = [("nk", topics.parse(REFERENCE)), ("quake", topics.parse("earthquake OR tremor"))]
    found = topics.match_all(specs, "Earthquake hits", "A tremor was felt. Pyongyang said nothing about Russia.")
    assert found == [topics.Match("nk", ("Pyongyang", "Russia")), topics.Match("quake", ("earthquake", "tremor"))]


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 1, "empty query"),
        ("(Korea AND Russia", 1, "unclosed '('"),
        ("Korea AND", 10, "query ends"),
        ("Korea OR OR Russia", 10, "OR where a search term"),
        ('"North Korea', 1, "unclosed quote"),
        ("Korea )", 7, "unexpected ')'"),
        ('""', 1, "empty phrase"),
    ],
)
def test_syntax_errors_give_the_position(query: str, position: int, message: str) -> None:
    with pytest.raises(topics.QuerySyntaxError) as err:
        topics.parse(query)
    assert message in str(err.value)
    assert f"at position {position}" in str(err.value)


def test_version_changes_when_a_query_changes() -> None:
    a = topics.version([("nk", "Korea AND Russia")])
    assert a == topics.version([("nk", "Korea AND Russia")])
    assert a != topics.version([("nk", "Korea AND Ukraine")])


@given(st.text(max_size=200))
def test_any_query_string_parses_or_raises_a_syntax_error(query: str) -> None:
    try:
        q = topics.parse(query)
    except topics.QuerySyntaxError:
        return
    q.match("some text about North Korea and Russia")


_WORDS = [
    "North",
    "Korea",
    "Korean",
    "Koreans",
    "korea's",
    "DPRK",
    "Kursk",
    "front",
    "frontline",
    "U.S.",
    "İstanbul",
    "ſtrike",
    "strike",
    "war",
    "Ukraine-Russia",
    "KURSK",
]


@given(
    st.lists(st.sampled_from([*_WORDS, " ", "  ", "\n", ",", ".", "-", "'", '"', "_", "é"]), max_size=40),
    st.sampled_from(
        [
            '"North Korea" OR Korean* OR DPRK',
            "(Kursk OR front*) AND NOT war",
            "strike OR istanbul",
            '"U.S." AND (Korea OR "Ukraine Russia")',
            "korea* -frontline",
            'KURSK war "north korean"',
        ]
    ),
)
def test_one_pass_matching_finds_exactly_the_terms_each_term_alone_finds(parts: list[str], query: str) -> None:
    """Query.match scans the text once for every term; the result is the one of searching term by term."""
    q = topics.parse(query)
    text = "".join(parts)
    alone = {t.text for t in q.terms if t.pattern.search(text)}
    expected = tuple(sorted(alone)) if topics._evaluate(q.root, alone) else None
    assert q.match(text) == expected
