"""Report and digest charts: a database filled by the real pipeline, pages opened in headless Chromium."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import charts, cli, report, series, store
from tests import browser, stories
from tests.claims_story import Inbox, mail_server
from tests.pipeline_fixtures import write_config
from tests.world import Story, World

pytestmark = pytest.mark.usefixtures("prefect_harness")

# The hostile title ends in an unclosed tag, so it survives the feed's tag stripping; were it written into
# the page unescaped, Chromium would build an <img> whose onerror runs and whose src is requested.
HOSTILE_TITLE = 'Troops "reach" Kursk & more <img src=x onerror=console.error(1)//'
HOSTILE = Story(
    slug="nk-troops-hostile-title",
    title=HOSTILE_TITLE,
    paragraphs=(
        "About 12,000 North Korean troops have been deployed to the Kursk region of Russia, the "
        "ministry said on Wednesday, citing intelligence from the front.",
        stories.FILLER,
    ),
    published=stories.day("2024-11-20"),
)
CHARTS_JS = r"""
[...document.querySelectorAll('figure.chart')].map(f => {
  const svg = f.querySelector('svg');
  const groups = [...svg.querySelectorAll('[id]')].filter(e => /-points(-\d+)?$/.test(e.id));
  const box = svg.getBoundingClientRect();
  return {points: Number(f.dataset.points), groups: groups.length,
          uses: groups.reduce((n, g) => n + g.querySelectorAll('use').length, 0),
          paths: groups.reduce((n, g) => n + g.querySelectorAll('path').length, 0),
          width: box.width, height: box.height,
          title: svg.querySelector('title') ? svg.querySelector('title').textContent : ''};
})
"""
IMAGES_JS = (
    "[...document.images].map(i => ({src: i.src.slice(0, 22), "
    "ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth}))"
)


@dataclass
class Populated:
    config: Path
    database: Path
    inbox: Inbox
    started: datetime


def monitor(config: Path | None, *args: str) -> tuple[int, str]:
    pre = ["-c", str(config)] if config else []
    result = CliRunner().invoke(cli.main, [*pre, *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def populated(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Populated]:
    """Two runs of the real pipeline: the first a baseline, the second brings revisions and a digest."""
    tmp = tmp_path_factory.mktemp("report")
    inbox = Inbox()
    with mail_server(inbox) as port:
        prefix = f"/{tmp.name}"
        rss_path, atom_path = f"{prefix}/world.rss", f"{prefix}/korea.atom"
        rss = world.publish(rss_path, [stories.DISPATCH, stories.FLOOD, HOSTILE])
        atom = world.publish(atom_path, [stories.KURSK], atom=True)
        extra = (
            f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsender = "monitor@example.org"\n'
            'recipients = ["analyst@example.org"]\n'
        )
        config = write_config(tmp, [rss, atom], extra=extra)
        started = datetime.now(UTC)
        code, out = monitor(config, "run")
        assert code == 0, out
        world.publish(atom_path, [stories.KURSK, stories.CASUALTIES], atom=True)
        code, out = monitor(config, "run")
        assert code == 0, out
        yield Populated(config, tmp / "data" / "monitor.duckdb", inbox, started)


def test_report_opens_offline_in_chromium_with_every_report_drawn(populated: Populated, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, text = monitor(populated.config, "report", "-o", str(out))
    assert code == 0, text
    assert re.search(r"wrote .*report\.html \(1 topic, 4 charts\)", text), text
    visit = browser.visit(out, script=CHARTS_JS, screenshot=tmp_path / "report.png")
    print(f"report screenshot: {visit.screenshot}")
    assert visit.outside_requests == [], visit.requests
    assert visit.errors == [], visit.errors
    found = visit.result
    assert len(found) == 4  # deployed, casualties, killed, and the volume of matched articles
    with store.connect(populated.database, read_only=True) as con:
        mentions = dict(con.execute("SELECT category, count(*) FROM series_mentions GROUP BY category").fetchall())
    series = [c for c in found if c["uses"]]
    volume = [c for c in found if not c["uses"]]
    assert sorted(c["points"] for c in series) == sorted(mentions.values())
    for c in series:  # one drawn marker per report in the database, in a chart the page lays out
        assert c["uses"] == c["points"] > 0, c
        assert c["width"] > 300 and c["height"] > 100, c
    assert len(volume) == 1 and volume[0]["groups"] == volume[0]["points"] == volume[0]["paths"] > 0
    assert "matched articles per day" in volume[0]["title"]
    assert visit.screenshot is not None and visit.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert visit.screenshot.stat().st_size > 20_000  # a page of tables and charts, not a blank


def test_report_tables_show_latest_values_with_previous_and_change(populated: Populated, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert monitor(populated.config, "report", "-o", str(out))[0] == 0
    page = out.read_text()
    latest = page[page.index("<h3>Latest figures") : page.index("<h3>New figures")]
    rows = {r[0]: r for r in _rows(latest)}
    # the NIS's 15,000 follows the ministry's 12,000: another source's value, so a counterclaim, not a revision
    assert rows["deployed"][2:4] == ["total", "≈15,000"]
    assert rows["deployed"][5:8] == ["counterclaim", "Ministry: 12,000", "+3,000"]
    assert rows["casualties"][3] == "≈4,700" and rows["casualties"][6] == "—"
    assert rows["killed"][3] == "≈600"
    assert rows["deployed"][8] == "NIS"  # "Seoul's intelligence services": the claimant's key
    new = _rows(page[page.index("<h3>New figures") : page.index("<h3>Reported values")])
    assert [(r[2], r[4], r[5]) for r in new] == [  # newest first, every first report and revision
        ("deployed", "≈15,000", "counterclaim"),
        ("casualties", "≈4,700", "new"),
        ("killed", "≈600", "new"),
        ("deployed", "≈12,000", "counterclaim"),
        ("deployed", "≥10,000", "counterclaim"),
        ("deployed", "≈1,500", "new"),
    ]
    assert 'href="http://127.0.0.1:' in page and "nk-casualties" in page


def test_report_escapes_text_from_the_web(populated: Populated, tmp_path: Path) -> None:
    with store.connect(populated.database, read_only=True) as con:
        row = con.execute("SELECT title FROM articles WHERE url LIKE '%hostile-title'").fetchone()
    assert row is not None and "<img src=x" in row[0]  # the hostile text really is in the database
    out = tmp_path / "report.html"
    assert monitor(populated.config, "report", "-o", str(out), "--since", "2000-01-01")[0] == 0
    page = out.read_text()
    assert "<img" not in page and "onerror=console" in page
    assert html.escape(row[0], quote=True) in page
    assert '<meta http-equiv="Content-Security-Policy"' in page and "<script" not in page


def test_since_limits_the_new_figures_and_topic_selects_one(populated: Populated, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    code, text = monitor(
        populated.config, "report", "-o", str(out), "--since", tomorrow, "--topic", "north korean TROOPS in russia"
    )
    assert code == 0, text
    page = out.read_text()
    assert f"New figures and revisions first seen since {tomorrow}</h3>" in page
    assert 'which can be much earlier.</p><p class="empty">None in this period.' in page
    assert "≈15,000" in page  # the latest figures do not depend on the period
    code, text = monitor(populated.config, "report", "-o", str(out), "--topic", "Floods")
    assert code == 2 and "no topic named 'Floods' (topics: 'North Korean troops in Russia')" in text
    code, text = monitor(populated.config, "report", "-o", str(out), "--since", "last week")
    assert code == 2 and "'last week' is not a date" in text


def test_png_dir_gets_every_chart_and_db_works_without_config(populated: Populated, tmp_path: Path) -> None:
    code, text = monitor(
        None, "report", "--db", str(populated.database), "-o", str(tmp_path / "r.html"), "--png", str(tmp_path / "png")
    )
    assert code == 0, text
    files = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert files == [
        "01-north-korean-troops-in-russia--casualties.png",
        "01-north-korean-troops-in-russia--deployed.png",
        "01-north-korean-troops-in-russia--killed.png",
        "01-north-korean-troops-in-russia--volume.png",
    ]
    for name in files:
        data = (tmp_path / "png" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_charts_are_capped_and_the_page_says_so(populated: Populated) -> None:
    with store.connect(populated.database, read_only=True) as con:
        data = series.chart(con, "North Korean troops in Russia", "deployed", max_points=2)
        page = report.build(con, max_points=2)
    assert len(data.reports) == 2 and data.total_reports == 4
    assert [r.low for r in data.reports] == [12000, 15000]  # the latest ones, oldest first
    assert "Showing the latest 2 of 4 reports." in page.html
    assert "at most the latest 2 reports per category" in page.html


def test_chart_labels_from_the_web_are_not_read_as_mathematics() -> None:
    when = datetime(2025, 1, 1)
    data = series.Chart(
        "t",
        "killed",
        (
            series.Report(when, 5, 5, "exact", r"$\frac{1}{"),
            series.Report(when, 3, 9, "range", "a $ b \\"),
            series.Report(when + timedelta(days=2), 7, None, "at_least", "日本の省"),
        ),
        total_reports=3,
    )
    svg = charts.to_svg(charts.series_figure(data, title="$x^"), "c1", "<t>")
    assert svg.startswith("<svg") and "<title>&lt;t&gt;</title>" in svg
    assert len(re.findall(r'id="c1-points(?:-\d+)?"', svg)) == 2  # two marker shapes: exact and at least
    assert not re.search(r'\bid="(?!c1-)', svg)  # every id prefixed: charts share a page


def test_digest_html_shows_the_changed_series_as_images_in_chromium(populated: Populated, tmp_path: Path) -> None:
    assert len(populated.inbox.messages) == 1  # the first run was the baseline; the second mailed one digest
    msg = populated.inbox.messages[0]
    html_part = msg.get_body(("html",))
    assert html_part is not None
    page = html_part.get_content()
    images = {f"cid:{p['Content-ID'].strip('<>')}": p for p in msg.walk() if p.get_content_type() == "image/png"}
    # the second run revised deployed and brought casualties and killed: a chart for each
    assert len(images) == 3, list(images)
    for cid, part in images.items():
        assert page.count(f'src="{cid}"') == 1
        # as a mail client does: the cid: reference shows the attached part
        page = page.replace(f'src="{cid}"', f'src="data:image/png;base64,{_b64(part)}"')
    assert "cid:" not in page
    out = tmp_path / "digest.html"
    out.write_text(page, encoding="utf-8")
    visit = browser.visit(out, script=IMAGES_JS, screenshot=tmp_path / "digest.png")
    print(f"digest screenshot: {visit.screenshot}")
    assert visit.outside_requests == [], visit.requests
    assert visit.errors == [], visit.errors
    assert len(visit.result) == 3 and all(i["ok"] and i["width"] == 800 for i in visit.result), visit.result
    assert "≈15,000" in page and "Ministry said 12,000" in page


def test_the_browser_check_sees_requests_and_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>'
    )
    visit = browser.visit(page, script="document.title")
    assert visit.result == "bad"
    assert visit.outside_requests == ["http://127.0.0.1:9/x.png"]
    assert any("boom" in e for e in visit.errors)


def _b64(part: Any) -> str:
    import base64

    return base64.b64encode(part.get_content()).decode()


def _rows(fragment: str) -> list[list[str]]:
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", fragment, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        if cells:
            out.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return out
