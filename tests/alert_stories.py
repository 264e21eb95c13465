"""Stories for the alert tests: North Korean losses reported, then revised; one headline attacks mail."""

from __future__ import annotations

from tests.stories import FILLER, day
from tests.world import Story

EARLY_LOSSES = Story(
    slug="alerts-nk-losses-january",
    title="Seoul counts first North Korean losses in Kursk",
    paragraphs=(
        "Reports from Seoul's intelligence services indicate that approximately 11,000 soldiers have been "
        "deployed, with an estimated 3,000 casualties, including around 300 fatalities.",
        FILLER,
    ),
    published=day("2025-01-10"),
)

LATER_LOSSES = Story(
    slug="alerts-nk-losses-april",
    title="North Korean losses in Russia's war climb, Seoul says",
    paragraphs=(
        "Reports from Seoul's intelligence services indicate that approximately 15,000 soldiers have been "
        "deployed, with an estimated 4,700 casualties, including around 600 fatalities.",
        FILLER,
    ),
    published=day("2025-04-30"),
)

# A headline carrying both header-injection tricks: a raw line break, and an RFC 2047 encoded word whose
# decoded text holds a line break (Python's email package would decode it and write a new header).
HOSTILE_HEADLINE = Story(
    slug="alerts-nk-losses-february",
    title="Losses rise\r\nBcc: evil@attacker.example =?utf-8?q?Kursk=0D=0ABcc:_evil@attacker.example?=",
    paragraphs=(
        "North Korean units fighting for Russia in the Kursk region have suffered heavy losses. "
        "Reports from Seoul's intelligence services indicate that approximately 12,000 soldiers have been "
        "deployed, with an estimated 4,000 casualties, including around 400 fatalities.",
        FILLER,
    ),
    published=day("2025-02-20"),
)
