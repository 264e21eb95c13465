"""The read side of the history: one Decision record, its values formatted once, and digests queued by an earlier
version (their items held formatted values, not numbers) still read back and sent as they were."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor import digest, series
from tests.test_alerts import REVISION

UTC = dt.UTC


@pytest.mark.parametrize(
    ("low", "high", "qualifier", "text"),
    [
        (4700, 4700, "approximate", "≈4,700"),
        (50, None, "at_least", "≥50"),
        (None, 180, "at_most", "≤180"),
        (10_000, 12_000, "range", "10,000–12,000"),
        (600, 600, "exact", "600"),
        (None, None, "exact", ""),
    ],
)
def test_values_are_formatted_once_and_read_back(low: int | None, high: int | None, qualifier: str, text: str) -> None:
    assert series.format_value(low, high, qualifier) == text
    assert series.parse_value(text) == (low, high, qualifier)


def test_previous_value_is_worded_the_same_everywhere() -> None:
    assert REVISION.previous == "3,000" and series.previous_text(REVISION) == "3,000"
    counter = series.Decision(
        **{
            **REVISION.to_json(),
            "kind": "counterclaim",
            "previous_claimant": "NIS",
            "previous_as_of": REVISION.previous_as_of,
            "published_at": REVISION.published_at,
        }
    )
    assert series.previous_text(counter) == "NIS: 3,000" and digest.was(counter) == "NIS said 3,000"
    new = series.Decision(
        **{**REVISION.to_json(), "kind": "new", "previous_as_of": None, "published_at": REVISION.published_at}
    )
    assert new.previous is None and series.previous_text(new) == "—"


def test_a_decision_survives_the_outbox_as_json() -> None:
    shown = digest.shown(REVISION, "Seoul counts losses")
    assert series.Decision.from_json(shown.to_json()) == shown


def test_an_item_queued_by_an_earlier_version_reads_back_as_the_same_line() -> None:
    old = {
        "topic": "North Korean troops in Russia",
        "kind": "revision",
        "category": "casualties",
        "value": "≈4,700",
        "who": "North Korean troops",
        "claimant": "NIS",
        "previous": "3,000",
        "previous_as_of": "2025-01-10T09:00:00+00:00",
        "change": 1700,
        "quote": "an estimated 4,700 casualties",
        "title": "Losses climb",
        "outlet": "news.test",
        "published_at": "2025-04-30T09:00:00+00:00",
        "article_url": "https://news.test/nk",
        "scope": "total",
        "claimant_key": "NIS",
        "previous_claimant": "NIS",
        "suspect": False,
    }
    d = series.Decision.from_json(old)
    assert (d.low, d.high, d.qualifier, d.previous_low, d.previous_high) == (4700, 4700, "approximate", 3000, 3000)
    assert d.previous_as_of == dt.datetime(2025, 1, 10, 9, tzinfo=UTC)
    assert digest.line(d) == (
        "North Korean troops in Russia: casualties ≈4,700 (North Korean troops), revised "
        "from 3,000 (+1,700); claimed by NIS — news.test"
    )
