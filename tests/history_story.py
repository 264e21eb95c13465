"""A dated story over ten weeks for the figure history: three outlets, wire reprints, revisions up and down,
a late backfilled article, and an off-topic article with figures.

Outlets are loopback addresses: the test world's routes are served on 127.0.0.1, 127.0.0.2 and 127.0.0.3
(articles' outlet is their host), so one World plays three publishers.

What news-monitor must conclude (topic "North Korean troops in Russia"), run by run:

    run 1  deployed/military  1,500  new           (A, Oct 18; B reprints it verbatim the same day: a repeat)
           deployed/military  3,000  revision      1,500 -> 3,000, +1,500 (A, Oct 25; the NIS again, worded
                                                   "Seoul's intelligence service" where it was "South
                                                   Korea's spy agency")
    run 2  deployed/military 11,000  counterclaim  3,000 -> 11,000, +8,000 (C, Nov 13: Ukraine's military
                                                   intelligence answering the NIS; B reprints it Nov 14)
           killed/military      200  new           (C, Nov 13; reprinted by B)
           deployed/military 10,000  counterclaim  11,000 -> 10,000, -1,000 (A, Nov 15, "Seoul": the same
                                                   week as 11,000, so a disagreement that week)
           killed/civilians    >=12  new           (A, Nov 15; an incident: "when a drone struck a village")
    run 3  wounded/military      50  new           (A, published Oct 30 but first listed now: the late
                                                   article; its 3,000 deployed is known and NOT announced)
           killed/military    1,000  counterclaim  200 -> 1,000, +800 (C, Dec 27, Zelensky after Ukraine's
                                                   military intelligence; B reprints it Dec 28)
           killed/Russian       400  new           (C, Dec 27; a named other force: a series of its own)
    run 4  nothing new: the feeds are unchanged.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import cli, history, store
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER, day
from tests.world import Story, World, atom_feed, page, rss_feed

TOPIC = "North Korean troops in Russia"
QUERY = '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)'
NARROW_QUERY = '"North Korean" AND Kursk'  # the "old" database's topic, before its query was widened
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")  # outlets A, B, C


def _story(slug: str, title: str, text: str, when: str) -> Story:
    return Story(slug=f"hist-{slug}", title=title, paragraphs=(text, FILLER), published=day(when))


def _reprint(original: Story, slug: str, when: str) -> Story:
    """A wire story reprinted verbatim by another outlet, later that day: same words, same fingerprint."""
    return Story(
        slug=f"hist-{slug}", title=original.title, paragraphs=original.paragraphs, published=day(when).replace(hour=15)
    )


DISPATCH = _story(
    "dispatch",
    "North Korea sends soldiers to Russia, Seoul says",
    "South Korea's spy agency said on Friday that North Korea has sent about 1,500 soldiers to Russia, the "
    "first confirmation of a deployment that Pyongyang has not acknowledged.",
    "2024-10-18",
)
DISPATCH_WIRE = _reprint(DISPATCH, "dispatch-wire", "2024-10-18")
DOUBLED = _story(
    "doubled",
    "Seoul doubles its estimate of North Korean troops in Russia",
    "Seoul's intelligence service now says about 3,000 North Korean troops have been deployed to Russia, "
    "double its estimate of last week.",
    "2024-10-25",
)
KURSK = _story(
    "kursk",
    "North Korean troops suffer first losses in Kursk",
    "Ukraine's military intelligence said about 11,000 North Korean soldiers are stationed in the Kursk "
    "region and that 200 North Korean soldiers were killed in their first assaults.",
    "2024-11-13",
)
KURSK_WIRE = _reprint(KURSK, "kursk-wire", "2024-11-14")
REVISED = _story(
    "revised",
    "Seoul lowers its count of North Korean troops in Russia",
    "Seoul said on Friday that about 10,000 North Korean troops are deployed in Russia. At least 12 "
    "civilians were killed when a drone struck a village in the Kursk region.",
    "2024-11-15",
)
LATE = _story(
    "late",
    "Report: North Korean deployment to Russia was larger than admitted",
    "A report from late October, published only now, says about 3,000 North Korean soldiers had been "
    "deployed to Russia by then, and 50 were wounded in training accidents.",
    "2024-10-30",
)
ZELENSKY = _story(
    "zelensky",
    "Zelensky: heavy North Korean losses in Kursk",
    "President Zelensky said about 1,000 North Korean soldiers have been killed in Kursk, and that 400 "
    "Russian soldiers were killed in the same battles.",
    "2024-12-27",
)
ZELENSKY_WIRE = _reprint(ZELENSKY, "zelensky-wire", "2024-12-28")
FLOOD = _story(
    "flood",
    "River floods villages after a week of rain",
    "At least 7 people were killed when the river burst its banks, local officials said, and 20 were injured.",
    "2024-11-21",
)

# What each outlet's feed lists, run by run (a feed lists everything it has published so far).
ROUNDS: tuple[dict[int, tuple[Story, ...]], ...] = (
    {0: (DISPATCH, DOUBLED), 1: (DISPATCH_WIRE,), 2: (DISPATCH,)},  # C's feed links to A's article
    {0: (DISPATCH, DOUBLED, REVISED, FLOOD), 1: (DISPATCH_WIRE, KURSK_WIRE), 2: (DISPATCH, KURSK)},
    {
        0: (DISPATCH, DOUBLED, REVISED, FLOOD, LATE),
        1: (DISPATCH_WIRE, KURSK_WIRE, ZELENSKY_WIRE),
        2: (DISPATCH, KURSK, ZELENSKY),
    },
)
# Which outlet publishes each story (its page lives on that host).
OUTLET = (
    {s.slug: 0 for s in (DISPATCH, DOUBLED, REVISED, LATE, FLOOD)}
    | {s.slug: 1 for s in (DISPATCH_WIRE, KURSK_WIRE, ZELENSKY_WIRE)}
    | {s.slug: 2 for s in (KURSK, ZELENSKY)}
)


@dataclass(frozen=True)
class Expected:
    run: int
    category: str
    grp: str
    low: int | None
    high: int | None
    kind: str
    previous: tuple[int | None, int | None] | None
    change: int | None
    slug: str
    claimant_key: str | None = None
    previous_claimant: str | None = None
    scope: str = "total"


NIS, HUR = "NIS", "Ukraine HUR"
EXPECTED = (
    Expected(1, "deployed", "military", 1500, 1500, "new", None, None, DISPATCH.slug, NIS),
    Expected(1, "deployed", "military", 3000, 3000, "revision", (1500, 1500), 1500, DOUBLED.slug, NIS, NIS),
    Expected(2, "deployed", "military", 11000, 11000, "counterclaim", (3000, 3000), 8000, KURSK.slug, HUR, NIS),
    Expected(2, "killed", "military", 200, 200, "new", None, None, KURSK.slug, HUR),
    Expected(
        2, "deployed", "military", 10000, 10000, "counterclaim", (11000, 11000), -1000, REVISED.slug, "Seoul", HUR
    ),
    # the strike's toll follows Seoul's statement in the same paragraph: it continues Seoul's source (docs/figures.md,
    # "Claimant", rule 4)
    Expected(2, "killed", "civilians", 12, None, "new", None, None, REVISED.slug, "Seoul", scope="incident"),
    Expected(3, "wounded", "military", 50, 50, "new", None, None, LATE.slug),
    Expected(3, "killed", "military", 1000, 1000, "counterclaim", (200, 200), 800, ZELENSKY.slug, "Zelensky", HUR),
    Expected(3, "killed", "Russian", 400, 400, "new", None, None, ZELENSKY.slug, "Zelensky"),
)


class Outlets:
    """The world's routes served on three loopback addresses: outlet A (the world itself), B and C."""

    def __init__(self, world: World) -> None:
        self.world = world
        handler = world.server.RequestHandlerClass  # the world's handler: the same routes on every address
        self.servers = [ThreadingHTTPServer((host, 0), handler) for host in HOSTS[1:]]
        for s in self.servers:
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()
        self.bases = [
            world.base,
            *(f"http://{host}:{s.server_address[1]}" for host, s in zip(HOSTS[1:], self.servers, strict=True)),
        ]

    def feed_urls(self, prefix: str) -> list[str]:
        return [f"{base}{prefix}/outlet{i}.xml" for i, base in enumerate(self.bases)]

    def publish(self, prefix: str, round_no: int) -> None:
        """Serve every outlet's pages and its feed as of round `round_no` (0-based)."""
        for outlet, stories in ROUNDS[round_no].items():
            items = []
            for s in stories:
                self.world.add(f"/news/{s.slug}", page(s))
                items.append((s, f"{self.bases[OUTLET[s.slug]]}/news/{s.slug}"))
            path = f"{prefix}/outlet{outlet}.xml"
            atom = outlet == 1  # outlet B publishes Atom
            body = atom_feed(path, items) if atom else rss_feed(path, items)
            self.world.add(path, body, "application/atom+xml" if atom else "application/rss+xml")

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


@contextlib.contextmanager
def outlets(world: World) -> Iterator[Outlets]:
    o = Outlets(world)
    try:
        yield o
    finally:
        o.close()


def slug_of(url: object) -> str:
    return str(url).rsplit("/", 1)[-1]


def stories_in(round_no: int) -> Sequence[Story]:
    return sorted({s for stories in ROUNDS[round_no].values() for s in stories}, key=lambda s: s.slug)


# --- the story fed through the real pipeline, once per test session ------------------------------------


@dataclass
class StoryRun:
    fresh: Path  # config of a database fed the story with today's topic query and extractor
    old: Path  # config of a database fed the same runs with NARROW_QUERY, and run 2's figures as an
    # older extractor left them (one misread, one article missed)
    summaries: list[dict[str, Any]]  # `monitor run --json` of each fresh run
    snapshots: list[dict[str, list[dict[str, Any]]]]  # the fresh history tables after each run


def database(config: Path) -> Path:
    return config.parent / "data" / "monitor.duckdb"


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with store.connect(db, read_only=True) as con:
        return store.select_dicts(con, sql, params or [])


def history_tables(db: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        t: rows(db, f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("series_values", "series_mentions", "topic_groups", "history_articles")
    }


def _as_if_an_older_extractor(db: Path) -> None:
    with store.open_for_write(db) as con, store.transaction(con):
        con.execute("UPDATE figure_mentions SET low = 1100, high = 1100, extractor_version = '0-old' WHERE low = 11000")
        con.execute(
            "DELETE FROM figure_mentions WHERE article_id IN "
            "(SELECT article_id FROM articles WHERE url LIKE '%/hist-revised')"
        )
        history.rebuild(con)


@pytest.fixture(scope="session")
def history_story(prefect_harness: None, world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryRun]:
    """The story through `monitor run`: three runs publishing more each time, then one with nothing new."""
    with outlets(world) as o:
        fresh = write_config(tmp_path_factory.mktemp("fresh"), o.feed_urls("/hist-fresh"), topics={TOPIC: QUERY})
        old = write_config(tmp_path_factory.mktemp("old"), o.feed_urls("/hist-old"), topics={TOPIC: NARROW_QUERY})
        summaries, snapshots = [], []
        for round_no in range(len(ROUNDS) + 1):
            feeding = [("/hist-fresh", fresh)] + ([("/hist-old", old)] if round_no < len(ROUNDS) else [])
            for prefix, config in feeding:
                o.publish(prefix, min(round_no, len(ROUNDS) - 1))
                result = CliRunner().invoke(cli.main, ["-c", str(config), "run", "--json"], catch_exceptions=False)
                assert result.exit_code == 0, result.output
                if config == fresh:
                    summaries.append(json.loads(result.stdout))
            snapshots.append(history_tables(database(fresh)))
            if round_no == 1:
                _as_if_an_older_extractor(database(old))
        yield StoryRun(fresh, old, summaries, snapshots)
