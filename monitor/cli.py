"""Command line: a thin shell over the library. Each command parses, calls, reports; errors exit non-zero."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor import config as config_mod
from monitor.errors import ConfigError, MonitorError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER = 2      # the user must act: config, arguments, input
EXIT_FAILED = 1    # the work failed: every feed down, database unusable


def handle_errors(fn: F) -> F:
    """Turn a MonitorError into one clear line on stderr and an exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_USER)
        except MonitorError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(getattr(e, "exit_code", EXIT_USER))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def load_config(ctx: click.Context) -> config_mod.Config:
    obj = ctx.find_root().obj or {}
    path = config_mod.resolve_path(obj.get("config"), os.environ)
    return config_mod.load(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("-c", "--config", "config_path", metavar="FILE",
              help="Config file (default: $MONITOR_CONFIG, else ./monitor.toml).")
@click.version_option(package_name="news-monitor", prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """news-monitor: poll news feeds, extract articles, find casualty and troop figures, keep them in DuckDB.

    \b
    Examples:
      monitor run                      one polling cycle with ./monitor.toml
      monitor sql "SELECT * FROM figures LIMIT 5"
      monitor figures "At least 12 soldiers were killed."
    """
    ctx.obj = {"config": config_path}


@main.command()
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show Prefect's and the pipeline's log lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
@handle_errors
def run(ctx: click.Context, quiet: bool, verbose: bool, as_json: bool) -> None:
    """Run one polling cycle now (the Prefect flow, no server to set up) and print a summary.

    \b
    Example:
      monitor -c monitor.toml run
    """
    cfg = load_config(ctx)
    from monitor import runs

    summary = runs.from_dict(run_cycle(cfg, verbose=verbose))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), default=str, indent=2))
    elif not quiet:
        click.echo(summary.text())
    if summary.status == "failed":
        sys.exit(EXIT_FAILED)


def run_cycle(cfg: config_mod.Config, *, verbose: bool = False) -> dict[str, Any]:
    """Run the polling flow for a loaded config and return its summary dict."""
    from monitor import store

    with store.open_for_write(cfg.database):  # a database that cannot be opened is a clear error, not a flow crash
        pass
    import flows

    flows.prepare_environment(cfg.data_dir, verbose=verbose)
    from flows import poll

    result: dict[str, Any] = poll.poll_cycle(str(cfg.path))
    return result


@main.command()
@click.argument("query", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Database file (default: `database` from the config).")
@click.pass_context
@handle_errors
def sql(ctx: click.Context, query: str | None, fmt: str, db_path: Path | None) -> None:
    """Run read-only SQL on the database (no file or network access from SQL).

    QUERY may also come on stdin.

    \b
    Examples:
      monitor sql "SELECT topic, category, low, high, claimant, article_url FROM figures LIMIT 10"
      monitor sql -f csv "SELECT * FROM runs" > runs.csv
    """
    from monitor import query as query_mod

    if query is None:
        if sys.stdin.isatty():
            raise click.UsageError("give the SQL as an argument or on stdin")
        query = sys.stdin.read()
    path = db_path or load_config(ctx).database
    columns, rows = query_mod.run_sql(path, query)
    write_rows(columns, rows, fmt)


@main.command("figures")
@click.argument("text", required=False)
@click.option("--jsonl", is_flag=True,
              help='Batch mode: read lines {"id": …, "text": …} on stdin, write {"id": …, "figures": […]}.')
@handle_errors
def figures_cmd(text: str | None, jsonl: bool) -> None:
    """Print the casualty and troop figures found in TEXT (or stdin), one JSON object per figure.

    \b
    Examples:
      monitor figures "Some 15,000 soldiers were deployed; 600 were killed."
      monitor figures --jsonl < texts.jsonl > figures.jsonl
    """
    from monitor import figures

    if jsonl:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                item_id, item_text = item["id"], item["text"]
            except (ValueError, KeyError, TypeError):
                raise MonitorError(f'stdin line {n}: expected {{"id": …, "text": …}}; fix that line.') from None
            found = [f.to_dict() for f in figures.find(str(item_text))]
            click.echo(json.dumps({"id": item_id, "figures": found}, ensure_ascii=False))
        return
    if text is None:
        text = sys.stdin.read()
    for f in figures.find(text):
        click.echo(json.dumps(f.to_dict(), ensure_ascii=False))


def write_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: Any = None) -> None:
    """Rows as an aligned text table, CSV or JSON (a list of objects)."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=_json_default,
                             ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        w.writerows([[_cell(v) for v in r] for r in rows])
    else:
        out.write(format_table(columns, rows) + "\n")


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    cells = [[_cell(v, max_width) for v in r] for r in rows]
    widths = [len(c) for c in columns]
    for r in cells:
        for i, v in enumerate(r):
            widths[i] = max(widths[i], len(v))
    buf = io.StringIO()
    buf.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    buf.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        buf.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    buf.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return buf.getvalue()


def _cell(value: Any, max_width: int | None = None) -> str:
    if value is None:
        text = ""
    elif isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S%z")
    elif isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, default=_json_default, ensure_ascii=False)
    else:
        text = str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if max_width and len(text) > max_width:
        text = text[: max_width - 1] + "…"
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)
