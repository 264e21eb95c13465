"""Figure extraction: casualty and troop figures (killed, wounded, ..., deployed) found in news text.

from monitor import figures
for figure in figures.find(text):
    print(figure.category, figure.low, figure.high, figure.quote)
"""

from .extract import SUPPORTED, find, supported
from . import language
from .language import detect
from .record import CATEGORIES, QUALIFIERS, Figure

# Bump whenever extraction behaviour changes: stored with each figure so old ones can be reprocessed.
VERSION = "2026.11.28-1"

__all__ = ["CATEGORIES", "QUALIFIERS", "SUPPORTED", "VERSION", "Figure", "detect", "find", "language", "supported"]
