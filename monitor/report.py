"""Report: one self-contained HTML page per database — per topic the latest figures, what is new, and charts.

The page works offline and runs nothing: charts are inline SVG (matplotlib, text as outlines), styles
are inline, and a Content-Security-Policy forbids every fetch and script. Everything shown comes from
the web, so every string is escaped and only http(s) links become links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from monitor import charts, series, store
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_PERIOD = timedelta(days=7)  # "what changed this week"
DEFAULT_NAME = "report.html"  # written into the data directory unless -o says otherwise
MAX_NEW_ROWS = 200  # new figures listed per topic; the rest are counted, with a query
MAX_VOLUME_DAYS = 365  # days of matched-article volume drawn per topic
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class ReportError(MonitorError):
    """A report cannot be built (unknown topic, unwritable output)."""


@dataclass(frozen=True, slots=True)
class Chart:
    name: str  # file name stem for --png: topic-slug--category
    title: str
    figure: Figure
    points: int  # reports drawn
    total: int  # reports in the database


@dataclass(slots=True)
class Page:
    """A built report: the HTML and the charts in it (for --png)."""

    html: str
    topics: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def write(
    db_path: Path,
    out: Path,
    *,
    topics: Sequence[str] = (),
    only: str | None = None,
    since: datetime | None = None,
    png_dir: Path | None = None,
    now: datetime | None = None,
    max_points: int = charts.MAX_POINTS,
) -> Page:
    """Build the report from the database and write it to `out` (and the charts as PNG to `png_dir`)."""
    with store.connect(db_path, read_only=True) as con:
        try:
            page = build(
                con, topics=topics, only=only, since=since, now=now, source=str(db_path), max_points=max_points
            )
        except duckdb.CatalogException as e:  # a file written by an older version, not yet upgraded
            first = str(e).splitlines()[0]
            raise ReportError(
                f"{db_path}: the database lacks what the report reads ({first}). "
                "Run `monitor run` once: it upgrades the database."
            ) from None
    if not out.parent.is_dir():  # a typo in -o should not leave a tree of new directories behind
        raise ReportError(
            f"{out.parent}: no such directory, so the report cannot be written to {out}. Create "
            "the directory first, or choose another path with -o."
        )
    try:
        out.write_text(page.html, encoding="utf-8")
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            for c in page.charts:
                (png_dir / f"{c.name}.png").write_bytes(charts.to_png(c.figure))
    except OSError as e:
        raise ReportError(
            f"{e.filename}: cannot write the report ({e.strerror}). Choose another path with -o / --png."
        ) from None
    return page


def build(
    con: duckdb.DuckDBPyConnection,
    *,
    topics: Sequence[str] = (),
    only: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
    source: str = "",
    max_points: int = charts.MAX_POINTS,
) -> Page:
    """The report page for the database: every topic (those in `topics` and those with matches), or `only`."""
    now = series.utc(now or datetime.now(UTC))
    since = series.utc(since) if since else now - DEFAULT_PERIOD
    names = _topics(con, topics)
    if only is not None:
        chosen = [n for n in names if n.casefold() == only.casefold()]
        if not chosen:
            known = ", ".join(repr(n) for n in names) or "none yet"
            raise ReportError(f"no topic named {only!r} (topics: {known}). Check the name in [[topics]].")
        names = chosen
    page = Page(html="", topics=names)
    sections = [_topic_section(con, name, i, since, page, max_points) for i, name in enumerate(names)]
    page.html = _document(con, names, sections, since, now, source, max_points)
    return page


def _topics(con: duckdb.DuckDBPyConnection, configured: Sequence[str]) -> list[str]:
    found = [r[0] for r in con.execute("SELECT DISTINCT topic FROM topic_matches ORDER BY topic").fetchall()]
    out = list(configured)
    seen = {n.casefold() for n in out}
    out += [n for n in found if n.casefold() not in seen]
    return out


# --- page -------------------------------------------------------------------------------------------


def _topic_section(
    con: duckdb.DuckDBPyConnection, topic: str, index: int, since: datetime, page: Page, max_points: int
) -> str:
    all_steps = series.of_topic(con, topic)
    anchor = f"topic-{index + 1}"
    parts = [f'<section class="topic" id="{anchor}"><h2>{_e(topic)}</h2>']
    names = feed_names(con, topic)
    parts.append(_latest_table(all_steps, series.corroboration(con, topic), names))
    parts.append(_new_table(all_steps, since, names))
    categories = sorted({s.category for s in all_steps}, key=_category_order)
    drawn = [series.chart(con, topic, c, decisions=all_steps, max_points=max_points) for c in categories]
    days = series.volume(con, topic, MAX_VOLUME_DAYS)
    # every chart of a topic on one time axis, so a revision lines up with the news volume around it
    span = charts.time_span(
        [*(r.when for d in drawn for r in d.reports), *(_as_of(s) for s in all_steps), *(d for d, _ in days)]
    )
    if drawn:
        parts.append("<h3>Reported values over time</h3>")
    for data in drawn:
        title = f"{topic} — {data.category}"
        fig = charts.series_figure(data, title=title, span=span)
        chart = Chart(
            f"{index + 1:02d}-{_slug(topic)}--{data.category}", title, fig, len(data.reports), data.total_reports
        )
        page.charts.append(chart)
        capped = (
            f" Showing the latest {chart.points:,} of {chart.total:,} reports." if chart.total > chart.points else ""
        )
        caption = (
            f"<b>{_e(data.category)}</b>: each dot is one article's report, coloured by claimant "
            f"key (one colour per source however it is worded; outlet when no claimant is named); "
            f"▲ at least, ▼ at most; a vertical bar is a reported "
            f"range. The dark step line is the accepted value (new figures and revisions), shaded "
            f"where it is a range.{capped}"
        )
        parts.append(_figure(chart, f"c{index + 1}-{data.category}", caption))
    parts.append("<h3>Matched articles per day</h3>")
    if days:
        title = f"{topic} — matched articles per day"
        chart = Chart(
            f"{index + 1:02d}-{_slug(topic)}--volume",
            title,
            charts.volume_figure(days, title=title, span=span),
            len(days),
            len(days),
        )
        page.charts.append(chart)
        total = sum(n for _, n in days)
        parts.append(
            _figure(
                chart,
                f"c{index + 1}-volume",
                f"{total:,} matched articles on {len(days):,} days (by publication day; "
                f"the latest {MAX_VOLUME_DAYS} days with matches at most).",
            )
        )
    else:
        parts.append('<p class="empty">No article has matched this topic yet.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def feed_names(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, str]:
    """Article URL -> the feed it came through, as configured ([[feeds]] name), else the feed's own title: the
    report's source column names a source the user knows, not a host."""
    rows = con.execute(
        """
        SELECT a.url, coalesce(f.name, f.title)
        FROM articles a JOIN feeds f ON f.url = a.feed_url JOIN topic_matches t USING (article_id)
        WHERE t.topic = ? AND coalesce(f.name, f.title) IS NOT NULL""",
        [topic],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _outlet(s: series.Decision, names: Mapping[str, str]) -> str:
    return names.get(s.article_url) or s.outlet or ""


def _kind(s: series.Decision) -> str:
    return (
        s.kind
        + (" · one incident" if s.scope == "incident" else "")
        + (" (suspect: fell by more than half)" if s.suspect else "")
    )


def _latest_table(all_steps: Sequence[series.Decision], seen: series.Corroboration, names: Mapping[str, str]) -> str:
    latest: dict[tuple[str, str, str], series.Decision] = {}
    for s in all_steps:  # publication order: the last one is the value in force
        latest[(s.category, s.group, s.scope)] = s
    if not latest:
        return '<h3>Latest figures</h3><p class="empty">No figures reported for this topic yet.</p>'
    rows = []
    for (category, group, scope), s in sorted(
        latest.items(), key=lambda kv: (_category_order(kv[0][0]), kv[0][1], kv[0][2])
    ):
        outlets, reports = seen.get((category, group, scope, s.low, s.high), (1, 1))
        rows.append(
            _row(
                LATEST_COLUMNS,
                [
                    _e(category),
                    _e(group),
                    _e(scope),
                    f"<b>{_e(_value(s))}</b>",
                    _date(_as_of(s)),
                    _e(_kind(s)),
                    _e(series.previous_text(s)),
                    _e(_change(s)),
                    _e(s.source),
                    _link(s.article_url, _outlet(s, names) or "article"),
                    f"{outlets:,} / {reports:,}",
                ],
            )
        )
    return (
        "<h3>Latest figures</h3>"
        + _head(LATEST_COLUMNS)
        + "<tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + f"<p class='note'>{PUBLISHED_NOTE}</p>"
    )


def _new_table(all_steps: Sequence[series.Decision], since: datetime, names: Mapping[str, str]) -> str:
    new = [s for s in all_steps if s.decided_at is not None and s.decided_at >= since]
    head = (
        f"<h3>New figures and revisions first seen since {_date(since)}</h3>"
        f"<p class='note'>First seen by this monitor since {_date(since)} (the run that found them); "
        "the <i>published</i> column is the article's own date, which can be much earlier.</p>"
    )
    if not new:
        return head + '<p class="empty">None in this period.</p>'
    new.sort(key=lambda s: (_as_of(s), s.decided_at or _as_of(s)), reverse=True)
    more = ""
    if len(new) > MAX_NEW_ROWS:
        query = f"SELECT * FROM new_figures WHERE decided_at >= '{since:%Y-%m-%d}'"
        more = f"<p class='note'>… and {len(new) - MAX_NEW_ROWS:,} more: <code>monitor sql {_e(repr(query))}</code></p>"
        new = new[:MAX_NEW_ROWS]
    rows = []
    for s in new:
        previous = series.previous_text(s) if s.kind != "new" else ""
        outlet = _outlet(s, names)
        rows.append(
            _row(
                NEW_COLUMNS,
                [
                    _date(_as_of(s)),
                    _date(s.decided_at),
                    _e(s.category),
                    _e(s.group),
                    f"<b>{_e(_value(s))}</b>",
                    _e(_kind(s)),
                    _e(previous),
                    _e(_change(s)),
                    _e(s.source or ""),
                    _e(s.quote or ""),
                    _link(s.article_url, s.title or outlet or "article")
                    + f"<br><span class='outlet'>{_e(outlet)}</span>",
                ],
            )
        )
    return head + _head(NEW_COLUMNS) + "<tbody>" + "".join(rows) + "</tbody></table>" + more


# (header, cell class, header tooltip) per column; the header also labels each cell on a narrow screen
Column = tuple[str, str, str]
PUBLISHED = ("published", "d", "the article's publication date (the day it was fetched when it gives none)")
LATEST_COLUMNS: tuple[Column, ...] = (
    ("category", "", ""),
    ("group", "", ""),
    ("scope", "", ""),
    ("value", "num", ""),
    PUBLISHED,
    ("kind", "", ""),
    ("previous", "num", ""),
    ("change", "num", ""),
    ("claimant", "", ""),
    ("source", "", "the feed it came through, by its name in monitor.toml"),
    ("outlets / reports", "num", "distinct outlets / reports carrying this value"),
)
NEW_COLUMNS: tuple[Column, ...] = (
    PUBLISHED,
    ("first seen", "d", "when this monitor first saw it (the run that found it new)"),
    ("category", "", ""),
    ("group", "", ""),
    ("value", "num", ""),
    ("kind", "", ""),
    ("previous", "num", ""),
    ("change", "num", ""),
    ("claimant", "", ""),
    ("quote", "quote", ""),
    ("article", "", "the article, and the feed it came through"),
)
PUBLISHED_NOTE = (
    "<i>published</i>: the date of the article that reported the value (the day it was fetched "
    "when the article gives none); <i>source</i>: the feed, by its name in monitor.toml."
)


def _head(columns: Sequence[Column]) -> str:
    cells = "".join(
        f"<th title='{_e(tip)}'>{_e(name)}</th>" if tip else f"<th>{_e(name)}</th>" for name, _, tip in columns
    )
    return f"<table><thead><tr>{cells}</tr></thead>"


def _row(columns: Sequence[Column], cells: Sequence[str]) -> str:
    """A table row; each cell carries its column's name, shown beside it when the table is a list of cards."""
    return (
        "<tr>"
        + "".join(
            f"<td data-label='{_e(name)}'" + (f" class='{cls}'" if cls else "") + f">{cell}</td>"
            for (name, cls, _), cell in zip(columns, cells, strict=True)
        )
        + "</tr>"
    )


def _figure(chart: Chart, prefix: str, caption: str) -> str:
    svg = charts.to_svg(chart.figure, _slug(prefix), chart.title)
    return f'<figure class="chart" data-points="{chart.points}">{svg}<figcaption>{caption}</figcaption></figure>'


def _document(
    con: duckdb.DuckDBPyConnection,
    names: Sequence[str],
    sections: Iterable[str],
    since: datetime,
    now: datetime,
    source: str,
    max_points: int,
) -> str:
    row = con.execute("""
        SELECT (SELECT count(*) FROM runs), (SELECT max(timezone('UTC', started_at)) FROM runs),
               (SELECT count(*) FROM articles), (SELECT count(*) FROM figure_mentions)""").fetchone()
    n_runs, last_run, n_articles, n_figures = row if row else (0, None, 0, 0)
    nav = "".join(f'<li><a href="#topic-{i + 1}">{_e(n)}</a></li>' for i, n in enumerate(names))
    body = "\n".join(sections) or (
        '<p class="empty">No topics yet: add [[topics]] to monitor.toml and run <code>monitor run</code>.</p>'
    )
    last = f"{last_run:%Y-%m-%d %H:%M} UTC" if last_run else "never"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="news-monitor">
<title>news-monitor report {now:%Y-%m-%d}</title>
<style>{STYLE}</style></head>
<body><header><h1>news-monitor report</h1>
<p class="meta">Generated {now:%Y-%m-%d %H:%M} UTC from <code>{_e(source)}</code> ·
{n_runs:,} runs, the last {last} · {n_articles:,} articles · {n_figures:,} figure mentions ·
new figures counted from {_date(since)} (when the monitor decided they were new).</p>
<nav><ul>{nav}</ul></nav></header>
<main>
{body}
</main>
<footer><p>Charts draw at most the latest {max_points:,} reports per category (to keep the page light on
large databases; the tables and the database have them all). Every value here is
in the database: <code>monitor sql "SELECT * FROM figures"</code>.</p></footer>
</body></html>
"""


# Responsive: long words (URLs) wrap rather than run off the side; below NARROW px (a tablet upright, a phone) each
# row becomes a card of "column: value" lines, as a phone needs. Tested at 390, 768 and 1280 px in Chromium.
NARROW = 1024
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1d;margin:0 auto;
max-width:1180px;padding:0 20px 40px;overflow-wrap:break-word}
header{border-bottom:1px solid #ddd;margin-bottom:12px}h1{font-size:22px;margin:18px 0 4px}
h2{font-size:19px;margin:28px 0 6px;padding-top:8px;border-top:3px solid #1f77b4}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#555;margin:0 0 8px}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid #eee;vertical-align:top}th{background:#f6f6f6}td.num{text-align:right}
td.d{white-space:nowrap}td.quote{color:#444;font-style:italic;max-width:380px}
figure.chart{margin:10px 0 18px}figure.chart svg{width:100%;height:auto;max-width:960px;display:block}
.outlet{color:#777;font-size:12px}figcaption{color:#555;font-size:12px;max-width:960px}.empty,.note{color:#777}code{font-size:12px}
a{color:#0b5cad}.note{font-size:12px;margin:4px 0 8px}
@media (max-width:{NARROW}px){body{padding:0 10px 30px}table,tbody,tr,td{display:block;width:auto}
thead{display:none}tr{border:1px solid #ddd;border-radius:4px;margin:0 0 10px;padding:4px 0;display:grid;
grid-template-columns:repeat(auto-fill,minmax(220px,1fr))}td.quote,td:last-child{grid-column:1/-1}
td,td.num,td.d{border:0;padding:2px 8px;text-align:left;white-space:normal;max-width:none}
td::before{content:attr(data-label) ": ";color:#777;font-style:normal}}
""".replace("{NARROW}", str(NARROW))


def _value(s: series.Decision) -> str:
    return s.value


def _as_of(s: series.Decision) -> datetime:
    return s.as_of or s.published_at or s.decided_at or datetime.min.replace(tzinfo=UTC)


def _change(s: series.Decision) -> str:
    return f"{s.change:+,}" if s.change is not None else ""


def _date(when: datetime | date | None) -> str:
    return f"{when:%Y-%m-%d}" if when is not None else ""


# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): a title with U+202E would show its
# words backwards ("gnp.exe" as "exe.png") and reorder the cells after it. Dropped; RTL text needs none of them.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text).translate(_BIDI_CONTROLS), quote=True)


def _link(url: str | None, text: str) -> str:
    """A link only for http(s) URLs: a `javascript:` URL from a hostile feed stays text."""
    if url and re.match(r"https?://", url, re.IGNORECASE):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(text)}</a>'
    return _e(url or text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60] or "topic"


def _category_order(category: str) -> int:
    order = ("deployed", "casualties", "killed", "wounded", "captured", "missing")
    return order.index(category) if category in order else len(order)
