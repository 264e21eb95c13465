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
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor import config as config_mod
from monitor.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor import runs


def _process_age() -> float:
    """Seconds since this process started (Linux: /proc), so the interpreter's own start-up is counted."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))


STARTED = time.monotonic() - _process_age()  # the command's start: what a summary's "in N s" counts from

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER = 2  # the user must act: config, arguments, input
EXIT_FAILED = 1  # the work failed: every feed down, database unusable
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT
CELL_WIDTH = 60  # a table cell on a terminal, unless --wide: a URL or quote would wrap the table apart


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
            if threading.active_count() > 1:
                # Cut off mid-start, threads may be left (Prefect's API in SQLAlchemy's greenlet, C++): Python's
                # shutdown ends them where they stand and can abort the process ("FATAL: exception not
                # rethrown") or crash it. What needed stopping is stopped: exit without that shutdown.
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_INTERRUPTED)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as e:
            if type(e).__module__ not in ("duckdb", "_duckdb"):
                raise
            from monitor import store  # loaded already: a DuckDB error came through it

            if not store.is_damage(e):
                raise
            click.echo(f"error: {store.damaged(_database(), e)}", err=True)
            sys.exit(EXIT_USER)

    return wrapper  # type: ignore[return-value]


def _database() -> str:
    """The database the current command uses, as far as it can be told (for an error message)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.params.get("db_path"):
        return str(ctx.params["db_path"])
    if ctx is not None and _root_obj(ctx).get("db"):  # given before the command
        return str(_root_obj(ctx)["db"])
    try:
        obj = ctx.find_root().obj or {} if ctx is not None else {}
        return str(config_mod.load(config_mod.resolve_path(obj.get("config"), os.environ)).database)
    except MonitorError:
        return "the database"


def _root_obj(ctx: click.Context) -> dict[str, Any]:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    obj: dict[str, Any] = root.obj
    return obj


def _set_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:  # given after the command: it wins over one given before it
        _root_obj(ctx)["config"] = value


def _db_or_root(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        return value
    given: Path | None = _root_obj(ctx).get("db")  # `monitor --db FILE sql …`: given before the command
    return given


# `-c FILE` is accepted before the command (`monitor -c my.toml run`) and after it (`monitor run -c my.toml`):
# people type both. So is `--db FILE`, for the commands that read a database.
config_option = click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    expose_value=False,
    callback=_set_config,
    is_eager=True,
    help="Config file (default: $MONITOR_CONFIG, else ./monitor.toml).",
)
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_db_or_root,
    help="Database file (default: `database` from the config; with --db no config is needed).",
)
format_option = click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
wide_option = click.option(
    "-w",
    "--wide",
    is_flag=True,
    help="Show whole values in the table (on a terminal long values are cut at "
    f"{CELL_WIDTH} characters; piped or redirected output always has them whole).",
)


def load_config(ctx: click.Context) -> config_mod.Config:
    path = config_mod.resolve_path(_root_obj(ctx).get("config"), os.environ)
    cfg = config_mod.load(path)
    for warning in cfg.warnings:
        click.echo(f"warning: {warning}", err=True)
    return cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (default: $MONITOR_CONFIG, else ./monitor.toml); also accepted after the command.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database file, for the commands that read one (sql, query, report, status, alerts preview); "
    "also accepted after the command.",
)
@click.version_option(package_name="news-monitor", prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_path: Path | None) -> None:
    """news-monitor: poll news feeds, extract articles, find casualty and troop figures, keep them in DuckDB.

    \b
    Examples:
      monitor run                      one polling cycle with ./monitor.toml
      monitor sql "SELECT * FROM figures LIMIT 5"
      monitor figures "At least 12 soldiers were killed."
    """
    ctx.obj = {"config": config_path, "db": db_path}
    if db_path is not None and ctx.invoked_subcommand is not None:
        command = main.get_command(ctx, ctx.invoked_subcommand)
        if (
            command is not None
            and not isinstance(command, click.Group)
            and not any(p.name == "db_path" for p in command.params)
        ):
            raise click.UsageError(
                f"`monitor {ctx.invoked_subcommand}` takes no --db: it uses `database` from the config file (-c FILE)."
            )


@main.command()
@config_option
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing but errors: no progress, no summary; failed feeds as `failed: URL: reason`.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show Prefect's and the pipeline's log lines (progress as plain lines, not a bar).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 also when no feed could be polled (each one failing or backing off), not only when "
    "every feed failed: for cron, so a monitor that watches nothing is noticed.",
)
@click.pass_context
@handle_errors
def run(ctx: click.Context, quiet: bool, verbose: bool, as_json: bool, strict: bool) -> None:
    """Run one polling cycle now (the Prefect flow, no server to set up) and print a summary.

    Progress goes to stderr: a bar with counts on a terminal, timestamped lines otherwise (cron, workers).

    \b
    Example:
      monitor -c monitor.toml run
      monitor run --json -q > summary.json
      monitor run -q --strict          in a crontab: quiet, exit 1 when no feed could be polled
    """
    from monitor import memory

    # first, before any thread (DuckDB's, Prefect's, the fetch threads) makes glibc create its own heap, and
    # for the processes started later (the temporary API, the forkserver)
    memory.limit_arenas(os.environ)
    memory.skip_collection_at_exit()
    cfg = load_config(ctx)
    from monitor import progress  # light: the first line is out before Prefect, DuckDB and the rest load

    if quiet:  # "nothing but errors" covers Prefect's own warnings too; a value the user set still wins
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    # progress on stderr, so `--json` output on stdout stays clean: a bar on a terminal, log lines otherwise
    try:
        with progress.display(sys.stderr, quiet=quiet, verbose=verbose):
            progress.note(
                f"polling {len(cfg.feeds)} feed{'s' if len(cfg.feeds) != 1 else ''} of {cfg.path} into {cfg.database}"
            )
            try:
                data = run_cycle(cfg, verbose=verbose)
            finally:
                stop_temporary_api()
    except Exception as e:  # the run's row says failed, with the reason; here it is one line, and JSON for scripts
        flows = sys.modules.get("flows")
        if flows is not None and flows.ctrl_c_seen():
            raise KeyboardInterrupt from None  # DuckDB answers a SIGINT with "Query interrupted": it is Ctrl-C
        from monitor import store

        error: Exception = store.damaged(cfg.database, e) if store.is_damage(e) else e
        if as_json:
            click.echo(json.dumps({"status": "failed", "error": str(error)}, indent=2))
        if isinstance(error, MonitorError):
            raise error from None
        click.echo(f"error: run failed: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_FAILED)
    from monitor import runs

    summary = timed(runs.from_dict(data))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), default=str, indent=2))
    elif not quiet:
        click.echo(summary.text())
    if quiet and not as_json:  # -q prints nothing but errors, and a feed that failed is one
        for line in ([summary.headline] if summary.headline else []) + summary.failure_lines():
            click.echo(line, err=True)
    if summary.status == "failed" or (strict and summary.polled_none):
        sys.exit(EXIT_FAILED)


def timed(summary: runs.Summary, since: float | None = None) -> runs.Summary:
    """The summary with the time the user waited (from `since`, default the command's start), and the
    part of it that was not the cycle: starting Prefect (its local API, imports) and stopping."""
    summary.waited_seconds = time.monotonic() - (STARTED if since is None else since)
    summary.startup_seconds = max(0.0, summary.waited_seconds - summary.seconds)
    return summary


def stop_temporary_api() -> None:
    """Stop the temporary Prefect API the command's cycles ran on, if they started one: once its services have
    stored what the flow runs sent. Once per command: the API serves every cycle of its process."""
    serve = sys.modules.get("flows.serve")
    if serve is not None:
        serve.stop_temporary_api()


def run_cycle(cfg: config_mod.Config, *, verbose: bool = False) -> dict[str, Any]:
    """Run the polling flow for a loaded config and return its summary dict (status "skipped" when another
    run holds the database: the lock is taken before Prefect starts, so two first runs on a new data
    directory cannot both set up Prefect's database there)."""
    from monitor import runs, store

    with store.open_for_write(cfg.database):  # a database that cannot be opened: a clear error, not a crash
        pass
    try:
        with store.run_lock(cfg.database, for_own_run=True):
            return _run_cycle(cfg, verbose=verbose)
    except store.RunInProgress as e:
        summary = runs.Summary(store.new_run_id(), status="skipped", notes=[str(e)])
        summary.finish()
        return summary.to_dict()


def _run_cycle(cfg: config_mod.Config, *, verbose: bool = False) -> dict[str, Any]:
    import flows
    from monitor import progress

    flows.note_ctrl_c()  # from the start: a Ctrl-C while Prefect starts is an interruption too, whatever it breaks
    flows.prepare_environment(cfg.data_dir, verbose=verbose)
    from flows import serve

    api = None
    launched = time.monotonic()
    if cfg.scale.dask_address is None:
        # Prefect's temporary API starts now, on a thread, while the main thread imports Prefect's client
        home = Path(os.environ.get("PREFECT_HOME") or cfg.data_dir / "prefect").expanduser()
        first = not (home / "prefect.db").exists()  # a new Prefect home: its database is created and migrated
        api = serve.temporary_api(cfg.data_dir)
        if api is not None and not api.healthy:  # not when an earlier cycle of this process started it
            progress.note(
                "starting Prefect's local API (" + ("the first time here: about 8 s" if first else "about 2 s") + ") …"
            )
        elif api is None:
            progress.note(f"using the Prefect API at {os.environ.get(serve.ENV_API_URL)} …")
    from monitor import articles, headstart, memory

    interrupted = False
    try:
        if cfg.scale.dask_address is not None:
            # Dask workers need a real Prefect API to report to: without PREFECT_API_URL, a local server for the run
            with serve.prefect_api(cfg.data_dir, ui=False, say=lambda m: click.echo(m, err=True)):
                from flows import poll

                return poll.run(str(cfg.path))
        # The extraction processes start with the API, while this process imports Prefect: three processes
        # starting on 2 cores, none waiting for another (their forkserver's warm-up, ~2.5 s of CPU, used to
        # begin after the imports and end after the API; N = 200, end to end: 7 of 8 pairs faster this way).
        articles.prestart(cfg.fetch.workers)
        # The cycle's first steps that need no Prefect start too: feeds polled, new entries chosen, the first
        # pages fetched and queued for extraction. Here, on the main thread: Prefect's imports below then run
        # while the pages are fetched and extracted, and a Ctrl-C lands where it always does.
        headstart.begin(cfg, budget_from=time.monotonic(), ctrl_c_seen=flows.ctrl_c_seen)
        with memory.long_lived():  # Prefect's ~1,300 modules, kept for the process's life
            from flows import poll

        starting = api is not None and not api.healthy
        with serve.use_api(api) as url:
            if not verbose:  # after the API's start, which sets Prefect's logging up again
                flows.one_line_logs()
            if url is not None and starting:
                progress.note(f"Prefect's local API ready after {time.monotonic() - launched:.1f} s")
            return poll.run(str(cfg.path))
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        # prestarted for nothing when few pages were new (or none could be stored): stopped once started, not
        # left starting as the command exits (a multiprocessing FileNotFoundError traceback, issue 16)
        headstart.discard(interrupted=interrupted)  # begun for a cycle that never took it (Prefect failed, Ctrl-C)
        articles.stop_prestarted(interrupted=interrupted)


@main.command()
@config_option
@click.argument("query", required=False)
@format_option
@wide_option
@db_option
@click.pass_context
@handle_errors
def sql(ctx: click.Context, query: str | None, fmt: str, wide: bool, db_path: Path | None) -> None:
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
    write_rows(columns, rows, fmt, wide=wide)


@main.command("figures")
@click.argument("text", required=False)
@click.option(
    "--jsonl",
    is_flag=True,
    help='Batch mode: read lines {"id": …, "text": …, "lang": …?} on stdin, write {"id": …, "figures": […]}.',
)
@click.option(
    "--lang",
    "language",
    metavar="CODE",
    help="The texts' language (ISO 639-1: en, ru, uk, ko, ja, …); default: a line's \"lang\", else "
    "detected from the text.",
)
@handle_errors
def figures_cmd(text: str | None, jsonl: bool, language: str | None) -> None:
    """Print the casualty and troop figures found in TEXT (or stdin), one JSON object per figure.

    Figures are found in English, German, Spanish, French, Italian, Portuguese, Czech, Polish, Russian,
    Ukrainian, Korean and Japanese. A text in another language yields none, and says so once on stderr.

    \b
    Examples:
      monitor figures "Some 15,000 soldiers were deployed; 600 were killed."
      monitor figures --lang ru "Около 600 военнослужащих погибли."
      monitor figures --jsonl < texts.jsonl > figures.jsonl
    """
    from monitor import figures

    if language is not None and figures.language.declared(language) is None:
        raise MonitorError(f"--lang {language!r}: expected a language code such as en, ru or ko.")
    told: set[str] = set()

    def find(item_text: str, item_lang: str | None) -> list[dict[str, object]]:
        code = figures.language.declared(item_lang or language) or figures.detect(item_text)[0]
        if not figures.supported(code):
            if code not in told:
                told.add(code)
                click.echo(
                    f"monitor figures: no figures are found in language {code!r} (supported: "
                    f"{', '.join(figures.SUPPORTED)}); its texts yield none. Pass --lang if the "
                    "language was detected wrongly.",
                    err=True,
                )
            return []
        return [f.to_dict() for f in figures.find(item_text, code)]

    if jsonl:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                item_id, item_text = item["id"], item["text"]
                item_lang = item.get("lang") or item.get("language")
            except (ValueError, KeyError, TypeError, AttributeError):
                raise MonitorError(f'stdin line {n}: expected {{"id": …, "text": …}}; fix that line.') from None
            found = find(str(item_text), str(item_lang) if item_lang else None)
            click.echo(json.dumps({"id": item_id, "figures": found}, ensure_ascii=False))
        return
    if text is None:
        text = sys.stdin.read()
    for f in find(text, None):
        click.echo(json.dumps(f, ensure_ascii=False))


def write_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: Any = None, wide: bool = False
) -> None:
    """Rows as an aligned text table, CSV or JSON (a list of objects)."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(
            json.dumps(
                [dict(zip(columns, r, strict=True)) for r in rows], default=_json_default, ensure_ascii=False, indent=1
            )
            + "\n"
        )
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        w.writerows([[_cell(v) for v in r] for r in rows])
    else:
        out.write(format_table(columns, rows, cell_width(wide, out)) + "\n")


def cell_width(wide: bool = False, out: Any = None) -> int | None:
    """Cells are cut to fit a terminal; into a file or a pipe (or with --wide) every value goes whole."""
    stream = out or sys.stdout
    return None if wide or not (hasattr(stream, "isatty") and stream.isatty()) else CELL_WIDTH


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int | None = CELL_WIDTH) -> str:
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


# --- alerts commands ---


@main.group("alerts")
@config_option
def alerts_group() -> None:
    """Digests of new figures by e-mail and to channels: check the settings, preview what the next run sends.

    \b
    Examples:
      monitor alerts test              send a test message to the recipients and every channel
      monitor alerts preview           print the digests waiting to be sent
    """


@alerts_group.command("test")
@config_option
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Send to this address instead of the configured recipients (repeatable).",
)
@click.pass_context
@handle_errors
def alerts_test(ctx: click.Context, to: tuple[str, ...]) -> None:
    """Send a test message through the [email] settings and to every [[alerts.channels]] entry, to check them.

    Exits 2 with what to check when a server or channel cannot be reached, does not answer, or refuses.

    \b
    Examples:
      MONITOR_SMTP_PASSWORD=secret monitor alerts test --to me@example.org
      HOOK_TOKEN=… monitor alerts test     a channel url = "json://host/hook?token=${HOOK_TOKEN}"
    """
    from monitor import alerts

    cfg = load_config(ctx)
    checks = alerts.test_all(cfg, to)
    for c in checks:
        if c.sent is not None:
            click.echo(c.sent)
    for c in checks:
        if c.error is not None:
            click.echo(f"error: {c.error}", err=True)
    if any(c.error is not None for c in checks):
        sys.exit(EXIT_USER)


@alerts_group.command("preview")
@config_option
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Print each digest's HTML part instead of its text, its charts embedded (data: URIs).",
)
@click.option("--raw", is_flag=True, help="Print each digest as the full MIME message that would be sent.")
@db_option
@click.pass_context
@handle_errors
def alerts_preview(ctx: click.Context, as_html: bool, raw: bool, db_path: Path | None) -> None:
    """Print the digests waiting to be sent (the pending outbox: e-mails and channel messages), sending nothing.

    \b
    Examples:
      monitor alerts preview
      monitor alerts preview --raw | less
      monitor alerts preview --html > digest.html   the page as the mail shows it, charts included
    """
    from email import policy

    from monitor import alerts, charts, digest, mail

    cfg = load_config(ctx)
    database = db_path or cfg.database
    digests = alerts.pending(database)
    if not digests:
        if cfg.email is None and not cfg.channels:
            click.echo(
                f"no digests pending, and none will be: {cfg.path} has no [email] table and no "
                "[[alerts.channels]], so nothing is sent. Add one (see docs/alerts.md) to get new figures "
                "by e-mail or in a chat; `monitor query new_figures_since -p since=7d` lists them meanwhile."
            )
        else:
            ways = ["mailed"] if cfg.email is not None else []
            ways += (
                [f"sent to {len(cfg.channels)} channel{'s' if len(cfg.channels) != 1 else ''}"] if cfg.channels else []
            )
            click.echo(f"no digests pending: the new figures of the next run are {' and '.join(ways)} right after it.")
        return
    click.echo(f"{len(digests)} digest{'s' if len(digests) != 1 else ''} pending\n")
    drawn = charts.for_digest(database)  # the charts the run's mail would carry, drawn the same way
    for d in digests:
        if d.transport == "apprise":  # a channel gets the text, titled with the subject, whatever the option
            click.echo(f"To: channel {d.recipient}\nTitle: {d.subject}\nAlert: {d.alert_id}\n\n{digest.render_text(d)}")
            continue
        if raw:
            msg = mail.build(d, alerts.require_email(cfg), drawn(d))
            click.echo(msg.as_string(policy=policy.SMTP.clone(linesep="\n")))
            continue
        body = digest.render_html(d, drawn(d), embed=True) if as_html else digest.render_text(d)
        click.echo(f"To: {d.recipient}\nSubject: {d.subject}\nMessage-ID: {d.message_id}\n\n{body}")


# --- report, status and demo commands ---


@main.command("report")
@config_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (default: report.html in the data directory, beside the database). "
    "Its directory must exist.",
)
@click.option("--topic", metavar="NAME", help="Only this topic (default: every topic).")
@click.option(
    "--since",
    metavar="DATE",
    help="List new figures decided since DATE (YYYY-MM-DD or an ISO "
    "time, UTC; yesterday, 7d, 2w; default: the last 7 days).",
)
@click.option(
    "--png",
    "png_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also write every chart as a PNG file into DIR.",
)
@db_option
@click.pass_context
@handle_errors
def report_cmd(
    ctx: click.Context,
    output: Path | None,
    topic: str | None,
    since: str | None,
    png_dir: Path | None,
    db_path: Path | None,
) -> None:
    """Write one self-contained HTML report: per topic the latest figures with previous value and change,
    the new figures of the period with quote and link, charts of every series over time, and article volume.

    The file works offline (no scripts, fonts or CDN) and can be mailed or archived as it is.

    \b
    Examples:
      monitor report                   writes data/report.html (the data directory) and prints its path
      monitor report -o report.html
      monitor report --topic "North Korean troops in Russia" --since 2025-01-01 --png charts/
      monitor report --db monitor-demo/monitor.duckdb -o demo.html
    """
    topics: list[str] = []
    if db_path is None:
        cfg = load_config(ctx)
        db_path, topics = cfg.database, [t.name for t in cfg.topics]
    when = _parse_since(since)
    # a line at once on stderr (stdout keeps the one line scripts read): drawing the charts takes seconds
    click.echo(f"reading {db_path} and drawing the charts …", err=True)
    from monitor import report

    # beside the database by default, not wherever the command happens to run
    output = output or db_path.parent / report.DEFAULT_NAME
    page = report.write(db_path, output, topics=topics, only=topic, since=when, png_dir=png_dir)
    click.echo(
        f"wrote {output} ({len(page.topics)} topic{'s' if len(page.topics) != 1 else ''}, "
        f"{len(page.charts)} chart{'s' if len(page.charts) != 1 else ''})"
        + (f"; PNG charts in {png_dir}" if png_dir is not None else "")
    )


def _parse_since(value: str | None) -> dt.datetime | None:
    from monitor import query

    if value is None:
        return None
    try:
        return query.parse_when(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; {query.WHEN_HELP}", param_hint="--since") from None


@main.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON, for scripts.")
@click.option(
    "-n",
    "--runs",
    "n_runs",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many recent runs to show.",
)
@db_option
@click.pass_context
@handle_errors
def status_cmd(ctx: click.Context, as_json: bool, n_runs: int, db_path: Path | None) -> None:
    """Show the monitor's health: the last runs (time, duration, counts, errors), each feed's health (last
    success, consecutive failures, median latency, items per day) and the alerts waiting to be sent.

    \b
    Examples:
      monitor status
      monitor status --json | jq '.feeds[] | select(.health != "ok")'
    """
    from monitor import status

    configured = None
    if db_path is None:
        cfg = load_config(ctx)
        db_path, configured = cfg.database, [f.url for f in cfg.feeds]
    info = status.collect(db_path, configured=configured, runs=n_runs)
    if as_json:
        click.echo(json.dumps(info.to_dict(), default=_json_default, ensure_ascii=False, indent=1))
        return
    click.echo(_status_text(info))


def _status_text(info: Any) -> str:
    from monitor.status import HEALTH_WINDOW, when_text

    out = [f"database: {info.database} (schema {info.schema_version}), checked {when_text(info.checked_at)} UTC", ""]
    if info.runs:
        out.append(f"last {len(info.runs)} run{'s' if len(info.runs) != 1 else ''}:")
        rows: list[tuple[object, ...]] = []
        for r in info.runs:
            errors = "; ".join(e.get("feed_url", "") or e.get("error", "") for e in r.errors[:2])
            if len(r.errors) > 2:
                errors += f" (+{len(r.errors) - 2} more)"
            rows.append(
                (
                    when_text(r.started_at),
                    f"{r.seconds:.1f}s" if r.seconds is not None else "",
                    r.status,
                    f"{r.feeds_ok}/{r.feeds_total}",
                    r.new_articles,
                    r.figures,
                    r.new_figures,
                    r.revisions,
                    f"{r.alerts_sent}/{r.alerts_pending}",
                    errors,
                )
            )
        out.append(
            format_table(
                [
                    "started (UTC)",
                    "took",
                    "status",
                    "feeds ok",
                    "articles",
                    "figures",
                    "new",
                    "revised",
                    "alerts sent/pending",
                    "failed feeds",
                ],
                rows,
                cell_width(),
            )
        )
    else:
        out.append("no runs yet: `monitor run` starts the first.")
    out.append("")
    if info.feeds:
        out.append(f"feeds (median latency and items per day over the last {HEALTH_WINDOW.days} days):")
        rows = [
            (
                f.name or f.url,
                f"backing off until {when_text(f.backoff_until)}"
                if f.health == "backing off" and f.backoff_until is not None
                else f.health,
                when_text(f.last_success_at),
                f.consecutive_failures,
                f"{f.median_latency_ms:,.0f} ms" if f.median_latency_ms is not None else "",
                f"{f.items_per_day:g}" if f.items_per_day is not None else "",
                f.last_error or "",
            )
            for f in info.feeds
        ]
        out.append(
            format_table(
                ["feed", "health", "last success", "failures", "median latency", "items/day", "last error"],
                rows,
                cell_width(),
            )
        )
    else:
        out.append("no feeds yet: add [[feeds]] to monitor.toml and run `monitor run`.")
    out.append("")
    a = info.alerts
    if a is None:
        out.append("alerts: this database has no alert outbox yet")
    else:
        line = f"alerts: {a.pending} pending, {a.failed} failed"
        if a.oldest_pending is not None:
            line += f"; oldest pending since {when_text(a.oldest_pending)} UTC (the next run sends them)"
        if a.failed:
            line += "; see `monitor sql \"SELECT * FROM alerts WHERE status = 'failed'\"`"
        out.append(line)
    return "\n".join(out)


@main.command("demo")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("monitor-demo"))
@handle_errors
def demo_cmd(directory: Path) -> None:
    """See news-monitor work in a minute, offline: a small sample world of three invented outlets telling a
    dated story (North Korean troops in Russia, with revised figures) is served on 127.0.0.1 and polled by
    the real pipeline in three cycles into DIRECTORY (default ./monitor-demo). Prints the new figures of each
    cycle and the e-mail digest it would send, and writes DIRECTORY/report.html.

    No network, no configuration and no mail server needed; DIRECTORY keeps the demo's monitor.toml,
    database and report afterwards, for `monitor sql` and friends.

    \b
    Examples:
      monitor demo
      monitor demo /tmp/demo && monitor -c /tmp/demo/monitor.toml sql "SELECT * FROM new_figures"
    """
    from monitor import demo, progress, report, runs

    def one_cycle(config_path: Path, cycle: int) -> dict[str, Any]:
        cfg = config_mod.load(config_path)
        began = time.monotonic()
        with progress.display(sys.stderr):  # what the cycle is doing, on stderr, as `monitor run` shows it
            data = run_cycle(cfg)
        summary = timed(runs.from_dict(data), began)
        click.echo(summary.text())
        if summary.new_figure_rows:
            rows = [
                (r["topic"], r["category"], r["value"], r["kind"], r["previous"], r["claimant"] or "", r["article_url"])
                for r in summary.new_figure_rows
            ]
            click.echo(
                format_table(
                    ["topic", "category", "value", "kind", "previous", "claimant", "article"], rows, cell_width()
                )
            )
        return summary.to_dict()

    started = dt.datetime.now(dt.UTC)
    try:
        result = demo.run(directory, one_cycle, click.echo)
    finally:
        stop_temporary_api()
    click.echo(
        "\n== the digest the last cycle would e-mail (the demo has no mail server; see docs/alerts.md to set one up)\n"
    )
    click.echo(result.digest_text or "(no new figures in the last cycle, so no digest)")
    out = directory / demo.REPORT_NAME
    report.write(result.database, out, topics=[result.story.topic], since=started)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    click.echo(
        f"\n== done in {seconds:.0f}s\nreport:   {out}  (open it in a browser)\n"
        f"database: {result.database}\n"
        f'try:      monitor -c {directory / demo.CONFIG_NAME} sql "SELECT * FROM new_figures"'
    )


# --- history and queries commands ---


@main.command("query")
@config_option
@click.argument("name", required=False)
@click.option("--list", "list_only", is_flag=True, help="List the named queries with what each answers.")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A value for one of the query's $params (repeatable).",
)
@format_option
@wide_option
@db_option
@click.pass_context
@handle_errors
def query_cmd(
    ctx: click.Context,
    name: str | None,
    list_only: bool,
    params: tuple[str, ...],
    fmt: str,
    wide: bool,
    db_path: Path | None,
) -> None:
    """Run a named query from queries/ (read-only, like `monitor sql`); without NAME, list them.

    \b
    Examples:
      monitor query --list
      monitor query latest_figures
      monitor query new_figures_since --param since=2024-11-01 -f csv > new.csv
      monitor query topic_timeline -p "topic=North Korean troops in Russia"
    """
    from monitor import query as query_mod

    if list_only or name is None:
        found = query_mod.named_queries()
        width = max(len(q.name) for q in found)
        for q in found:
            click.echo(f"{q.name.ljust(width)}  {q.description}")
            for p in q.params:
                need = "required" if p.required else f"default: {p.default}" if p.default else "optional"
                click.echo(f"{'':{width}}    --param {p.name}=…  {p.description} ({need})")
        return
    named = query_mod.named_query(name)  # an unknown name fails before the config is read
    values = query_mod.parse_params(params)
    query_mod.check_values(named, named.bind(values))  # so does a value of the wrong type
    topics: list[str] = []
    if db_path is None:
        cfg = load_config(ctx)
        db_path, topics = cfg.database, [t.name for t in cfg.topics]
    columns, rows = query_mod.run_named(db_path, named.name, values, topics=topics)
    write_rows(columns, rows, fmt, wide=wide)


@main.command("reprocess")
@config_option
@click.option(
    "--topic",
    "topic_name",
    metavar="NAME",
    help="Only this topic's matches and history (after changing its query); figures are kept.",
)
@click.pass_context
@handle_errors
def reprocess_cmd(ctx: click.Context, topic_name: str | None) -> None:
    """Recompute topic matches and figures of stored articles, then the figure history. Fetches nothing.

    Use it after upgrading the figure extractor or changing topics. New and revised figures are decided
    again in the order the runs first saw them; no alert is sent. Scheduled runs skip while it works.

    \b
    Examples:
      monitor reprocess
      monitor reprocess --topic "North Korean troops in Russia"
    """
    import time

    from monitor import reprocess

    cfg = load_config(ctx)
    topic = cfg.topic(topic_name).name if topic_name else None
    last = [0.0]

    def progress(message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0:  # a line a second at most, on stderr: stdout keeps the summary
            last[0] = now
            click.echo(f"reprocess: {message}", err=True)

    result = reprocess.run(
        cfg.database,
        [(t.name, t.query) for t in cfg.topics],
        topic=topic,
        workers=cfg.fetch.workers,
        progress=progress,
        subjects={t.name: t.subject for t in cfg.topics},
    )
    click.echo(result.text())


# --- scheduling commands ---


@main.command("serve")
@config_option
@click.option(
    "--name",
    default="serve",
    show_default=True,
    metavar="NAME",
    help="Deployment name; give each config its own when several share one Prefect server. A "
    "deployment of that name not created by `monitor serve` (prefect.yaml's `poll`) is refused.",
)
@click.option("--no-ui", is_flag=True, help="Do not serve Prefect's web UI from the local server.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors from Prefect and the pipeline.")
@click.pass_context
@handle_errors
def serve_cmd(ctx: click.Context, name: str, no_ui: bool, quiet: bool) -> None:
    """Poll on the config's [schedule] until stopped (Ctrl-C or SIGTERM): a Prefect deployment, served.

    Without PREFECT_API_URL, a local Prefect server is started first (on 127.0.0.1, its state under the
    data directory, its UI at the address printed) and stopped on exit. With PREFECT_API_URL set, that
    server is used. Runs never overlap: one that falls due while another is going waits for it.

    \b
    Examples:
      monitor -c monitor.toml serve
      PREFECT_API_URL=http://127.0.0.1:4200/api monitor serve --name newsroom
    """
    import flows
    from monitor import memory

    cfg = load_config(ctx)
    memory.limit_arenas(os.environ)  # a long-lived process: cycle after cycle of pages through its threads
    # at once: a Prefect server takes 10-30 s to start, and the first run waits for its time on the schedule
    click.echo(
        f"monitor serve: {len(cfg.feeds)} feed{'s' if len(cfg.feeds) != 1 else ''} of {cfg.path}; starting …", err=True
    )
    flows.prepare_environment(cfg.data_dir, verbose=not quiet)
    from flows import serve

    serve.serve(cfg, name=name, ui=not no_ui, say=lambda message: click.echo(message, err=True))
