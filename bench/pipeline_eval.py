"""Evaluate the whole pipeline on real pages, as a new user would try it.

Serves every page of PAGES_DIR (e.g. ../shared/corpus/pages) on 127.0.0.1 behind two RSS 2.0 and two Atom
feeds, runs `monitor run` twice in fresh processes, then compares each stored body with the page's true
text (token-level F1, from PAGES_DIR/truth.jsonl) and checks that the second run fetched no article and
sent one conditional request per feed.

    python bench/pipeline_eval.py ../shared/corpus/pages
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import html
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb


class Site:
    """Pages and feeds on 127.0.0.1 with ETags and request counters."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: collections.Counter[str] = collections.Counter()
        self.conditional: collections.Counter[str] = collections.Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                site.hits[path] += 1
                if self.headers.get("If-None-Match"):
                    site.conditional[path] += 1
                if path not in site.routes:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = site.routes[path]
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


def feed(kind: str, name: str, items: list[tuple[str, str, datetime]]) -> bytes:
    if kind == "atom":
        entries = "".join(
            f'<entry><title>{html.escape(t)}</title><link href="{html.escape(u)}"/><id>{html.escape(u)}</id>'
            f"<updated>{d.isoformat()}</updated></entry>"
            for t, u, d in items
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{name}</title><id>urn:{name}</id><updated>{datetime.now(UTC).isoformat()}</updated>"
            f"{entries}</feed>"
        ).encode()
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid>"
        f"<pubDate>{format_datetime(d)}</pubDate></item>"
        for t, u, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
        f"<link>http://example.test/</link><description>eval</description>{entries}</channel></rss>"
    ).encode()


def tokens(text: str) -> collections.Counter[str]:
    return collections.Counter(re.findall(r"\w+", text.lower()))


def f1(predicted: str, truth: str) -> float:
    p, t = tokens(predicted), tokens(truth)
    overlap = sum((p & t).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def run_monitor(config: Path) -> tuple[float, str]:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "run"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"monitor run failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return time.monotonic() - started, out.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", type=Path, help="directory of NAME.html pages with truth.jsonl")
    args = parser.parse_args(argv)
    truth = {
        json.loads(line)["file"]: json.loads(line)["body"]
        for line in (args.pages / "truth.jsonl").read_text().splitlines()
        if line.strip()
    }
    pages = sorted(args.pages.glob("*.html"))
    site = Site()
    feeds: dict[str, list[tuple[str, str, datetime]]] = {f"/feed{i}.{'atom' if i % 2 else 'rss'}": [] for i in range(4)}
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i, page in enumerate(pages):
        site.routes[f"/pages/{page.name}"] = (page.read_bytes(), "text/html")
        feed_path = list(feeds)[i % 4]
        feeds[feed_path].append((page.stem, f"{site.base}/pages/{page.name}", start + timedelta(hours=i)))
    for path, items in feeds.items():
        kind = "atom" if path.endswith(".atom") else "rss"
        site.routes[path] = (feed(kind, path, items), f"application/{kind}+xml")

    with tempfile.TemporaryDirectory(prefix="monitor-eval-") as tmp:
        config = Path(tmp) / "monitor.toml"
        lines = ['database = "monitor.duckdb"', "[fetch]", 'allow_networks = ["127.0.0.0/8"]']
        for path in feeds:
            lines += ["[[feeds]]", f'url = "{site.base}{path}"']
        lines += [
            "[[topics]]",
            'name = "North Korean troops in Russia"',
            'query = \'("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Ukraine)\'',
        ]
        config.write_text("\n".join(lines) + "\n")
        first_s, first_out = run_monitor(config)
        site.hits.clear()
        site.conditional.clear()
        second_s, _ = run_monitor(config)
        con = duckdb.connect(str(Path(tmp) / "monitor.duckdb"), read_only=True)
        stored = con.execute("SELECT final_url, text, text_source FROM articles").fetchall()
        counts = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(DISTINCT url) FROM articles),"
            " (SELECT count(*) FROM figure_mentions), (SELECT count(*) FROM topic_matches)"
        ).fetchone()
        runs = con.execute("SELECT new_articles FROM runs ORDER BY started_at").fetchall()
        con.close()

    scores = []
    for url, text, _source in stored:
        name = url.rsplit("/", 1)[1]
        if name in truth:
            scores.append(f1(text or "", truth[name]))
    article_fetches = sum(n for p, n in site.hits.items() if p.startswith("/pages/"))
    assert counts is not None
    print(
        f"pages served: {len(pages)}; articles stored: {counts[0]} ({counts[1]} distinct URLs); "
        f"figures: {counts[2]}; topic matches: {counts[3]}"
    )
    print(
        f"pages with truth: {len(scores)}; token F1 median {statistics.median(scores):.3f}, "
        f"mean {statistics.mean(scores):.3f}, below 0.5: {sum(s < 0.5 for s in scores)}"
    )
    print(f"first run: {first_s:.1f}s ({first_out.splitlines()[0] if first_out else ''})")
    print(
        f"second run: {second_s:.1f}s; new articles {runs[-1][0]}; article fetches {article_fetches}; "
        f"feed requests {dict((p, site.hits[p]) for p in feeds)}; "
        f"conditional {dict((p, site.conditional[p]) for p in feeds)}"
    )
    ok = (
        counts[0] == len(pages)
        and statistics.median(scores) >= 0.85
        and article_fetches == 0
        and all(site.hits[p] == 1 and site.conditional[p] == 1 for p in feeds)
        and runs[-1][0] == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
