"""Charts: a figure series over time and matched-article volume, drawn by matplotlib as SVG or PNG.

Text is drawn as paths (no fonts needed to view a chart) and no pyplot state is touched, so charts
render the same in a cron job, a Prefect worker or a test. Every string on a chart comes from the
web: `$` is escaped so matplotlib never reads a claimant's name as mathematics.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb

from monitor import digest, series, store

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

MAX_POINTS = series.MAX_POINTS  # reports drawn per chart (the latest ones)
MAX_LABELS = 8  # claimants/outlets with their own colour; the rest are grey "others"
WIDTH, HEIGHT = 8.0, 3.0  # inches; 100 dpi for PNG
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
OTHER = "#9a9a9a"
SERIES_COLOURS = ("#222222", "#555555", "#888888")  # the accepted value: dark, per `who` group
MARKERS = {"at_least": "^", "at_most": "v"}
MAX_DIGEST_CHARTS = 6  # inline images per digest: a mail of a dozen charts is a report, not an alert
POINTS_ID = "points"  # SVG id of the drawn reports, so a test (or a reader's tool) can find them


def plot_value(low: int | None, high: int | None) -> float:
    """Where a figure sits on the y axis: the number, or the middle of a range."""
    if low is None:
        return float(high or 0)
    if high is None:
        return float(low)
    return (low + high) / 2


def series_figure(data: series.Chart, title: str = "", span: tuple[datetime, datetime] | None = None) -> Figure:
    """A matplotlib Figure: each report a point coloured by claimant/outlet, the accepted value as a
    step line, ranges as bands; `span` fixes the time axis (charts of one topic share it)."""
    from matplotlib import ticker
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    counts = Counter(r.label for r in data.reports)
    colours = {label: PALETTE[i] for i, (label, _) in enumerate(counts.most_common(MAX_LABELS))}
    reports = sorted(data.reports, key=lambda r: r.when)
    limits = span or _span([*(r.when for r in reports), *(_when(v) for vs in data.values.values() for v in vs)])
    last = limits[1] if limits else datetime.now(UTC)  # the accepted value holds until the chart's right edge
    for i, (group, values) in enumerate(sorted(data.values.items())):
        if not values:
            continue
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        xs = _x([_when(v) for v in values] + [max(last, _when(values[-1]))])
        lows = [float(v.low if v.low is not None else v.high or 0) for v in values]
        highs = [float(v.high if v.high is not None else v.low or 0) for v in values]
        mids = [plot_value(v.low, v.high) for v in values]
        name = "accepted value" + (f" ({_safe(group)})" if group else "")
        ax.step(xs, [*mids, mids[-1]], where="post", color=colour, linewidth=1.6, label=name, zorder=2)
        if lows != highs:
            ax.fill_between(
                xs, [*lows, lows[-1]], [*highs, highs[-1]], step="post", color=colour, alpha=0.12, linewidth=0, zorder=1
            )
    for r in reports:
        if r.low is not None and r.high is not None and r.low != r.high:
            ax.vlines(
                _x([r.when])[0], r.low, r.high, color=colours.get(r.label, OTHER), linewidth=2.5, alpha=0.5, zorder=3
            )
    # one collection per marker shape, under ids the page's tests (and a reader's tools) can find
    shapes = sorted({MARKERS.get(r.qualifier, "o") for r in reports})
    for n, marker in enumerate(shapes):
        these = [r for r in reports if MARKERS.get(r.qualifier, "o") == marker]
        # rings with a light fill, not solid discs: two reports a day apart overlap as two rings where
        # solid dots merged into one smudge (issue 18)
        edge = [colours.get(r.label, OTHER) for r in these]
        coll = ax.scatter(
            _x([r.when for r in these]),
            [plot_value(r.low, r.high) for r in these],
            facecolors=[to_rgba(c, 0.25) for c in edge],
            edgecolors=edge,
            marker=marker,
            s=40,
            linewidths=1.4,
            zorder=4,
        )
        coll.set_gid(POINTS_ID if n == 0 else f"{POINTS_ID}-{n}")
    for label, colour in colours.items():  # the legend draws them as the chart does: rings
        ax.scatter(
            [],
            [],
            facecolors=[to_rgba(colour, 0.25)],
            edgecolors=[colour],
            linewidths=1.4,
            s=40,
            label=_safe(label[:60]),
        )
    if len(counts) > MAX_LABELS:
        ax.scatter(
            [],
            [],
            facecolors=[to_rgba(OTHER, 0.25)],
            edgecolors=[OTHER],
            linewidths=1.4,
            s=40,
            label=f"{len(counts) - MAX_LABELS} others",
        )
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    _date_axis(ax, limits)
    ax.set_ylabel(_safe(data.category))
    if title:
        ax.set_title(_safe(title), loc="left", fontsize=10)
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig


def _x(whens: Sequence[datetime | date]) -> list[float]:
    """Times as matplotlib's date numbers (typed: matplotlib's own converter is not)."""
    from matplotlib import dates as mdates

    return [float(v) for v in mdates.date2num(list(whens))]  # type: ignore[no-untyped-call]


def time_span(whens: Sequence[datetime | date]) -> tuple[datetime, datetime] | None:
    """The time range to show for these times (a little wider), for charts that share an axis."""
    return _span(whens)


def _when(d: series.Decision) -> datetime:
    """Where a decided value starts on the time axis: as of its first report."""
    return d.as_of or d.published_at or d.decided_at or datetime.now(UTC)


def _span(whens: Sequence[datetime | date]) -> tuple[datetime, datetime] | None:
    times = [series.utc(w) if isinstance(w, datetime) else datetime.combine(w, time.min, tzinfo=UTC) for w in whens]
    if not times:
        return None
    first, last = min(times), max(times)
    pad = max((last - first) * 0.03, timedelta(days=5))  # one day of data still gets a readable axis
    return first - pad, last + pad


def _date_axis(ax: Axes, limits: tuple[datetime, datetime] | None) -> None:
    from matplotlib import dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    if limits is not None:
        ax.set_xlim(*_x(limits))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)


def volume_figure(
    days: Sequence[tuple[date, int]], title: str = "", span: tuple[datetime, datetime] | None = None
) -> Figure:
    """Matched articles per day, as bars."""
    from matplotlib import ticker
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT * 0.7), layout="constrained")
    ax = fig.add_subplot()
    limits = span or _span([d for d, _ in days])
    # a bar a day is a hairline on a chart of months: widen bars with the span, but never past a week
    width = 0.8 if limits is None else min(7.0, max(0.8, (limits[1] - limits[0]).days / 150))
    bars = ax.bar(_x([d for d, _ in days]), [n for _, n in days], width=width, color=PALETTE[0])
    for i, patch in enumerate(bars.patches):
        patch.set_gid(f"{POINTS_ID}-{i}")
    _date_axis(ax, limits)
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.set_ylabel("articles")
    if title:
        ax.set_title(_safe(title), loc="left", fontsize=10)
    return fig


def to_svg(fig: Figure, prefix: str, title: str) -> str:
    """The chart as an `<svg>` element to inline in HTML: ids prefixed (several charts share a page),
    sized by CSS, with a `<title>` for screen readers."""
    buf = io.StringIO()
    _save(fig, buf, "svg")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', svg, count=1)
    from html import escape

    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<title>{escape(title)}</title>" + svg[head_end:]


def to_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    _save(fig, buf, "png", dpi=dpi)
    return buf.getvalue()


def _save(fig: Figure, out: IO[Any], fmt: str, dpi: int = 100) -> None:
    import matplotlib

    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    # stable ids in the SVG, and text as outlines so the page needs no fonts
    with matplotlib.rc_context({"svg.hashsalt": "news-monitor", "svg.fonttype": "path"}), warnings.catch_warnings():
        # a claimant written in a script DejaVu Sans lacks draws as boxes; a warning per glyph is noise
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(out, format=fmt, dpi=dpi, metadata=metadata)


def _safe(text: str) -> str:
    """Text for a matplotlib label: no mathtext, no control characters."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("$", r"\$")


def series_png(con: duckdb.DuckDBPyConnection, topic: str, category: str, group: str | None = None) -> bytes:
    """The chart of one series (a topic's category, one group or all) as PNG bytes, e.g. for a digest."""
    data = series.chart(con, topic, category, group=group)
    return to_png(series_figure(data, title=f"{topic} — {category}" + (f" ({group})" if group else "")))


def for_digest(db_path: Path, limit: int = MAX_DIGEST_CHARTS) -> Callable[[digest.Digest], list[digest.Chart]]:
    """The alert stage's chart hook: for a digest, the chart of each series its run changed (PNG, inline)."""

    def digest_charts(d: digest.Digest) -> list[digest.Chart]:
        # in the order the mail shows the figures
        shown = list(dict.fromkeys((i.topic, i.category) for i in d.items))[:limit]
        out: list[digest.Chart] = []
        try:
            with store.connect(db_path, read_only=True) as con:
                for topic, category in shown:
                    png = series_png(con, topic, category)
                    out.append(
                        digest.Chart(
                            cid=f"chart-{len(out) + 1}-{category}"[:64],
                            png=png,
                            topic=topic,
                            alt=f"{topic}: {category} reported over time",
                        )
                    )
        except Exception:  # a chart is an extra: the digest goes out without it rather than not at all
            log.warning("alerts: no charts for digest %s", d.alert_id, exc_info=True)
        return out

    return digest_charts
