"""Figure extraction: casualty and troop figures (killed, wounded, ..., deployed) found in news text.

from monitor import figures
for figure in figures.find(text):
    print(figure.category, figure.low, figure.high, figure.quote)
"""

import dataclasses

from . import extract, language, scope
from .extract import SUPPORTED, supported
from .language import detect
from .record import CATEGORIES, QUALIFIERS, Figure

# Bump whenever extraction behaviour changes: stored with each figure so old ones can be reprocessed.
VERSION = "2026.12.03-25"


def find(text: str, language: str | None = None) -> list[Figure]:
    """The figures in `text` (read in `language`, else the detected one), each with its scope decided from
    its sentence (figures.scope: a running total or one incident)."""
    seen: dict[tuple[int, int, int], str | None] = {}  # figures of one sentence share its reading
    return [
        dataclasses.replace(f, scope=scope.decide(text, f.start, f.end, seen)) for f in extract.find(text, language)
    ]


__all__ = [
    "CATEGORIES",
    "QUALIFIERS",
    "SUPPORTED",
    "VERSION",
    "Figure",
    "detect",
    "find",
    "language",
    "scope",
    "supported",
]
