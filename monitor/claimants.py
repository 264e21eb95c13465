"""Claimants: one canonical key per source of figures, however a report words it (history's series compare them).

"South Korea's National Intelligence Service", "the NIS", "Seoul's spy agency" and "국정원" are one source:
`key` maps every wording listed in lexicon/claimants.toml to its table's name ("NIS"). A wording the file
does not know gets its normalised form as key: case of first letters, apostrophes, a possessive 's, leading
articles and titles ("the", "President", "Gen.") and Korean particles after a name are dropped, so
"the Interior Ministry" and "Interior ministry" meet as "Interior Ministry"; a known name in Korean or Russian
after Latin words (a byline glued to it: "Staff Reporter 국정원") is that name. docs/history.md#claimant-keys.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources

CLAIMANTS_FILE = "lexicon/claimants.toml"

# Words dropped wherever they stand: titles name an office, not a source ("President Volodymyr Zelensky" is
# "Volodymyr Zelensky"); articles and honorifics say nothing about who.
_TITLES = {
    "the",
    "a",
    "an",
    "president",
    "prime",
    "minister",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "dr",
    "dr.",
    "gen",
    "gen.",
    "general",
    "col",
    "col.",
    "colonel",
    "lt",
    "lt.",
    "maj",
    "maj.",
    "sen",
    "sen.",
    "rep",
    "rep.",
    "sir",
    "chancellor",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "der",
    "die",
    "das",
    "präsident",
    "президент",
    "президента",
    "대통령",
}
# Titles that are a source only together with a country ("Ukraine's president"): kept when they end the
# wording, so that such a wording can be an alias of its own ("President Zelensky" still drops it).
_KEEP_IF_ALONE = {"president", "präsident", "президент", "президента", "대통령", "leader"}
_KOREAN_PARTICLES = ("에 따르면", "에서는", "에서", "은", "는", "이", "가", "도", "의", "측")


@dataclass(frozen=True, slots=True)
class Claimants:
    """The aliases of lexicon/claimants.toml, normalised, and the keys they give."""

    aliases: dict[str, str]  # normalised wording (casefolded) -> key

    def key(self, claimant: str | None) -> str | None:
        """The canonical key of a claimant as a report words it; None when there is none."""
        if not claimant or not claimant.strip():
            return None
        form = normalise(claimant)
        if not form:
            return None
        known = self.aliases.get(form.casefold())
        if known is not None:
            return known
        for particle in _KOREAN_PARTICLES:  # "국정원은", "국정원에 따르면": the name with a particle
            if form.endswith(particle) and len(form) > len(particle) + 1:
                known = self.aliases.get(form[: -len(particle)].strip().casefold())
                if known is not None:
                    return known
        glued = _glued(form)
        if glued is not None:
            known = self.aliases.get(glued.casefold())
            if known is not None:
                return known
        return form


def _glued(form: str) -> str | None:
    """The words of a wording after a run of Latin ones, when they are in another script: a byline glued to
    the source on a Korean or Russian page ("Staff Reporter 국정원" -> "국정원"); None otherwise."""
    words = form.split()
    for i, w in enumerate(words):
        if not all(c.isascii() for c in w):
            return " ".join(words[i:]) if i and all(_latin(x) for x in words[:i]) else None
    return None


def _latin(word: str) -> bool:
    return all(c.isascii() for c in word)


def normalise(wording: str) -> str:
    """A wording as a fallback key: "the Interior ministry's" -> "Interior Ministry"."""
    text = unicodedata.normalize("NFKC", wording).replace("\u2019", "'").replace("`", "'")
    text = re.sub(r"['\u2019]s\b|(?<=s)'(?=\s|$)", "", text)  # possessives: Ukraine's, forces'
    text = re.sub(r"[\"“”«»„()\[\]]", " ", text)
    words = [w for w in text.split() if w.strip(",.;:")]
    words = [w.strip(",;:") for w in words]
    kept = [w for w in words if w.casefold() not in _TITLES]
    if words and words[-1].casefold() in _KEEP_IF_ALONE:
        kept.append(words[-1])
    if not kept:
        return ""
    return " ".join(w[:1].upper() + w[1:] for w in kept)


@functools.cache
def lexicon() -> Claimants:
    """The aliases shipped with the package."""
    data = tomllib.loads((resources.files("monitor") / CLAIMANTS_FILE).read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for name, table in data.items():
        for wording in [name, *table["aliases"]]:
            aliases[normalise(wording).casefold()] = name
    return Claimants(aliases=aliases)


def key(claimant: str | None) -> str | None:
    """The canonical key of a claimant with the shipped aliases (see `Claimants.key`)."""
    return lexicon().key(claimant)
