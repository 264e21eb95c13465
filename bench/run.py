"""news-monitor benchmark: is `monitor run` as fast as extraction itself, flat in memory, cheap when idle?

    .venv/bin/python bench/run.py /work/shared/corpus/pages                     # full run (~20 min on 2 cores)
    .venv/bin/python bench/run.py /work/shared/corpus/pages --only cold         # the cycle only (~12 min)
    .venv/bin/python bench/run.py /work/shared/corpus/pages --quick             # smoke run (~3 min)
    .venv/bin/python bench/run.py /work/shared/corpus/pages --only cold --n 200 --rounds 2

Builds its own world on 127.0.0.1 (20 RSS feeds linking to unique copies of the real pages in PAGES_DIR,
read at run time), then measures, in one run on one machine: `monitor run` as a user runs it (a
subprocess, end to end) against the bound (bare trafilatura.extract over the same pages on all cores) in
the same round, the time outside the flow body, the peak memory of the whole process tree, the first run
on a fresh machine, figures' CPU beside trafilatura's; then idle polls and history queries at scale.
Prints a table (metric, median, target, pass/fail, every round) and writes the raw numbers as JSON.
See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import probes
import world
from probes import MB

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_JSON = BENCH / "results" / "latest.json"

# Targets (issues #8 and #20), on a 2-core machine, ratios measured side by side in one round.
CYCLE_RATIO = 1.10  # monitor run wall / bound wall at the largest N, median of the rounds
PEAK_MB = 700  # whole process tree (flow, workers, temporary API), PSS, at the largest N
FIRST_RUN = 30.0  # seconds: first `monitor run` on a fresh machine, Prefect home included
FIGURES_SHARE_EN = 0.05  # figures.find CPU / trafilatura CPU on the same English pages
FIGURES_SHARE_OTHER = 0.15  # the same on the other languages' pages
IDLE_304 = 1.0  # seconds, warm process, 100 feeds
IDLE_200 = 2.0  # seconds, warm process, 100 feeds, server ignores conditional GET
COLD_OVER_EMPTY = 2.0  # seconds a cold `monitor run` may add to a cold bare empty flow
RSS_GROWTH = 1.2  # largest N / smallest N
QUERY_SECONDS = 0.200  # each history query at 1M figure mentions

TOPICS = """
[[topics]]
name = "North Korean troops in Russia"
query = '''("North Korea" OR "North Korean" OR "North Koreans" OR DPRK OR Pyongyang)
           AND (Russia OR Russian OR Kursk OR Ukraine OR Ukrainian)'''

[[topics]]
name = "War in Ukraine"
query = '(Ukraine OR Ukrainian OR Kyiv) AND (war OR troops OR soldiers OR killed OR casualties OR front*)'

[[topics]]
name = "Gaza"
query = 'Gaza OR Hamas OR "West Bank"'
"""

TINY_PAGE = (
    "<!DOCTYPE html><html><head><title>Seen story {i}</title></head><body><article>"
    "<h1>Seen story {i}</h1><p>This story {i} was already stored by an earlier cycle of the "
    "benchmark, so an idle poll must not fetch it again. It is long enough to count as an article "
    "body.</p></article></body></html>"
)


@dataclass(frozen=True, slots=True)
class Row:
    metric: str
    value: str
    target: str
    ok: bool | None  # None: reported, no target
    rounds: str = ""  # every round's value, when the value is their median


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="news-monitor-bench-"))
        self.server = world.Server()
        self.corpus = world.load_pages(args.pages)
        self.rows: list[Row] = []
        self.first_world: list[str] | None = None  # the first run's feeds, published once
        self.data: dict[str, Any] = {}
        self.monitor = str(Path(sys.executable).with_name("monitor"))
        if not Path(self.monitor).exists():
            self.monitor = shutil.which("monitor") or "monitor"
        # One Prefect home for every subprocess: its database is created once (a one-time cost of a new
        # install, not of a cycle), then every cold start below starts from the same state.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PREFECT_") and k not in ("MONITOR_CONFIG", "DO_NOT_TRACK")
        }
        env["PREFECT_HOME"] = str(self.tmp / "prefect")
        if args.pythonpath:  # another tree's monitor/ and flows/ first: an A/B of two versions
            env["PYTHONPATH"] = str(args.pythonpath.resolve())
        self.env = env

    # --- helpers -----------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    def row(self, metric: str, value: str, target: str = "", ok: bool | None = None, rounds: str = "") -> None:
        self.rows.append(Row(metric, value, target, ok, rounds))

    def config(self, folder: Path, feed_urls: list[str], *, topics: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        feeds = "".join(f'\n[[feeds]]\nurl = "{u}"\n' for u in feed_urls)
        path = folder / "monitor.toml"
        path.write_text(
            f'database = "data/monitor.duckdb"\n\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
            f"workers = 0\n{feeds}{TOPICS if topics else ''}"
        )
        return path

    def measure(self, cmd: list[str], what: str) -> probes.Measured:
        if self.args.profile:
            # py-spy samples the process and its children; its own cost skews the numbers, so a
            # profiled run is for reading where the time goes (bench/profile_summary.py), not for the table.
            self.args.profile.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() else "-" for c in what).strip("-")
            spy = str(Path(sys.executable).with_name("py-spy"))
            children = [] if self.args.profile_main else ["--subprocesses"]
            cmd = [
                spy,
                "record",
                "--format",
                "raw",
                *children,
                "--rate",
                "100",
                "-o",
                str(self.args.profile / f"{name}.txt"),
                "--",
                *cmd,
            ]
        elif self.args.cpu_profile:
            # each thread's CPU by stack in the flow process (bench/cpu_profile.py): for reading, not the table
            self.args.cpu_profile.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() else "-" for c in what).strip("-")
            out = self.args.cpu_profile / f"{name}.txt"
            cmd = [sys.executable, str(BENCH / "cpu_profile.py"), "--out", str(out), "--", *cmd]
        elif self.args.timeline:
            # the CPU each part used, slice by slice (bench/cpu_timeline.py): for reading, not for the table
            self.args.timeline.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() else "-" for c in what).strip("-")
            out = self.args.timeline / f"{name}.txt"
            cmd = [sys.executable, str(BENCH / "cpu_timeline.py"), "--out", str(out), "--", *cmd]
        return probes.run(cmd, self.env).check(what)

    def monitor_run(self, cfg: Path, what: str) -> tuple[probes.Measured, dict[str, Any]]:
        m = self.measure([self.monitor, "-c", str(cfg), "run", "--json"], what)
        return m, m.json_tail()

    def empty_flow(self, data_dir: Path, repeat: int = 1) -> tuple[probes.Measured, dict[str, Any]]:
        # the same kind of flow as the polling flow (async or not): see prefect_probe.py
        flavour = ["--async"] if "async def poll_cycle" in (ROOT / "flows" / "poll.py").read_text() else []
        m = self.measure(
            [
                sys.executable,
                str(BENCH / "prefect_probe.py"),
                "empty",
                str(data_dir),
                "--repeat",
                str(repeat),
                *flavour,
            ],
            f"bare empty Prefect flow x{repeat}",
        )
        return m, m.json_tail()

    def warm_poll(self, cfg: Path, repeat: int) -> dict[str, Any]:
        m = self.measure(
            [sys.executable, str(BENCH / "prefect_probe.py"), "poll", str(cfg), "--repeat", str(repeat)],
            f"warm polling flow {self.server.conditional}",
        )
        out: dict[str, Any] = m.json_tail()
        out["process_wall"] = m.wall
        return out

    # --- 0. Prefect home ---------------------------------------------------------------------------

    def prefect_home(self) -> None:
        self.log("creating the shared Prefect home (a bare empty flow on a fresh home; not part of any cycle)")
        m, _ = self.empty_flow(self.tmp / "first")
        self.data["prefect_first_start"] = m.wall
        self.row("bare empty Prefect flow on a new Prefect home (sets the home up for the rounds)", f"{m.wall:.1f} s")

    # --- 1 + 3 + 5. cold cycle, memory, figures ----------------------------------------------------

    def cold(self, n: int) -> dict[str, Any]:
        """N new articles behind the feeds: `rounds` rounds, each the bound then `monitor run`, side by side."""
        folder = self.tmp / f"cold-{n}"
        pages_dir = folder / "pages"
        pages_dir.mkdir(parents=True)
        copies = []
        for i in range(n):
            body = world.unique_copy(self.corpus[i % len(self.corpus)][1], f"{n}-{i}")
            (pages_dir / f"{i:05d}.html").write_bytes(body)
            copies.append(body)
        feed_urls = world.publish(self.server, f"cold{n}", copies, min(self.args.feeds, n))
        del copies
        rounds = [self.cold_round(n, k, folder, pages_dir, feed_urls) for k in range(self.args.rounds)]
        shutil.rmtree(pages_dir)
        return {"n": n, "feeds": len(feed_urls), "rounds": rounds}

    def cold_round(self, n: int, k: int, folder: Path, pages_dir: Path, feed_urls: list[str]) -> dict[str, Any]:
        """One round: the bound, then `monitor run` into a fresh database (and the extras, if asked)."""
        cfg = self.config(folder / f"round-{k}", feed_urls)
        tag = f"N={n} round {k + 1}/{self.args.rounds}"
        self.log(f"{tag}: bound (bare trafilatura, process pool, all cores)")
        bound_m = probes.run(
            [
                sys.executable,
                str(BENCH / "bound.py"),
                str(pages_dir),
                "--workers",
                "0",
                "--figures",
                str(min(n, len(self.corpus))),
            ],
            self.env,
        ).check("bound")
        bound = bound_m.json_tail()
        self.log(f"{tag}: monitor run ({len(feed_urls)} feeds)")
        self.server.reset_hits()
        self_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.time()
        pipe, summary = self.monitor_run(cfg, f"monitor run (N={n}, round {k + 1})")
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        if summary.get("new_articles") != n:
            raise SystemExit(
                f"N={n}: the cycle stored {summary.get('new_articles')} articles, expected {n}; summary: {summary}"
            )
        body_start = datetime.fromisoformat(summary["started_at"]).timestamp()
        body = float(summary["seconds"])
        out: dict[str, Any] = {
            "pipeline": _measured(pipe),
            "summary": {
                key: summary.get(key)
                for key in ("status", "new_articles", "articles_failed", "topic_matches", "figures", "seconds")
            },
            "bound": bound,
            "bound_process": _measured(bound_m),
            "ratio": pipe.wall / bound["wall"],
            # outside the flow body: from the command's start to the body's first line (imports, Prefect's
            # temporary API, the flow run's creation), and from the body's last line to the command's exit
            "startup": body_start - started,
            "body": body,
            "exit": pipe.wall - (body_start - started) - body,
            # the HTTP server and the sampler in this process: CPU the world took from the machine
            "world_cpu": (self_after.ru_utime - self_before.ru_utime) + (self_after.ru_stime - self_before.ru_stime),
            "db_bytes": (cfg.parent / "data" / "monitor.duckdb").stat().st_size,
            "http": dict(self.server.hits),
            "load": probes.load_average(),
        }
        self.log(
            f"{tag}: monitor run {pipe.wall:.1f} s (start-up {out['startup']:.1f} s, flow body {body:.1f} s, "
            f"exit {out['exit']:.1f} s), bound {bound['wall']:.1f} s, ratio {out['ratio']:.2f}; peak "
            f"memory of the tree {pipe.mem('pss', 'tree') / MB:.0f} MB PSS, {pipe.mem('rss', 'tree') / MB:.0f}"
            " MB RSS"
        )
        if self.args.first_n and n == self.args.n[-1]:
            out["first_run"] = self.first_run(k)
        if self.args.extras:
            out.update(self.extras(n, k, folder, pages_dir, feed_urls))
        return out

    def first_run(self, k: int) -> dict[str, Any]:
        """`monitor run` as on a fresh machine: a new Prefect home (its database created and migrated) and a
        new data directory, over a world of its own (`--first-n` new articles behind the same number of feeds)."""
        n = self.args.first_n
        if self.first_world is None:
            pages = [world.unique_copy(self.corpus[i % len(self.corpus)][1], f"first-{i}") for i in range(n)]
            self.first_world = world.publish(self.server, "first", pages, min(self.args.feeds, n))
        folder = self.tmp / f"first-run-{k}"
        cfg = self.config(folder, self.first_world)
        env = dict(self.env, PREFECT_HOME=str(folder / "prefect-home"))
        self.log(f"first monitor run on a fresh machine (new Prefect home, {n} new articles)")
        m = probes.run([self.monitor, "-c", str(cfg), "run", "--json"], env).check("first monitor run")
        summary = m.json_tail()
        if summary.get("new_articles") != n:
            raise SystemExit(f"first run: stored {summary.get('new_articles')} articles, expected {n}: {summary}")
        self.log(f"first monitor run: {m.wall:.1f} s")
        return {"wall": m.wall, "seconds": summary["seconds"], "peak": m.peak}

    def extras(self, n: int, k: int, folder: Path, pages_dir: Path, feed_urls: list[str]) -> dict[str, Any]:
        """`--extras`: a bare empty flow, the bound warmed as the pipeline's processes are, and the cycle in a
        process where Prefect is already up (as `monitor serve` runs it)."""
        tag = f"N={n} round {k + 1}/{self.args.rounds}"
        self.log(f"{tag}: bare empty Prefect flow, cold")
        empty, _ = self.empty_flow(folder / "empty")
        self.log(f"{tag}: bound, warmed as the pipeline's processes are (monitor.warmup before forking)")
        warm_bound = (
            probes.run([sys.executable, str(BENCH / "bound.py"), str(pages_dir), "--workers", "0", "--warm"], self.env)
            .check("warmed bound")
            .json_tail()
        )
        warm_cfg = self.config(folder / f"round-{k}-warm", feed_urls)
        idle_cfg = self.config(folder / "warmup", [], topics=False)
        self.log(f"{tag}: the cycle in a warm process (Prefect's API already up)")
        warm = self.measure(
            [sys.executable, str(BENCH / "prefect_probe.py"), "poll", str(warm_cfg), "--warmup", str(idle_cfg)],
            f"warm cycle (N={n}, round {k + 1})",
        ).json_tail()
        if warm["results"][0]["new_articles"] != n:
            raise SystemExit(f"N={n}: the warm cycle stored {warm['results'][0]}, expected {n} articles")
        return {"empty_flow": empty.wall, "warm_bound": warm_bound["wall"], "warm_cycle": warm["calls"][0]}

    def cold_rows(self, results: list[dict[str, Any]]) -> None:
        big = results[-1]["n"]

        def each(r: dict[str, Any], value: Any, fmt: str = "{:.1f}") -> tuple[float, str]:
            values = [float(value(k)) for k in r["rounds"]]
            return statistics.median(values), ", ".join(fmt.format(v) for v in values)

        def row(
            metric: str,
            r: dict[str, Any],
            value: Any,
            unit: str = " s",
            fmt: str = "{:.1f}",
            target: float | None = None,
            targeted: bool = True,
        ) -> float:
            median, rounds = each(r, value, fmt)
            aim = "" if target is None or not targeted else f"<= {fmt.format(target)}{unit}"
            self.row(metric, fmt.format(median) + unit, aim, median <= target if aim and target else None, rounds)
            return median

        for r in results:
            n, last = r["n"], r["n"] == big
            first = r["rounds"][0]
            label = f"N={n}"
            row(f"{label}: monitor run wall, end to end", r, lambda k: k["pipeline"]["wall"])
            row(
                f"{label}: bound (bare trafilatura.extract, {first['bound']['workers']} processes)",
                r,
                lambda k: k["bound"]["wall"],
            )
            row(
                f"{label}: ratio monitor run / bound (same round)",
                r,
                lambda k: k["ratio"],
                "",
                "{:.2f}",
                CYCLE_RATIO,
                last,
            )
            row(f"{label}: flow body (the run summary's seconds)", r, lambda k: k["body"])
            row(
                f"{label}: outside the flow body: start-up (imports, Prefect's temporary API, flow run)",
                r,
                lambda k: k["startup"],
            )
            row(f"{label}: outside the flow body: exit (after the body's last line)", r, lambda k: k["exit"])
            row(f"{label}: CPU of the monitor run tree", r, lambda k: k["pipeline"]["cpu"])
            row(
                f"{label}: CPU of the bound (its pool)",
                r,
                lambda k: k["bound"].get("pool_cpu", k["bound_process"]["cpu"]),
            )
            for part, name in (
                ("main", "flow process (its temporary API's thread included)"),
                ("workers", "extraction processes (and forkserver)"),
                ("server", "temporary API when a process of its own (an older tree, --pythonpath)"),
            ):
                row(f"{label}: CPU of the {name}", r, lambda k, p=part: k["pipeline"]["cpu_roles"].get(p, 0.0))
            row(
                f"{label}: peak memory, whole tree (flow, workers, temporary API): PSS sum",
                r,
                lambda k: k["pipeline"]["peak"]["pss"]["tree"] / MB,
                " MB",
                "{:.0f}",
                PEAK_MB,
                last,
            )
            row(
                f"{label}: peak memory, whole tree: RSS sum (shared pages counted per process)",
                r,
                lambda k: k["pipeline"]["peak"]["rss"]["tree"] / MB,
                " MB",
                "{:.0f}",
            )
            for part, name in (
                ("main", "flow process (its temporary API's thread included)"),
                ("workers", "extraction processes"),
                ("server", "temporary API when a process of its own"),
            ):
                row(
                    f"{label}: peak memory, {name} (PSS)",
                    r,
                    lambda k, p=part: k["pipeline"]["peak"]["pss"].get(p, 0) / MB,
                    " MB",
                    "{:.0f}",
                )
            row(f"{label}: database size per article (real pages)", r, lambda k, n=n: k["db_bytes"] / n / 1024, " KiB")
            if self.args.extras:
                row(f"{label}: bare empty Prefect flow, cold process", r, lambda k: k["empty_flow"])
                row(
                    f"{label}: bound warmed as the pipeline's processes are (monitor.warmup)",
                    r,
                    lambda k: k["warm_bound"],
                )
                row(f"{label}: the cycle with Prefect's API already up (warm process)", r, lambda k: k["warm_cycle"])
        if len(results) > 1:
            small, large = results[0], results[-1]
            pss = [statistics.median(k["pipeline"]["peak"]["pss"]["tree"] for k in r["rounds"]) for r in (small, large)]
            growth = pss[1] / max(pss[0], 1)
            self.row(
                f"peak memory growth N={large['n']} / N={small['n']} (whole tree, PSS, medians)",
                f"{growth:.2f}",
                f"<= {RSS_GROWTH}",
                growth <= RSS_GROWTH,
            )
        r = results[-1]
        if self.args.first_n:
            row(
                f"first monitor run on a fresh machine (new Prefect home, N={self.args.first_n})",
                r,
                lambda k: k["first_run"]["wall"],
                target=FIRST_RUN,
            )
        figures_pages = r["rounds"][0]["bound"]["figures_by_language"]
        for side, target, name in (("en", FIGURES_SHARE_EN, "English"), ("other", FIGURES_SHARE_OTHER, "other")):
            pages = figures_pages[side]["pages"]

            def share(k: dict[str, Any], s: str = side) -> float:
                d = k["bound"]["figures_by_language"][s]
                return 100 * d["figures_cpu"] / d["extract_cpu"] if d["extract_cpu"] else 0.0

            row(
                f"figures.find CPU / trafilatura CPU, {name} pages ({pages} distinct pages)",
                r,
                share,
                "%",
                "{:.1f}",
                100 * target,
            )

        if "calls_cpu" in r["rounds"][0]["bound"]:
            distinct = r["rounds"][0]["bound"]["figures_pages"]
            row(
                f"extraction CPU, the pipeline's call / the bound's ({distinct} distinct pages, one process)",
                r,
                lambda k: k["bound"]["calls_cpu"]["pipeline"] / k["bound"]["calls_cpu"]["bound"],
                "",
                "{:.2f}",
            )

    # --- 2. idle polls -----------------------------------------------------------------------------

    def idle(self) -> dict[str, Any]:
        n_feeds, n_items = self.args.idle_feeds, self.args.idle_items
        folder = self.tmp / "idle"
        pages = [TINY_PAGE.format(i=i).encode() for i in range(n_feeds * n_items)]
        feed_urls = world.publish(self.server, "idle", pages, n_feeds)
        cfg = self.config(folder, feed_urls)
        self.server.conditional = True
        self.log(f"idle: seeding {n_feeds} feeds x {n_items} items (one cycle stores them all)")
        seed, summary = self.monitor_run(cfg, "idle seeding cycle")
        if summary.get("new_articles") != n_feeds * n_items:
            raise SystemExit(
                f"idle seeding stored {summary.get('new_articles')} articles, expected {n_feeds * n_items}: {summary}"
            )
        out: dict[str, Any] = {"feeds": n_feeds, "items": n_items, "seed_wall": seed.wall}
        repeat = self.args.repeat
        for mode, conditional in (("304", True), ("200", False)):
            self.server.conditional = conditional
            self.log(f"idle {mode}: cold monitor run, cold and warm empty flow, warm polling flow")
            self.server.reset_hits()
            cold, cold_summary = self.monitor_run(cfg, f"idle cold monitor run ({mode})")
            hits = dict(self.server.hits)
            if cold_summary.get("new_entries") or cold_summary.get("feeds_not_modified") != n_feeds:
                raise SystemExit(f"idle {mode}: expected {n_feeds} unchanged feeds and nothing new, got {cold_summary}")
            empty_m, empty = self.empty_flow(folder / "empty", repeat=repeat)
            warm = self.warm_poll(cfg, repeat)
            if any(r["new_entries"] or r["feeds_not_modified"] != n_feeds for r in warm["results"]):
                raise SystemExit(f"idle {mode}: a warm poll found something new: {warm['results']}")
            out[mode] = {
                "cold_monitor_run": _measured(cold),
                "cold_summary_seconds": cold_summary.get("seconds"),
                "http": hits,
                "empty_cold": _measured(empty_m),
                "empty_calls": empty["calls"],
                "warm_calls": warm["calls"],
                "warm_summary_seconds": [r["seconds"] for r in warm["results"]],
            }
        self.server.conditional = True
        return out

    def idle_rows(self, r: dict[str, Any]) -> None:
        label = f"{r['feeds']} feeds x {r['items']} seen items"
        for mode, target in (("304", IDLE_304), ("200", IDLE_200)):
            d = r[mode]
            name = "304" if mode == "304" else "200 same bytes"
            warm = _warm(d["warm_calls"])
            empty_warm = _warm(d["empty_calls"])
            d["warm_median"], d["empty_warm_median"] = warm, empty_warm
            self.row(f"idle {name}: warm flow call ({label})", f"{warm:.2f} s", f"<= {target:g} s", warm <= target)
            self.row(f"idle {name}: bare empty flow, warm call", f"{empty_warm:.2f} s")
            cold = d["cold_monitor_run"]["wall"]
            empty = d["empty_cold"]["wall"]
            self.row(
                f"idle {name}: cold monitor run; bare empty flow cold",
                f"{cold:.1f} s; {empty:.1f} s",
                f"<= empty + {COLD_OVER_EMPTY:g} s",
                cold <= empty + COLD_OVER_EMPTY,
            )

    # --- 4. history at scale -----------------------------------------------------------------------

    def history(self) -> dict[str, Any]:
        import history_scale

        self.log(f"history: building {self.args.mentions:,} figure mentions over {self.args.articles:,} articles")
        return history_scale.measure(
            self.tmp / "history", self.args.articles, self.args.mentions, self.args.pages, log=self.log
        )

    def history_rows(self, r: dict[str, Any]) -> None:
        label = f"{r['mentions'] / 1e6:g}M mentions"
        for name, t in r["queries"].items():
            if t is None:
                self.row(f"history query {name} ({label})", "missing", f"<= {QUERY_SECONDS * 1000:.0f} ms", False)
            else:
                rows = r["query_rows"].get(name, 0)
                self.row(
                    f"history query {name} ({label}, {rows:,} rows)",
                    f"{t * 1000:.0f} ms",
                    f"<= {QUERY_SECONDS * 1000:.0f} ms",
                    t <= QUERY_SECONDS,
                )
        for name, t in r.get("updates", {}).items():
            self.row(f"history.update {name}", f"{t:.2f} s")
        self.row(
            f"database size per article (synthetic, {r['articles']:,} articles)",
            f"{r['db_bytes'] / r['articles'] / 1024:.1f} KiB",
        )
        self.row("database build time (synthetic rows)", f"{r['build_seconds']:.1f} s")

    # --- the run -----------------------------------------------------------------------------------

    def run(self) -> int:
        load = probes.load_average()
        self.data["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_before": load,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.log(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs; temp {self.tmp}")
        sections = set(self.args.only.split(",")) if self.args.only else {"cold", "idle", "history"}
        try:
            if sections & {"cold", "idle"}:
                self.prefect_home()
            if "cold" in sections:
                cold = [self.cold(n) for n in self.args.n]
                self.data["cold"] = cold
                self.cold_rows(cold)
            if "idle" in sections:
                idle = self.idle()
                self.data["idle"] = idle
                self.idle_rows(idle)
            if "history" in sections:
                hist = self.history()
                self.data["history"] = hist
                self.history_rows(hist)
        finally:
            self.server.close()
            if not self.args.keep:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.data["machine"]["load_after"] = probes.load_average()
        self.data["rows"] = [asdict(r) for r in self.rows]
        print(self.table())
        if self.args.json:
            self.args.json.parent.mkdir(parents=True, exist_ok=True)
            self.args.json.write_text(json.dumps(self.data, indent=1, default=str) + "\n")
            self.log(f"raw numbers written to {self.args.json}")
        return 0 if all(r.ok is not False for r in self.rows) else 1

    def table(self) -> str:
        m = self.data["machine"]
        head = (
            f"news-monitor benchmark, {m['started']}, {m['cpus']} CPUs, Python {m['python']}, "
            f"load average before {m['load_before'][0]:.2f}, after {m['load_after'][0]:.2f}; "
            f"{self.args.rounds} rounds, {self.args.feeds} feeds"
        )
        verdict = {None: "", True: "pass", False: "FAIL"}
        cells = [
            ("metric", "value (median)", "target", "result", "every round"),
            *((r.metric, r.value, r.target, verdict[r.ok], r.rounds) for r in self.rows),
        ]
        widths = [max(len(c[i]) for c in cells) for i in range(5)]
        lines = [head, ""]
        for i, c in enumerate(cells):
            lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |")
            if i == 0:
                lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def _warm(calls: list[float]) -> float:
    """The warm figure of a process's calls: the median after the first (which starts Prefect)."""
    return statistics.median(calls[1:]) if len(calls) > 1 else float("nan")


def _measured(m: probes.Measured) -> dict[str, Any]:
    return {
        "wall": m.wall,
        "cpu": m.cpu,
        "cpu_rusage": m.cpu_rusage,
        "cpu_sampled": m.cpu_sampled,
        "cpu_roles": m.cpu_roles,
        "peak": m.peak,
        "maxrss_children": m.maxrss_children,
        "timeline_pss_main_workers_tree": m.timeline,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("pages", type=Path, help="directory of real news pages (*.html), e.g. /work/shared/corpus/pages")
    p.add_argument(
        "--n",
        "--sizes",
        dest="n",
        default=None,
        help="new articles per cold cycle, comma-separated (default 500,2000: memory must be flat in N)",
    )
    p.add_argument("--feeds", type=int, default=20, help="feeds the articles are spread over (default 20)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: N=100, 1 round, 20 idle feeds, 100k figure mentions; no JSON unless --json",
    )
    p.add_argument("--idle-feeds", type=int, default=None, help="feeds in the idle poll (default 100)")
    p.add_argument("--idle-items", type=int, default=50, help="already-seen items per idle feed (default 50)")
    p.add_argument("--mentions", type=int, default=None, help="figure mentions in the history database (1,000,000)")
    p.add_argument("--articles", type=int, default=None, help="articles in the history database (200,000)")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds of each cold cycle; the median counts, every round is shown (default 5; 1 with --quick)",
    )
    p.add_argument(
        "--first-n",
        type=int,
        default=None,
        help="new articles in the first run on a fresh machine, once per round of the largest N (default 100; 0: skip)",
    )
    p.add_argument(
        "--extras",
        action="store_true",
        help="each round also: a bare empty Prefect flow, the bound warmed as the pipeline's "
        "processes are, the cycle in a process where Prefect is already up",
    )
    p.add_argument("--repeat", type=int, default=6, help="flow calls per warm process (default 6; the first is cold)")
    p.add_argument("--only", default="", help="sections to run: cold,idle,history (default all)")
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        help=f"write raw numbers here (default {DEFAULT_JSON.relative_to(ROOT)} for a full run: "
        "no --quick, --n or --rounds)",
    )
    p.add_argument(
        "--pythonpath",
        type=Path,
        default=None,
        help="run the pipeline from another tree (its monitor/ and flows/ first on PYTHONPATH)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record each `monitor run` with py-spy (collapsed stacks) into this directory",
    )
    p.add_argument(
        "--profile-main",
        action="store_true",
        help="with --profile: only the process started, not its children (less overhead)",
    )
    p.add_argument(
        "--timeline",
        type=Path,
        default=None,
        help="write each `monitor run`'s CPU per half second and part (flow, forkserver, workers) into this "
        "directory: where cores sit idle (bench/cpu_timeline.py)",
    )
    p.add_argument(
        "--cpu-profile",
        type=Path,
        default=None,
        help="write, for each `monitor run`, the flow process's CPU by thread and stack into this directory: "
        "where its CPU goes (bench/cpu_profile.py --summary FILE)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, configs)")
    args = p.parse_args(argv)
    q = args.quick
    # the committed latest.json holds full runs only: a run with other sizes or rounds writes it when asked
    full = not q and args.n is None and args.rounds is None
    args.n = [int(s) for s in (args.n or ("100" if q else "500,2000")).split(",")]
    args.idle_feeds = args.idle_feeds or (20 if q else 100)
    args.rounds = args.rounds or (1 if q else 5)
    args.first_n = 100 if args.first_n is None else args.first_n
    args.mentions = args.mentions or (100_000 if q else 1_000_000)
    args.articles = args.articles or (20_000 if q else 200_000)
    if args.json is None and full:
        args.json = DEFAULT_JSON
    return args


if __name__ == "__main__":
    sys.exit(Bench(parse_args()).run())
