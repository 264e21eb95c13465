"""Claimants: one canonical key per source, from lexicon/claimants.toml or the wording normalised."""

from __future__ import annotations

import pytest

from monitor import claimants


@pytest.mark.parametrize(
    ("wording", "key"),
    [
        ("South Korea's National Intelligence Service", "NIS"),
        ("the NIS", "NIS"),
        ("Seoul's spy agency", "NIS"),
        ("South Korea's intelligence agency", "NIS"),
        ("Seoul’s intelligence services", "NIS"),
        ("국정원", "NIS"),
        ("국가정보원", "NIS"),
        ("국정원은", "NIS"),
        ("Staff Reporter 국정원", "NIS"),
        ("Ukraine's general staff", "Ukraine General Staff"),
        ("the General Staff of the Armed Forces of Ukraine", "Ukraine General Staff"),
        ("Генштаб ЗСУ", "Ukraine General Staff"),
        ("Генштаб ВСУ", "Ukraine General Staff"),
        ("Генштаба ВСУ", "Ukraine General Staff"),
        ("Zelensky", "Zelensky"),
        ("President Volodymyr Zelensky", "Zelensky"),
        ("Ukraine's president", "Zelensky"),
        ("President Zelensky", "Zelensky"),
        ("Зеленский", "Zelensky"),
        ("Ukraine's military intelligence", "Ukraine HUR"),
        ("Russia's defence ministry", "Russian Defence Ministry"),
    ],
)
def test_every_wording_of_a_known_source_has_its_key(wording: str, key: str) -> None:
    assert claimants.key(wording) == key


@pytest.mark.parametrize(
    ("wording", "key"),
    [
        ("the Interior ministry's", "Interior Ministry"),
        ("Interior Ministry", "Interior Ministry"),
        ("Gen. Oleksandr Syrskyi", "Oleksandr Syrskyi"),
        ("a police spokesman", "Police"),
        ("the Kyiv Independent", "Kyiv Independent"),
    ],
)
def test_an_unknown_source_is_keyed_by_its_wording_without_titles_possessives_or_articles(
    wording: str, key: str
) -> None:
    assert claimants.key(wording) == key


def test_no_claimant_no_key() -> None:
    assert claimants.key(None) is None and claimants.key("  ") is None and claimants.key("the") is None
