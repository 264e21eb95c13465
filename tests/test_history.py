"""Figure history: series groups, new figures and revisions in publication order, syndication, reprocessing.

The acceptance test replays tests/history_story.py through the real pipeline (`monitor run` under Prefect's
test harness): three outlets, wire reprints, revisions up and down, a late backfilled article.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import articles, cli, digest, figures, history, reprocess, store, topics
from tests import claims_story as cs
from tests import history_story as hs
from tests.pipeline_fixtures import write_config

NK_QUERY = hs.QUERY


def monitor(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


rows = hs.rows


# --- groups -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "label"),
    [
        ("North Korean troops", "North Korean"),
        ("North Korean soldiers", "North Korean"),
        ("North Korea's originally dispatched troops", "North Korean"),
        ("DPRK servicemen", "North Korean"),
        ("troops", "military"),
        ("soldiers", "military"),
        ("servicemen", "military"),
        ("special forces", "military"),
        ("North Korean and Russian soldiers", "military"),
        ("Russian soldiers", "Russian"),
        ("Ukrainian serviceman", "Ukrainian"),
        ("Armed Forces of Ukraine", "Ukrainian"),
        ("US troops", "American"),
        ("civilians", "civilians"),
        ("people", "civilians"),
        ("Ukrainian civilians", "civilians"),
        ("children", "civilians"),
        ("resident of Donetsk region", "civilians"),
        (None, ""),
        ("casualties", ""),
        ("fatalities", ""),
        ("others", ""),
    ],
)
def test_who_is_sorted_into_civilians_a_named_force_or_military(who: str | None, label: str) -> None:
    assert history.groups().label(who) == label


def test_a_figure_naming_nobody_takes_the_people_its_article_named() -> None:
    assert history.article_labels(["soldiers", "casualties", "fatalities"]) == ["military"] * 3
    assert history.article_labels([None, "civilians", None, "Russian soldiers", None]) == [
        "civilians",
        "civilians",
        "civilians",
        "Russian",
        "Russian",
    ]
    assert history.article_labels([None, "casualties"]) == ["", ""]


def test_point_value_and_change() -> None:
    assert history.point(600, 600) == 600
    assert history.point(10_000, None) == 10_000  # more than 10,000
    assert history.point(None, 180) == 180  # up to 180
    assert history.point(10_000, 12_000) is None  # a range is not one number


# --- decisions on a database fed through the store ----------------------------------------------------------

SPECS = [("nk", NK_QUERY), ("floods", "flood* OR river")]


def article(slug: str, text: str, when: str, outlet: str = "a.test", title: str = "News") -> articles.Article:
    """An analysed article, as the pipeline's analyse stage makes it (real topic matching and extraction)."""
    url = f"https://{outlet}/{slug}"
    queries = [(name, topics.parse(q)) for name, q in SPECS]
    return articles.Article(
        url=url,
        guid=url,
        feed_url=f"https://{outlet}/feed",
        source_url=url,
        final_url=url,
        outlet=outlet,
        title=title,
        author=None,
        published_at=datetime.fromisoformat(when).replace(tzinfo=UTC),
        fetched_at=datetime.now(UTC),
        site_name=None,
        language=None,
        text=text,
        text_source="extracted",
        summary="",
        fingerprint=articles.fingerprint(text),
        fetch_error=None,
        http_bytes=len(text),
        matches=tuple(topics.match_all(queries, title, text)),
        figures=tuple(figures.find(text)),
    )


def store_run(db: Path, run_id: str, batch: list[articles.Article], *, decide: bool = True) -> list[history.Change]:
    with store.open_for_write(db) as con, store.transaction(con):
        store.save_articles(con, run_id, batch, topics.version(SPECS), figures.VERSION)
    if not decide:
        return []
    with store.open_for_write(db) as con, store.transaction(con):
        return history.update(con, run_id)


def summary(changes: list[history.Change]) -> list[tuple[Any, ...]]:
    return [(c.topic, c.category, c.group, c.low, c.high, c.kind, c.previous_low, c.change) for c in changes]


def test_wordings_of_one_force_are_one_series_and_other_forces_their_own(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first = store_run(
        db,
        "r1",
        [
            article("a1", "North Korea has sent about 1,500 soldiers to Russia.", "2024-10-18"),
            article("a2", "Some 1,500 North Korean troops are stationed in Russia.", "2024-10-19", "b.test"),
            article(
                "a3",
                "In Russia 1,500 North Korean soldiers were deployed; 300 Ukrainian soldiers were "
                "killed, and 400 Russian soldiers were killed by North Korea's artillery.",
                "2024-10-20",
            ),
            article("a4", "North Korea has deployed about 1,500 servicemen in Russia.", "2024-10-21", "c.test"),
            article("a5", "Pyongyang has about 1,500 troops in Russia.", "2024-10-22", "c.test"),
        ],
    )
    assert summary(first) == [
        ("nk", "deployed", "military", 1500, 1500, "new", None, None),
        ("nk", "killed", "Ukrainian", 300, 300, "new", None, None),
        ("nk", "killed", "Russian", 400, 400, "new", None, None),
    ]
    # the topic's own force was fixed by the first mention naming one; a later one differing is not it
    assert rows(db, "SELECT trait, value FROM topic_groups ORDER BY trait") == [
        {"trait": "main_group", "value": "military"},
        {"trait": "own_force", "value": "North Korean"},
    ]
    series = rows(db, "SELECT grp, n_outlets, n_mentions, n_articles FROM figure_series WHERE category = 'deployed'")
    assert series == [{"grp": "military", "n_outlets": 3, "n_mentions": 5, "n_articles": 5}]


def test_qualifier_alone_is_not_a_new_value_but_a_bound_is(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    store_run(db, "r1", [article("a1", "In Russia about 600 North Korean soldiers were killed.", "2024-11-01")])
    again = store_run(
        db,
        "r2",
        [
            article("a2", "In Russia 600 North Korean soldiers were killed.", "2024-11-02"),
            article("a3", "In Russia more than 600 North Korean soldiers were killed.", "2024-11-03"),
        ],
    )
    assert summary(again) == [("nk", "killed", "military", 600, None, "revision", 600, 0)]


def test_late_article_never_reannounces_and_gets_the_previous_value_by_date(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    store_run(
        db,
        "r1",
        [
            article("a1", "North Korea: about 3,000 soldiers were deployed in Russia.", "2024-10-10"),
            article("a2", "North Korea: about 5,000 soldiers were deployed in Russia.", "2024-11-10"),
        ],
    )
    late = store_run(
        db,
        "r2",
        [
            article("a3", "North Korea: about 5,000 soldiers were deployed in Russia.", "2024-09-01", "c.test"),
            article("a4", "North Korea: about 4,000 soldiers were deployed in Russia.", "2024-10-20", "c.test"),
            article("a5", "North Korea: about 2,000 soldiers were deployed in Russia.", "2024-09-15", "c.test"),
        ],
    )
    # 5,000 is known: not announced again although a3 is dated before its first report. 4,000 and 2,000
    # were never reported: each is compared with the latest value published before it.
    assert summary(late) == [
        ("nk", "deployed", "military", 2000, 2000, "new", None, None),
        ("nk", "deployed", "military", 4000, 4000, "revision", 3000, 1000),
    ]
    latest = rows(
        db, "SELECT low, previous_low, change FROM series_values WHERE kind = 'revision' ORDER BY as_of DESC LIMIT 1"
    )
    assert latest == [{"low": 5000, "previous_low": 3000, "change": 2000}]  # a decided fact is not rewritten
    assert rows(db, "SELECT first_seen, n_outlets FROM figure_series WHERE low = 5000") == [
        {"first_seen": datetime(2024, 9, 1, tzinfo=UTC), "n_outlets": 2}
    ]


def test_figures_outside_every_topic_are_in_no_series(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    changes = store_run(db, "r1", [article("a1", "At least 12 soldiers were killed in the desert.", "2024-11-01")])
    assert changes == []
    assert rows(db, "SELECT count(*) AS n FROM figure_mentions")[0]["n"] == 1
    assert rows(db, "SELECT count(*) AS n FROM series_mentions")[0]["n"] == 0


def test_a_disaster_topic_counts_unnamed_victims_with_people(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    store_run(db, "r1", [article("f1", "At least 12 people were killed when the river flooded.", "2024-11-01")])
    later = store_run(db, "r2", [article("f2", "The river flood: the death toll rose to 15.", "2024-11-02")])
    assert summary(later) == [("floods", "killed", "civilians", 15, 15, "revision", 12, 3)]


def test_update_catches_up_a_run_that_stopped_before_deciding_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    store_run(
        db,
        "r1",
        [article("a1", "North Korea: about 3,000 soldiers were deployed in Russia.", "2024-10-10")],
        decide=False,
    )  # killed between storing and deciding
    changes = store_run(
        db, "r2", [article("a2", "North Korea: about 4,000 soldiers were deployed in Russia.", "2024-10-12")]
    )
    assert summary(changes) == [
        ("nk", "deployed", "military", 3000, 3000, "new", None, None),
        ("nk", "deployed", "military", 4000, 4000, "revision", 3000, 1000),
    ]
    assert {c.run_id for c in changes} == {"r2"}
    before = rows(db, "SELECT * FROM series_mentions ORDER BY article_id, seq")
    with store.open_for_write(db) as con, store.transaction(con):
        assert history.update(con, "r3") == []
    assert rows(db, "SELECT * FROM series_mentions ORDER BY article_id, seq") == before


# --- the dated story through the real pipeline (fixture `history_story`, tests/history_story.py) -----------


def test_new_figures_are_exactly_the_first_reports_and_revisions(history_story: hs.StoryRun) -> None:
    db = hs.database(history_story.fresh)
    runs = [r["run_id"] for r in rows(db, "SELECT run_id FROM runs ORDER BY started_at")]
    got = rows(db, "SELECT * FROM new_figures ORDER BY run_id, as_of, article_id, seq")
    assert [
        (
            runs.index(r["run_id"]) + 1,
            r["category"],
            r["grp"],
            r["low"],
            r["high"],
            r["kind"],
            None if r["kind"] == "new" else (r["previous_low"], r["previous_high"]),
            r["change"],
            hs.slug_of(r["article_url"]),
            r["claimant_key"],
            r["previous_claimant"],
            r["scope"],
        )
        for r in got
    ] == [
        (
            e.run,
            e.category,
            e.grp,
            e.low,
            e.high,
            e.kind,
            e.previous,
            e.change,
            e.slug,
            e.claimant_key,
            e.previous_claimant,
            e.scope,
        )
        for e in hs.EXPECTED
    ]
    assert all(r["topic"] == hs.TOPIC for r in got)
    zelensky = next(r for r in got if r["low"] == 1000)
    assert zelensky["claimant"] == "President Zelensky" and zelensky["outlet"] == "127.0.0.3"
    assert zelensky["previous_as_of"] == hs.KURSK.published
    # the run summaries count the same decisions; the last run (feeds unchanged) decided nothing
    counts = [(s["new_figures"], s["revisions"]) for s in history_story.summaries]
    assert counts == [(1, 1), (2, 2), (2, 1), (0, 0)]


def test_reprints_only_raise_corroboration(history_story: hs.StoryRun) -> None:
    db = hs.database(history_story.fresh)
    series = {(r["category"], r["grp"], r["low"]): r for r in rows(db, "SELECT * FROM figure_series")}
    assert len(series) == len(hs.EXPECTED)
    dispatch = series[("deployed", "military", 1500)]
    # A's article (also reached through C's feed: stored once) and B's verbatim reprint
    assert (dispatch["n_outlets"], dispatch["n_mentions"], dispatch["n_articles"]) == (2, 2, 2)
    assert hs.slug_of(dispatch["first_url"]) == hs.DISPATCH.slug
    assert dispatch["first_claimant"] == "South Korea's spy agency"
    three = series[("deployed", "military", 3000)]
    assert (three["n_outlets"], three["n_mentions"]) == (1, 2)  # A's report and A's late article
    assert three["first_seen"] == hs.DOUBLED.published and three["last_seen"] == hs.LATE.published
    assert series[("killed", "military", 200)]["n_outlets"] == 2
    assert series[("killed", "military", 1000)]["last_seen"] == hs.ZELENSKY_WIRE.published
    links = rows(
        db,
        "SELECT count(*) AS n FROM article_links JOIN articles USING (article_id) "
        "WHERE articles.url LIKE '%/hist-dispatch'",
    )
    assert links[0]["n"] == 2
    # the flood's figures match no topic: no series
    assert not rows(
        db, "SELECT * FROM series_mentions s JOIN articles a USING (article_id) WHERE a.url LIKE '%hist-flood'"
    )


def test_rerunning_changes_nothing(history_story: hs.StoryRun) -> None:
    assert history_story.snapshots[-1] == history_story.snapshots[-2]  # the fourth run saw unchanged feeds
    db = hs.database(history_story.fresh)
    with store.open_for_write(db) as con, store.transaction(con):
        assert history.update(con, "again") == []
    assert hs.history_tables(db) == history_story.snapshots[-1]


def comparable(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The tables a reprocessed database must share with a fresh one: run ids become the number of their
    decision round, and times of processing are left out."""
    rounds = rows(db, "SELECT run_id FROM history_articles GROUP BY run_id ORDER BY min(decided_at)")
    runs = {r["run_id"]: i for i, r in enumerate(rounds)}
    out = {}
    for table, drop in (
        ("topic_matches", {"matched_at"}),
        ("figure_mentions", {"found_at"}),
        ("figure_series", {"decided_at"}),
        ("new_figures", {"decided_at"}),
        ("series_mentions", set()),
        ("topic_groups", {"decided_at"}),
    ):
        got = []
        for r in rows(db, f"SELECT * FROM {table}"):
            r = {k: (runs[v] if k == "run_id" else v) for k, v in r.items() if k not in drop}
            got.append(tuple(sorted(r.items(), key=lambda kv: kv[0])))
        out[table] = sorted(got, key=repr)
    return out


def test_reprocess_yields_the_tables_of_a_fresh_database(history_story: hs.StoryRun) -> None:
    fresh, old = hs.database(history_story.fresh), hs.database(history_story.old)
    before = comparable(old)
    want = comparable(fresh)
    assert before["topic_matches"] != want["topic_matches"]
    assert before["new_figures"] != want["new_figures"]
    # the topic's query changes to today's: only its matches and history are recomputed
    write_config(history_story.old.parent, [], topics={hs.TOPIC: hs.QUERY})
    code, out = monitor(history_story.old, "reprocess", "--topic", hs.TOPIC.upper())
    assert code == 0, out
    assert "no alerts sent" in out
    after_topic = comparable(old)
    assert after_topic["topic_matches"] == want["topic_matches"]
    assert after_topic["figure_mentions"] == before["figure_mentions"]  # figures untouched
    assert after_topic["new_figures"] != want["new_figures"]  # the old extractor's figures
    # the extractor improved: everything is recomputed
    code, out = monitor(history_story.old, "reprocess")
    assert code == 0, out
    assert comparable(old) == want
    versions = rows(old, "SELECT DISTINCT extractor_version FROM figure_mentions")
    assert versions == [{"extractor_version": figures.VERSION}]


def test_reprocess_refuses_an_unknown_topic(history_story: hs.StoryRun) -> None:
    result = CliRunner().invoke(cli.main, ["-c", str(history_story.fresh), "reprocess", "--topic", "nope"])
    assert result.exit_code == 2
    assert "no topic named 'nope'" in result.output and hs.TOPIC in result.output


def test_reprocess_in_batches_on_worker_processes_changes_nothing_if_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    texts = [
        f"North Korea: about {1000 + 250 * i:,} soldiers were deployed in Russia, and {5 * i} civilians were killed."
        for i in range(1, 8)
    ]
    store_run(db, "r1", [article(f"a{i}", t, f"2024-10-{10 + i}") for i, t in enumerate(texts[:4])])
    store_run(db, "r2", [article(f"b{i}", t, f"2024-11-{10 + i}", "b.test") for i, t in enumerate(texts[3:])])
    before = comparable(db)
    messages: list[str] = []
    result = reprocess.run(db, SPECS, workers=2, batch_size=3, progress=messages.append)
    assert comparable(db) == before
    assert (result.articles, result.figures) == (8, 16)
    assert result.history.mentions == 16 and (result.history.new, result.history.revisions) == (2, 12)
    assert messages[:3] == ["articles: 3/8", "articles: 6/8", "articles: 8/8"]
    assert messages[-1] == "history: 16 mentions decided"


# --- who claims it, what it counts, whether it revises (fixture `claims_story`, tests/claims_story.py) ------


def test_claims_story_new_figures_of_every_cycle(claims_story: cs.ClaimsRun) -> None:
    db = hs.database(claims_story.config)
    runs = [r["run_id"] for r in rows(db, "SELECT run_id FROM runs ORDER BY started_at")]
    got = rows(
        db,
        "SELECT n.* FROM new_figures n JOIN runs USING (run_id) ORDER BY runs.started_at, n.as_of, n.article_id, n.seq",
    )
    assert [
        (
            runs.index(r["run_id"]) + 1,
            r["category"],
            r["grp"],
            r["scope"],
            r["low"],
            r["high"],
            r["kind"],
            r["previous_low"],
            r["previous_high"],
            r["change"],
            r["claimant_key"],
            r["previous_claimant"],
            r["suspect"],
            hs.slug_of(r["article_url"]),
        )
        for r in got
    ] == [
        (1, "killed", "military", "total", 600, 600, "new", None, None, None, "NIS", None, False, cs.NIS_600.slug),
        # an incident inside the cumulative story: it neither revises the toll nor is revised by it
        (1, "captured", "military", "incident", 2, 2, "new", None, None, None, None, None, False, cs.CAPTURED.slug),
        (1, "killed", "military", "incident", 1, 1, "new", None, None, None, None, None, False, cs.CAPTURED.slug),
        # the NIS in Korean: the same source, so a genuine revision
        (
            2,
            "killed",
            "military",
            "total",
            1100,
            1100,
            "revision",
            600,
            600,
            500,
            "NIS",
            "NIS",
            False,
            cs.NIS_KOREAN.slug,
        ),
        # Russia's losses in an article about North Korean troops: Russia's series, not the topic's own
        (
            2,
            "casualties",
            "Russian",
            "total",
            800000,
            None,
            "new",
            None,
            None,
            None,
            "Ukraine General Staff",
            None,
            False,
            cs.RUSSIA_LOSSES.slug,
        ),
        # another source's value: a counterclaim, never a revision of a figure Zelensky did not give
        (
            3,
            "killed",
            "military",
            "total",
            3000,
            3000,
            "counterclaim",
            1100,
            1100,
            1900,
            "Zelensky",
            "NIS",
            False,
            cs.ZELENSKY.slug,
        ),
        # a total dropping by more than half: suspect
        (
            4,
            "killed",
            "military",
            "total",
            100,
            100,
            "counterclaim",
            3000,
            3000,
            -2900,
            "Russian Defence Ministry",
            "Zelensky",
            True,
            cs.MOD_DROP.slug,
        ),
    ]
    counts = [(s["new_figures"], s["revisions"]) for s in claims_story.summaries]
    assert counts == [(3, 0), (1, 1), (0, 1), (0, 1), (0, 0)]
    # the Russian general staff report repeats Zelensky's 3,000 (corroboration from another source)
    three = rows(db, "SELECT n_articles FROM figure_series WHERE category = 'killed' AND low = 3000")
    assert three == [{"n_articles": 2}]


def test_claims_story_digests_say_counterclaims_and_suspect_drops(claims_story: cs.ClaimsRun) -> None:
    sent = [[cs.text_of(m) for m in msgs] for msgs in claims_story.digests]
    assert [len(s) for s in sent] == [1, 1, 1, 1, 0]  # one digest per run with news; none when nothing moved
    first, second, third, fourth = (s[0] for s in sent[:4])
    assert "  NEW  killed (one incident): 1\n" in first and "  NEW  captured (one incident): 2" in first
    assert "  REVISED  killed: 1,100\n    was 600 on 2025-01-10 (+500)\n" in second
    assert "claimed by: Staff Reporter 국정원 (NIS)" in second  # a byline glued to the source on the page
    assert (
        "  COUNTERCLAIM  killed: ≈3,000 — North Korean soldiers\n"
        "    ≈3,000 — Zelensky; NIS said 1,100 on 2025-01-20 (+1,900)\n"
    ) in third
    assert "REVISED" not in third and "was 1,100" not in third
    assert claimants_subject(claims_story, 2) == "news-monitor: 1 counterclaim — North Korean troops in Russia"
    assert "  COUNTERCLAIM, SUSPECT  killed: 100 — North Korean soldiers\n" in fourth
    assert "100 — Russian Defence Ministry; Zelensky said 3,000 on 2025-02-01 (−2,900)" in fourth
    assert digest.SUSPECT_NOTE[:40] in fourth.replace("\n    ", " ")


def claimants_subject(run: cs.ClaimsRun, index: int) -> str:
    return str(run.digests[index][0]["Subject"]).split(" · ")[0]


def test_claims_story_one_key_per_source_in_three_wordings_and_two_languages(claims_story: cs.ClaimsRun) -> None:
    db = hs.database(claims_story.config)
    got = {r["claimant_key"]: r for r in rows(db, "SELECT * FROM claimants")}
    assert sorted(got["NIS"]["names"]) == sorted(
        [
            "South Korea's National Intelligence Service",
            "Seoul's spy agency",
            "Seoul's intelligence service",
            "Staff Reporter 국정원",
        ]
    )
    assert got["NIS"]["n_figures"] == 4 and got["NIS"]["n_articles"] == 4
    assert got["Ukraine General Staff"]["n_names"] == 2  # "Ukraine's general staff" and "Генштаб ВСУ"
    assert set(got) == {"NIS", "Ukraine General Staff", "Zelensky", "Russian Defence Ministry"}


def test_claims_story_late_articles_and_reruns_announce_nothing(claims_story: cs.ClaimsRun) -> None:
    db = hs.database(claims_story.config)
    late = rows(
        db, "SELECT kind FROM series_mentions s JOIN articles a USING (article_id) WHERE a.url LIKE '%/claims-late'"
    )
    assert late == [{"kind": "repeat"}]  # dated Jan 11, first seen in run 3: corroboration only
    six = rows(db, "SELECT first_seen, n_articles, n_outlets FROM figure_series WHERE low = 600")
    assert six == [{"first_seen": cs.NIS_600.published, "n_articles": 3, "n_outlets": 1}]
    assert claims_story.snapshots[-1] == claims_story.snapshots[-2]
    with store.open_for_write(db) as con, store.transaction(con):
        assert history.update(con, "again") == []


def test_claims_story_latest_figures_says_whose_value_it_is(claims_story: cs.ClaimsRun) -> None:
    code, out = monitor(claims_story.config, "query", "latest_figures", "--format", "json")
    assert code == 0, out
    got = {(r["category"], r["grp"], r["scope"]): r for r in json.loads(out)}
    killed = got[("killed", "military", "total")]
    assert (killed["low"], killed["kind"], killed["claimant_key"], killed["suspect"]) == (
        100,
        "counterclaim",
        "Russian Defence Ministry",
        True,
    )
    assert killed["said"] == (
        "Russian Defence Ministry; Zelensky said 3,000 on 2025-02-01 (suspect: fell by more than half)"
    )
    assert got[("killed", "military", "incident")]["low"] == 1
    assert got[("casualties", "Russian", "total")]["said"] == "Ukraine General Staff"


def test_claims_story_reprocess_equals_the_fresh_build(claims_story: cs.ClaimsRun, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(claims_story.config.parent, copy)
    db = hs.database(copy / "monitor.toml")
    want = comparable(db)
    with store.open_for_write(db) as con, store.transaction(con):  # as an older version left it
        con.execute("UPDATE figure_mentions SET scope = 'total', claimant_key = claimant")
        history.rebuild(con)
    assert comparable(db) != want
    code, out = monitor(copy / "monitor.toml", "reprocess")
    assert code == 0, out
    assert "counterclaims" in out
    assert comparable(db) == want


@pytest.mark.parametrize(
    ("lead", "force"),
    [
        ("Ukraine's general staff said Russia has lost more than ", "Russian"),
        ("South Korea's spy agency said on Friday that North Korea has sent about ", "North Korean"),
        ("Pyongyang has about ", "North Korean"),
        ("Seoul's intelligence services indicate approximately ", ""),  # a claim, not a subject
        ("Ukraine's general staff said about ", ""),  # the claimant's country
        ("In Russia ", ""),  # after a preposition
        ("North Korea: about ", ""),  # another clause
    ],
)
def test_the_subject_of_the_clause_names_the_force_counted(lead: str, force: str) -> None:
    assert history.clause_force(lead) == force


def test_a_declared_subject_is_the_own_force_and_other_forces_keep_their_series(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    batch = [
        article("a1", "In Kursk 400 Russian soldiers were killed, North Korea said.", "2024-12-01"),
        article("a2", "North Korea: about 300 North Korean soldiers were killed in Russia.", "2024-12-02"),
        article(
            "a3",
            "North Korean troops fight in Kursk. Russia has lost more than 700,000 troops, Kyiv said.",
            "2024-12-03",
        ),
    ]
    with store.open_for_write(db) as con, store.transaction(con):
        store.save_articles(con, "r1", batch, topics.version(SPECS), figures.VERSION)
    with store.open_for_write(db) as con, store.transaction(con):
        changes = history.update(con, "r1", {"nk": "North Korean"})
    assert [(c.category, c.group, c.low) for c in changes] == [
        ("killed", "Russian", 400),
        ("killed", "military", 300),
        ("casualties", "Russian", 700000),
    ]
    assert rows(db, "SELECT trait FROM topic_groups") == [{"trait": "main_group"}]  # no own force guessed
