"""Figure extraction, languages: which language a text is in, and the word forms lexicons are matched on.

Russian and Ukrainian inflect every word ("погибли", "погибших", "погибшим"), Polish nearly as much: a list
of surface forms never covers a text nobody has seen. For those languages both the lexicon's phrases and the
text's words are reduced to dictionary forms by the field's own analysers (pymorphy3 with its Russian and
Ukrainian dictionaries, simplemma for Polish), so one lexicon entry matches every form of its word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import Any

# Languages the detector chooses among: the ones with a lexicon, and their common neighbours, so that a
# Dutch or Belarusian text is called what it is (and yields no figures) instead of a near language.
DETECTABLE = (
    "en",
    "de",
    "es",
    "fr",
    "it",
    "pt",
    "cs",
    "pl",
    "ru",
    "uk",
    "ko",
    "ja",
    "zh",
    "nl",
    "ar",
    "tr",
    "sk",
    "be",
    "bg",
    "sv",
    "da",
    "no",
    "ro",
    "hu",
    "fi",
    "he",
    "fa",
)
# Detection reads this many characters: the language of a page is settled by its first paragraphs.
DETECT_CHARS = 600
# Words shorter than this are prepositions, particles and abbreviations ("до", "тыс", "mln"): kept as written.
MIN_LEMMA_CHARS = 4
LEMMA_CACHE = 200_000
# A dictionary form less likely than this (pymorphy3's estimate) is not taken for the word.
MIN_READING = 0.25
# Infinitive endings of Russian and Ukrainian verbs.
_VERBS = ("ть", "ти", "ться", "тися", "чь", "сти")


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier  # 0.5 s to load: when first needed

    try:
        return _identifier_of(LanguageIdentifier, MODEL_DIR / MODEL_FILE)
    except (ImportError, TypeError, ValueError):  # another py3langid's layout: its own way, ~30 MB more
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        ident.set_languages(list(DETECTABLE))
        return ident


def _identifier_of(identifier: Any, model: Any) -> Any:
    """The identifier restricted to DETECTABLE, built from those languages' columns alone.

    `set_languages` keeps the whole model (142 languages, 27 MB of weights) beside the columns it chose; built
    from the columns, every extraction process that detects a language holds ~30 MB less (the same
    classifier: the same columns of the same weights)."""
    import numpy as np
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(model)
    keep = [i for i, c in enumerate(classes) if c in DETECTABLE]
    return identifier(
        np.ascontiguousarray(ptc[:, keep]),
        np.asarray(pc)[keep],
        [classes[i] for i in keep],
        nextmove,
        output,
        norm_probs=True,
        tk_row=row,
    )


def detect(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the language of `text`, from its first DETECT_CHARS characters."""
    sample = text[:DETECT_CHARS]
    if not sample.strip():
        return "en", 0.0
    lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)


def declared(value: str | None) -> str | None:
    """The ISO 639-1 code in a declared language ("en-GB", "ru_RU", "uk"), or None when there is none."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 and code.isalpha() else None


@cache
def _morph(language: str) -> Any:
    import pymorphy3  # loads its dictionaries (~0.1 s): only for texts in these languages

    return pymorphy3.MorphAnalyzer(lang=language)


Forms = Callable[[str], tuple[tuple[str, float], ...]]  # word -> (dictionary form, probability), likeliest first


def _pymorphy_forms(language: str) -> Forms:
    morph = _morph(language)

    def forms(word: str) -> tuple[tuple[str, float], ...]:
        scores: dict[str, float] = {}
        for p in morph.parse(word):
            form = p.normal_form.replace("ё", "е")
            scores[form] = scores.get(form, 0.0) + float(p.score)
        # unlikely readings are dropped: "семью" is "family" far more often than "seven", "день" is no verb
        likely = [(f, sc) for f, sc in scores.items() if sc >= MIN_READING]
        return tuple(sorted(likely or scores.items(), key=lambda fs: -fs[1]))

    return forms


@cache
def _simplemma() -> Any:
    from simplemma import Lemmatizer
    from simplemma.strategies.default import DefaultStrategy

    # simplemma's default dictionaries are Python dicts: Polish alone takes ~350 MB in every extraction
    # process that meets a Polish page (and 2.6 s to load). Its low-memory backend reads the same
    # dictionary as one byte stream (~45 MB, 1.8 s) and gives the same lemmas (all 24,534 distinct words of
    # the Polish feed items checked), at ~20 µs a lookup instead of ~4 — once per word, the cache is ours.
    return Lemmatizer(cache_max_size=0, lemmatization_strategy=DefaultStrategy(low_memory=True))


def _simplemma_forms(language: str) -> Forms:
    lemmatizer = _simplemma()

    def forms(word: str) -> tuple[tuple[str, float], ...]:
        return ((str(lemmatizer.lemmatize(word, lang=language)), 1.0),)

    return forms


# Languages whose words are matched as dictionary forms, and the analyser that gives them.
_ANALYSERS: dict[str, Callable[[str], Forms]] = {
    "ru": _pymorphy_forms,
    "uk": _pymorphy_forms,
    "pl": _simplemma_forms,
}


def lemmatised(language: str) -> bool:
    """Whether lexicons and texts of `language` are matched as dictionary forms."""
    return language in _ANALYSERS


class Lemmatiser:
    """Maps a lower-cased word to the one dictionary form it is matched on in one language.

    A word may have several analyses ("погибших": a form of the verb "погибнуть" or of the adjective
    "погибший"). Of a word's likely dictionary forms, the one the lexicon itself uses is chosen (a verb's
    infinitive first, then the likelier), and the lexicon's own words are mapped the same way, so any two forms
    that share an analysis meet on the same key.
    """

    def __init__(self, language: str, vocabulary_words: Iterable[str]) -> None:
        self._forms = _ANALYSERS[language](language)
        vocabulary: set[str] = set()
        for word in vocabulary_words:
            if self._wants(word):
                vocabulary.update(f for f, _ in self._forms(word))
        self._vocabulary = frozenset(vocabulary)
        self.lemma = lru_cache(maxsize=LEMMA_CACHE)(self._lemma)

    @staticmethod
    def _wants(word: str) -> bool:
        return len(word) >= MIN_LEMMA_CHARS and word.replace("'", "").replace("\u2019", "").isalpha()

    def _lemma(self, word: str) -> str:
        if not self._wants(word):
            return word
        forms = self._forms(word)
        # a verb's infinitive first: participles and short forms ("погибших", "погиб") then meet the verb;
        # then the likelier reading
        known = sorted(
            (fs for fs in forms if fs[0] in self._vocabulary),
            key=lambda fs: (not fs[0].endswith(_VERBS), -fs[1], fs[0]),
        )
        lemma = known[0][0] if known else forms[0][0] if forms else word
        return lemma.lower()  # simplemma capitalises some ("Ukrainiec"): lexicon entries are lower case

    def phrase(self, phrase: str) -> str:
        """A lexicon phrase with each of its words mapped to its dictionary form."""
        return " ".join(self.lemma(w) for w in phrase.lower().split())


__all__ = ["DETECTABLE", "Lemmatiser", "declared", "detect", "lemmatised"]
