"""Figure extraction, the record: one casualty or troop figure, field for field as in the guideline."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = ("killed", "wounded", "casualties", "captured", "missing", "deployed")
QUALIFIERS: tuple[str, ...] = ("exact", "approximate", "at_least", "at_most", "range")


@dataclass(frozen=True, slots=True)
class Figure:
    """A count of people killed, wounded, ... or deployed, as stated at text[start:end]."""

    category: str
    low: int | None
    high: int | None
    qualifier: str  # exact | approximate | at_least | at_most | range
    who: str | None
    quote: str  # text[start:end]
    start: int
    end: int
    claimant: str | None  # who asserts the figure, when the text says so
    scope: str = "total"  # total (a running count) | incident (one event): figures.scope decides it

    def to_dict(self) -> dict[str, object]:
        """The figure as a JSON-ready dict (the guideline's fields plus offsets and claimant)."""
        return {
            "category": self.category,
            "low": self.low,
            "high": self.high,
            "qualifier": self.qualifier,
            "who": self.who,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "claimant": self.claimant,
        }
