"""Tests for monitor.figures lexicons: every packaged language file loads; a broken one fails clearly."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from monitor import figures
from monitor.figures import lexicon


@pytest.mark.parametrize("language", lexicon.LANGUAGES)
def test_packaged_lexicon_loads(language: str) -> None:
    lex = lexicon.load(language)
    assert lex.language == language
    assert [c.name for c in lex.categories] == list(figures.CATEGORIES)
    assert lex.trigger_words, "a lexicon without trigger words would never find a figure"


def test_all_lexicons_are_loaded_in_order() -> None:
    assert [lex.language for lex in lexicon.load_all()] == list(lexicon.LANGUAGES)


def test_lexicon_words_are_lower_case() -> None:
    # Matching lower-cases the text; an upper-case entry in a file could never match.
    for language in lexicon.LANGUAGES:
        text = resources.files("monitor.figures").joinpath(f"lexicon_{language}.toml").read_text("utf-8")
        data = tomllib.loads(text)
        for name, cat in data["categories"].items():
            for key in ("after", "before", "toll"):
                for phrase in cat.get(key, []):
                    assert phrase == phrase.lower(), (language, name, key, phrase)


def test_broken_lexicon_names_file_and_key() -> None:
    with pytest.raises(lexicon.LexiconError, match=r"lexicon_xx.toml.*'language'"):
        lexicon.parse({"categories": {}}, "lexicon_xx.toml")
    with pytest.raises(lexicon.LexiconError, match=r"lexicon_xx.toml: key 'nouns' must be a list of strings"):
        lexicon.parse({"language": "xx", "people": {"nouns": "soldiers"}}, "lexicon_xx.toml")


def test_phrase_sets_match_longest_first() -> None:
    phrases = lexicon.PhraseSet.of(["killed", "killed or wounded"])
    words = ["were", "killed", "or", "wounded"]
    assert phrases.match_at(words, 1) == 3
    assert phrases.match_before(words, 2) == 1
    assert phrases.match_at(words, 7) == 0
