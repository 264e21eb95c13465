"""A dated story written for the tests: North Korean troops in Russia, reported by several outlets."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.world import Story


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(hour=9, tzinfo=UTC)


FILLER = (
    "Officials in Kyiv and Seoul have urged allies to respond, while Moscow has declined to comment on the "
    "reports. Analysts say the cooperation between the two governments has deepened over the past year, "
    "with visits by senior delegations and new agreements on trade and security."
)

DISPATCH = Story(
    slug="nk-troops-dispatched",
    title="North Korea sends special forces to Russia, Seoul says",
    paragraphs=(
        "South Korea's spy agency said on Friday that North Korea has sent about 1,500 special forces "
        "soldiers to Russia, the first confirmation of a deployment that Pyongyang has not acknowledged.",
        FILLER,
    ),
    published=day("2024-10-18"),
)

KURSK = Story(
    slug="nk-troops-kursk",
    title="North Korean troops join fighting in Kursk",
    paragraphs=(
        "More than 10,000 North Korean troops have been stationed in Russia's Kursk region, "
        "according to the Pentagon, and some have begun combat operations against Ukrainian forces.",
        FILLER,
    ),
    published=day("2024-11-13"),
)

FLOOD = Story(
    slug="river-flood",
    title="Floods sweep river valley after days of rain",
    paragraphs=(
        "At least 12 people were killed when the river burst its banks on Sunday, local officials said, "
        "and rescue teams were searching villages downstream for survivors.",
        "Forecasters expect more rain later in the week, and schools in the region will stay closed.",
    ),
    published=day("2024-11-20"),
)

CASUALTIES = Story(
    slug="nk-casualties",
    title="Seoul: North Korean losses mount in Russia's war",
    paragraphs=(
        "Reports from Seoul's intelligence services indicate that approximately 15,000 soldiers have been "
        "deployed, with an estimated 4,700 casualties, including around 600 fatalities.",
        FILLER,
    ),
    published=day("2025-04-30"),
)

ALL = (DISPATCH, KURSK, FLOOD, CASUALTIES)


def reports(prefix: str, n: int) -> list[Story]:
    """`n` short reports on the story, each with its own slug and figure (enough pages for the extraction
    processes): /news/PREFIX-I."""
    return [
        Story(
            slug=f"{prefix}-{i}",
            title=f"North Korean troops in Russia: report {prefix} {i}",
            paragraphs=(
                f"Ukraine's military intelligence said in its report number {i} that about {1000 + 10 * i} North "
                "Korean soldiers had reached Russia's Kursk region over the past weeks.",
                FILLER,
            ),
            published=day("2024-11-13"),
        )
        for i in range(n)
    ]
