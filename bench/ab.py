"""A/B of two source trees: `monitor run` over the same N new pages, the two trees' runs taking turns.

On a VM whose speed moves from minute to minute, two tables taken an hour apart cannot tell a change of a few
per cent from the noise; runs of A and B side by side can. Each run is a cold `monitor run` into a fresh
database (one Prefect home for all, set up first), its wall time from the command's start to its exit. The
order alternates (A B, B A, …) so neither side always runs second.

    python bench/ab.py /work/shared/corpus/pages --a /path/to/old-tree --b . --n 2000 --pairs 6

A tree is put first on PYTHONPATH (its monitor/ and flows/), so both run with this environment's packages.
Besides wall time, each run's CPU is sampled (bench/probes.py): of the whole tree, and of the flow process
alone (Prefect's client and temporary API, fetching, feed parsing, storing), whose seconds drift far less
than wall time on a VM whose speed moves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import probes  # noqa: E402
import world  # noqa: E402
from run import TOPICS  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pages", type=Path, help="directory of real news pages (*.html)")
    p.add_argument("--a", type=Path, required=True, help="tree A (a checkout of news-monitor)")
    p.add_argument("--b", type=Path, required=True, help="tree B")
    p.add_argument("--n", type=int, default=2000, help="new articles per run (default 2000)")
    p.add_argument("--feeds", type=int, default=20, help="feeds the articles are spread over (default 20)")
    p.add_argument("--pairs", type=int, default=6, help="runs of each tree (default 6)")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="news-monitor-ab-"))
    server = world.Server()
    corpus = world.load_pages(args.pages)
    copies = [world.unique_copy(corpus[i % len(corpus)][1], f"ab-{i}") for i in range(args.n)]
    feeds = world.publish(server, "ab", copies, min(args.feeds, args.n))
    del copies
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "MONITOR_CONFIG"}
    env["PREFECT_HOME"] = str(tmp / "prefect")
    monitor = str(Path(sys.executable).with_name("monitor"))

    def config(folder: Path) -> Path:
        folder.mkdir(parents=True)
        path = folder / "monitor.toml"
        path.write_text(
            'database = "data/monitor.duckdb"\n\n[fetch]\nallow_networks = ["127.0.0.0/8"]\nworkers = 0\n'
            + "".join(f'\n[[feeds]]\nurl = "{u}"\n' for u in feeds)
            + TOPICS
        )
        return path

    def run(tree: Path, folder: Path) -> tuple[float, float, float, float]:
        """The run's wall time, its start-up (the summary's startup_seconds), the CPU of its tree and of
        its flow process."""
        done = probes.run(
            [monitor, "-c", str(config(folder)), "run", "--json"], {**env, "PYTHONPATH": str(tree.resolve())}
        )
        summary = done.json_tail() if "{" in done.stdout else {}
        if summary.get("new_articles") != args.n:
            raise SystemExit(
                f"{tree}: stored {summary.get('new_articles')} articles, expected {args.n}:\n{done.stderr}"
            )
        startup = float(summary.get("startup_seconds") or 0.0)
        return done.wall, startup, done.cpu, done.cpu_roles.get("main", 0.0)

    print(f"setting the Prefect home up ({tmp / 'prefect'}) …", file=sys.stderr, flush=True)
    run(args.b, tmp / "home")
    walls: dict[str, list[float]] = {"A": [], "B": []}
    cpus: dict[str, list[float]] = {"A": [], "B": []}
    flows: dict[str, list[float]] = {"A": [], "B": []}
    trees = {"A": args.a, "B": args.b}
    for k in range(args.pairs):
        for side in ("A", "B") if k % 2 == 0 else ("B", "A"):
            wall, startup, cpu, flow = run(trees[side], tmp / f"{side}-{k}")
            walls[side].append(wall)
            cpus[side].append(cpu)
            flows[side].append(flow)
            print(
                f"pair {k + 1} {side}: {wall:.1f} s (start-up {startup:.1f} s); CPU {cpu:.1f} s, "
                f"flow process {flow:.1f} s",
                flush=True,
            )
    for side in ("A", "B"):
        print(
            f"{side} {trees[side]}: median wall {statistics.median(walls[side]):.1f} s, CPU "
            f"{statistics.median(cpus[side]):.1f} s, flow process {statistics.median(flows[side]):.1f} s"
        )
    for name, values in (("wall", walls), ("CPU", cpus), ("flow process CPU", flows)):
        ratios = [b / a for a, b in zip(values["A"], values["B"], strict=True)]
        print(
            f"B / A per pair, {name}: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}"
        )
    server.close()


if __name__ == "__main__":
    main()
