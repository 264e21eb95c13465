"""Configuration: read and check `monitor.toml` once, hand typed values to every stage."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import fetch, history, topics
from monitor.errors import ConfigError

DEFAULT_PATH = "monitor.toml"
ENV_CONFIG = "MONITOR_CONFIG"
ENV_SMTP_PASSWORD = "MONITOR_SMTP_PASSWORD"

DEFAULT_DATABASE = "data/monitor.duckdb"
DEFAULT_CRON = "*/15 * * * *"
MAX_ITEMS_PER_FEED = 500  # a 100,000-item feed must not become 100,000 fetches in one run
FEED_CONCURRENCY = 16
PER_HOST_CONCURRENCY = 4
BATCH_SIZE = 500  # articles fetched, extracted and written per batch: two Prefect task runs each
# Seconds a cycle may spend fetching article pages, from its start: a 15-minute schedule keeps 5 minutes for
# the rest and for slack. Pages not fetched in time are left for the next cycle, never a failed run.
CYCLE_BUDGET = 10 * 60.0
# Seconds one host's pages may take in a cycle, from its first page: one slow site cannot use the whole cycle.
HOST_BUDGET = 5 * 60.0
# CPU seconds one page's extraction may take: trafilatura needs ~0.05 s for a news page, 15 s for a 5 MiB
# page of tables; a page over it is skipped with its reason (the feed's summary is kept).
PAGE_CPU_BUDGET = 10.0
SMTP_TIMEOUT = 30.0
CHANNEL_MAX_FIGURES = 20  # per channel message: a chat message is read on a phone
Security = Literal["none", "starttls", "tls"]
SECURITY_MODES: tuple[Security, ...] = ("none", "starttls", "tls")


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TopicConfig:
    name: str
    query: str
    recipients: tuple[str, ...] | None = None  # overrides [email] recipients for this topic's alerts
    subject: str | None = None  # the force the topic is about ("North Korean"): its own force in the history


@dataclass(frozen=True, slots=True)
class Schedule:
    cron: str | None = DEFAULT_CRON
    interval: float | None = None  # seconds; used instead of cron when set
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    allow_networks: tuple[str, ...] = ()
    feed_max_bytes: int = fetch.FEED_MAX_BYTES
    article_max_bytes: int = fetch.ARTICLE_MAX_BYTES
    max_items_per_feed: int = MAX_ITEMS_PER_FEED
    concurrency: int = FEED_CONCURRENCY
    per_host: int = PER_HOST_CONCURRENCY
    connect_timeout: float = fetch.CONNECT_TIMEOUT
    read_timeout: float = fetch.READ_TIMEOUT
    deadline: float = fetch.DEADLINE
    user_agent: str = fetch.USER_AGENT
    batch_size: int = BATCH_SIZE
    workers: int = 0  # extraction processes; 0 = one per core
    cycle_budget: float = CYCLE_BUDGET
    host_budget: float = HOST_BUDGET
    page_cpu_budget: float = PAGE_CPU_BUDGET

    @property
    def limits(self) -> fetch.Limits:
        return fetch.Limits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            deadline=self.deadline,
            user_agent=self.user_agent,
        )


@dataclass(frozen=True, slots=True)
class EmailConfig:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    security: Security = "none"
    sender: str = "monitor@localhost"
    recipients: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # only ever from $MONITOR_SMTP_PASSWORD
    timeout: float = SMTP_TIMEOUT
    max_figures: int = 50  # per digest; the rest is summarised with a pointer to `monitor query`
    send_history: bool = False  # first run mails the whole history instead of establishing a baseline
    ca_file: str | None = None  # PEM file of CAs to trust for TLS instead of the system's (an internal relay)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """An alert channel ([[alerts.channels]]): an Apprise URL, kept as written; its ${VARIABLES} (secrets)
    are read from the environment only when a message is sent (monitor.channels)."""

    name: str
    url: str  # with ${VARIABLE} references unexpanded
    topics: tuple[str, ...] | None = None  # the topics it is told about; None: every topic
    max_figures: int = CHANNEL_MAX_FIGURES


@dataclass(frozen=True, slots=True)
class ScaleConfig:
    dask_address: str | None = None  # "tcp://host:8786", or "local" for a local cluster
    dask_workers: int = 2


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    database: Path
    feeds: tuple[FeedConfig, ...] = ()
    topics: tuple[TopicConfig, ...] = ()
    schedule: Schedule = Schedule()
    fetch: FetchConfig = FetchConfig()
    email: EmailConfig | None = None
    scale: ScaleConfig = ScaleConfig()
    channels: tuple[ChannelConfig, ...] = ()
    warnings: tuple[str, ...] = ()  # settings that work but put something at risk: the CLI prints them

    @property
    def data_dir(self) -> Path:
        return self.database.parent

    def topic(self, name: str) -> TopicConfig:
        for t in self.topics:
            if t.name.casefold() == name.casefold():
                return t
        known = ", ".join(repr(t.name) for t in self.topics) or "none"
        raise ConfigError(f"{self.path}: no topic named {name!r} (topics: {known}). Check the name in [[topics]].")


def resolve_path(option: str | None, environ: Mapping[str, str]) -> Path:
    """The config file: -c/--config, else $MONITOR_CONFIG, else ./monitor.toml."""
    return Path(option or environ.get(ENV_CONFIG) or DEFAULT_PATH)


# Configs read in this process, by file identity and environment: the CLI, the flow runner and the flow each ask
# for the config of a run, and the file is parsed once (a changed file or environment is read again).
_loaded: dict[tuple[str, int, int, frozenset[tuple[str, str]]], Config] = {}


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, check and type the config file; every problem is a ConfigError naming key and file."""
    path = Path(path)
    env = os.environ if environ is None else environ
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, frozenset(env.items()))
    except OSError:
        key = None  # read below, which says what is wrong
    if key is not None and key in _loaded:
        return _loaded[key]
    cfg = _read(path, env)
    if key is not None:
        _loaded[key] = cfg
    return cfg


def _read(path: Path, env: Mapping[str, str]) -> Config:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found. Create it (see docs/configuration.md), "
            f"or point to one with -c FILE or ${ENV_CONFIG}."
        ) from None
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot read the config file ({e.strerror}). Check that it is a file this "
            f"user can read, or point to another with -c FILE or ${ENV_CONFIG}."
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text. Save it as UTF-8 (TOML must be).") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}. Fix the line it names.") from None
    return _Reader(path, env).config(data)


class _Reader:
    """Walks the TOML tree, checking each key's type; errors name the key path and file."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.base = path.resolve().parent

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {message}")

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(sorted(allowed))}."
                name = f"{where}.{key}" if where else key
                raise self.fail(name, f"unknown key.{hint}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        where: str,
        default: Any = None,
        expected: str = "",
    ) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in table:
            return default
        value = table[key]
        # bool is an int in Python; a TOML `true` where a number is expected is a mistake
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(name, f"expected {expected or _kind_name(kind)}, got {value!r}.")
        if not isinstance(value, kind):
            raise self.fail(name, f"expected {expected or _kind_name(kind)}, got {value!r}.")
        return value

    def positive(self, table: Mapping[str, Any], key: str, where: str, default: float, integer: bool = False) -> Any:
        kind: type | tuple[type, ...] = int if integer else (int, float)
        value = self.get(table, key, kind, where, default, "a positive number")
        if value <= 0:
            raise self.fail(f"{where}.{key}", f"expected a positive number, got {value!r}.")
        return value

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table [{key}], got {value!r}.")
        return value

    def config(self, data: Mapping[str, Any]) -> Config:
        self.check_keys(data, {"database", "schedule", "fetch", "feeds", "topics", "email", "scale", "alerts"}, "")
        database = self.get(data, "database", str, "", DEFAULT_DATABASE, "a file path string")
        if not database.strip():
            raise self.fail("database", "expected a file path, got an empty string.")
        db_path = Path(database).expanduser()
        if not db_path.is_absolute():
            db_path = self.base / db_path
        email = self.email(self.table(data, "email")) if "email" in data else None
        topic_list = self.topics(data.get("topics", []))
        return Config(
            path=self.path,
            database=db_path,
            feeds=self.feeds(data.get("feeds", [])),
            topics=topic_list,
            schedule=self.schedule(self.table(data, "schedule")),
            fetch=self.fetch(self.table(data, "fetch")),
            email=email,
            scale=self.scale(self.table(data, "scale")),
            channels=self.channels(self.table(data, "alerts"), topic_list),
            warnings=self.warnings(email),
        )

    def warnings(self, email: EmailConfig | None) -> tuple[str, ...]:
        out = []
        if email is not None and email.username and email.security == "none":
            out.append(
                f'{self.path}: [email] username is set with security = "none": the SMTP password goes to '
                f'{email.smtp_host}:{email.smtp_port} unencrypted. Set security = "starttls" (port 587) or '
                '"tls" (465); "none" is only safe for a relay on this machine.'
            )
        return tuple(out)

    def schedule(self, t: Mapping[str, Any]) -> Schedule:
        self.check_keys(t, {"cron", "interval", "timezone"}, "schedule")
        cron = self.get(t, "cron", str, "schedule", None, 'a cron string like "*/15 * * * *"')
        interval = None
        if "interval" in t:
            interval = float(self.positive(t, "interval", "schedule", 900))
        if cron is not None and interval is not None:
            raise self.fail("schedule", "set either cron or interval, not both.")
        if cron is not None:
            from datetime import datetime

            from cronsim import CronSim, CronSimError  # Prefect's own cron parser: same rules as the schedule

            try:
                CronSim(cron, datetime.now())
            except CronSimError as e:
                raise self.fail(
                    "schedule.cron",
                    f'not a valid cron expression {cron!r} ({e}); e.g. "*/15 * * * *" for every 15 minutes.',
                ) from None
        if cron is None and interval is None:
            cron = DEFAULT_CRON
        tz = self.get(t, "timezone", str, "schedule", "UTC", 'a time zone name like "Europe/Berlin"')
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                "schedule.timezone", f'unknown time zone {tz!r}; use an IANA name like "Europe/Berlin" or "UTC".'
            ) from None
        return Schedule(cron=cron, interval=interval, timezone=tz)

    def fetch(self, t: Mapping[str, Any]) -> FetchConfig:
        w = "fetch"
        allowed = {
            "allow_networks",
            "feed_max_bytes",
            "article_max_bytes",
            "max_items_per_feed",
            "concurrency",
            "per_host",
            "connect_timeout",
            "read_timeout",
            "deadline",
            "user_agent",
            "batch_size",
            "workers",
            "cycle_budget",
            "host_budget",
            "page_cpu_budget",
        }
        self.check_keys(t, allowed, w)
        nets = self.get(t, "allow_networks", list, w, [], 'a list of networks like ["127.0.0.0/8"]')
        for i, net in enumerate(nets):
            try:
                ipaddress.ip_network(net, strict=False)
            except (ValueError, TypeError):
                raise self.fail(
                    f"fetch.allow_networks[{i}]", f'expected a network like "127.0.0.0/8" or "::1/128", got {net!r}.'
                ) from None
        workers = self.get(t, "workers", int, w, 0, "a whole number (0 = one per core)")
        if workers < 0:
            raise self.fail("fetch.workers", f"expected 0 or more, got {workers}.")
        return FetchConfig(
            allow_networks=tuple(nets),
            feed_max_bytes=self.positive(t, "feed_max_bytes", w, fetch.FEED_MAX_BYTES, integer=True),
            article_max_bytes=self.positive(t, "article_max_bytes", w, fetch.ARTICLE_MAX_BYTES, integer=True),
            max_items_per_feed=self.positive(t, "max_items_per_feed", w, MAX_ITEMS_PER_FEED, integer=True),
            concurrency=self.positive(t, "concurrency", w, FEED_CONCURRENCY, integer=True),
            per_host=self.positive(t, "per_host", w, PER_HOST_CONCURRENCY, integer=True),
            connect_timeout=float(self.positive(t, "connect_timeout", w, fetch.CONNECT_TIMEOUT)),
            read_timeout=float(self.positive(t, "read_timeout", w, fetch.READ_TIMEOUT)),
            deadline=float(self.positive(t, "deadline", w, fetch.DEADLINE)),
            user_agent=self.get(t, "user_agent", str, w, fetch.USER_AGENT),
            batch_size=self.positive(t, "batch_size", w, BATCH_SIZE, integer=True),
            workers=workers,
            cycle_budget=float(self.positive(t, "cycle_budget", w, CYCLE_BUDGET)),
            host_budget=float(self.positive(t, "host_budget", w, HOST_BUDGET)),
            page_cpu_budget=float(self.positive(t, "page_cpu_budget", w, PAGE_CPU_BUDGET)),
        )

    def feeds(self, items: Any) -> tuple[FeedConfig, ...]:
        if not isinstance(items, list):
            raise self.fail("feeds", 'expected [[feeds]] entries, each with url = "https://…".')
        out: list[FeedConfig] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = f"feeds[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, 'expected a table with url = "https://…".')
            self.check_keys(item, {"url", "name"}, where)
            url = self.get(item, "url", str, where, None, "a URL string")
            if not url:
                raise self.fail(f"{where}.url", 'missing: each [[feeds]] needs url = "https://…".')
            try:
                url = fetch.check_url(url.strip())
            except Exception as e:
                raise self.fail(f"{where}.url", f"{e}") from None
            if url in seen:
                raise self.fail(f"{where}.url", f"{url} is listed twice; remove one.")
            seen.add(url)
            out.append(FeedConfig(url=url, name=self.get(item, "name", str, where)))
        return tuple(out)

    def topics(self, items: Any) -> tuple[TopicConfig, ...]:
        if not isinstance(items, list):
            raise self.fail("topics", "expected [[topics]] entries, each with name and query.")
        out: list[TopicConfig] = []
        names: set[str] = set()
        for i, item in enumerate(items):
            where = f"topics[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, "expected a table with name and query.")
            self.check_keys(item, {"name", "query", "recipients", "subject"}, where)
            name = self.get(item, "name", str, where, "", "a name string")
            query = self.get(item, "query", str, where, "", "a search string")
            if not name.strip():
                raise self.fail(f"{where}.name", "missing: each [[topics]] needs a name.")
            if name.casefold() in names:
                raise self.fail(f"{where}.name", f"topic {name!r} is defined twice.")
            names.add(name.casefold())
            if not query.strip():
                raise self.fail(f"{where}.query", "missing: each [[topics]] needs a query.")
            try:
                topics.parse(query)
            except topics.QuerySyntaxError as e:
                raise self.fail(f"{where}.query", f"{e}") from None
            recipients = None
            if "recipients" in item:
                recipients = tuple(self.addresses(item, "recipients", where))
            subject = None
            if "subject" in item:
                subject = self.get(item, "subject", str, where, "", 'a force like "North Korean"').strip()
                if history.subject_force(subject) is None:
                    forces = ", ".join(repr(f) for f, _ in history.groups().forces)
                    raise self.fail(
                        f"{where}.subject",
                        f"{subject!r} names no force the history knows "
                        f"(known: {forces}; lists in monitor/lexicon/history_groups.toml).",
                    )
            out.append(TopicConfig(name=name.strip(), query=query, recipients=recipients, subject=subject))
        return tuple(out)

    def addresses(self, t: Mapping[str, Any], key: str, where: str) -> list[str]:
        values = self.get(t, key, list, where, [], 'a list of addresses like ["analyst@example.org"]')
        for i, v in enumerate(values):
            if not isinstance(v, str) or "@" not in v or any(c in v for c in "\r\n<>,; "):
                raise self.fail(f"{where}.{key}[{i}]", f"expected an e-mail address, got {v!r}.")
        return [str(v) for v in values]

    def email(self, t: Mapping[str, Any]) -> EmailConfig:
        w = "email"
        allowed = {
            "smtp_host",
            "smtp_port",
            "security",
            "sender",
            "recipients",
            "username",
            "timeout",
            "max_figures",
            "send_history",
            "password",
            "ca_file",
        }
        self.check_keys(t, allowed, w)
        if "password" in t:
            raise self.fail(
                "email.password",
                f"secrets do not belong in the config file; remove it and set "
                f"${ENV_SMTP_PASSWORD} in the environment instead.",
            )
        security = self.get(t, "security", str, w, "none", "none, starttls or tls")
        if security not in SECURITY_MODES:
            raise self.fail("email.security", f"expected one of none, starttls, tls, got {security!r}.")
        port = self.get(t, "smtp_port", int, w, {"none": 25, "starttls": 587, "tls": 465}[security], "a port number")
        if not 0 < port < 65536:
            raise self.fail("email.smtp_port", f"expected a port number 1-65535, got {port}.")
        sender = self.get(t, "sender", str, w, "monitor@localhost", "an e-mail address")
        if "@" not in sender or any(c in sender for c in "\r\n"):
            raise self.fail("email.sender", f"expected an e-mail address, got {sender!r}.")
        username = self.get(t, "username", str, w)
        return EmailConfig(
            smtp_host=self.get(t, "smtp_host", str, w, "localhost", "a host name"),
            smtp_port=port,
            security=security,
            sender=sender,
            recipients=tuple(self.addresses(t, "recipients", w)),
            username=username,
            password=self.env.get(ENV_SMTP_PASSWORD) if username else None,
            timeout=float(self.positive(t, "timeout", w, SMTP_TIMEOUT)),
            max_figures=self.positive(t, "max_figures", w, 50, integer=True),
            send_history=self.get(t, "send_history", bool, w, False, "true or false"),
            ca_file=self.ca_file(t),
        )

    def ca_file(self, t: Mapping[str, Any]) -> str | None:
        value = self.get(t, "ca_file", str, "email", None, "a file path string")
        if value is None:
            return None
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.base / path
        if not path.is_file():
            raise self.fail(
                "email.ca_file",
                f"{path}: no such file. Give the PEM file of the CA that signed "
                "the mail server's certificate, or remove the key.",
            )
        return str(path)

    def channels(self, t: Mapping[str, Any], topic_list: tuple[TopicConfig, ...]) -> tuple[ChannelConfig, ...]:
        self.check_keys(t, {"channels"}, "alerts")
        items = t.get("channels", [])
        if not isinstance(items, list):
            raise self.fail("alerts.channels", 'expected [[alerts.channels]] entries, each with url = "…".')
        out: list[ChannelConfig] = []
        known = {tp.name.casefold(): tp.name for tp in topic_list}
        for i, item in enumerate(items):
            where = f"alerts.channels[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, 'expected a table with url = "…".')
            self.check_keys(item, {"url", "topics", "name", "max_figures"}, where)
            url = self.get(item, "url", str, where, "", 'an Apprise URL like "slack://…"').strip()
            scheme = url.partition("://")[0].lower() if "://" in url else ""
            if not scheme:
                raise self.fail(
                    f"{where}.url",
                    f'expected an Apprise URL like "ntfy://host/topic", got {url!r} (see docs/alerts.md#channels).',
                )
            if not _apprise_knows(scheme):
                raise self.fail(
                    f"{where}.url",
                    f"{scheme}:// is not a service Apprise knows. Check the URL "
                    "against https://github.com/caronc/apprise/wiki.",
                )
            bad = [v for v in _VARIABLE_REF.findall(url) if not _VARIABLE_NAME.fullmatch(v)]
            if bad:
                raise self.fail(
                    f"{where}.url",
                    f"${{{bad[0]}}} is not an environment variable name (letters, "
                    "digits and _, not starting with a digit).",
                )
            names = None
            if "topics" in item:
                values = self.get(item, "topics", list, where, [], 'a list of topic names like ["Floods"]')
                names = []
                for j, v in enumerate(values):
                    if not isinstance(v, str) or v.casefold() not in known:
                        have = ", ".join(repr(n) for n in known.values()) or "none"
                        raise self.fail(f"{where}.topics[{j}]", f"no topic named {v!r} (topics: {have}).")
                    names.append(known[v.casefold()])
            name = self.get(item, "name", str, where, f"{scheme}-{i + 1}", "a name string").strip()
            if not name or any(c in name for c in "\r\n"):
                raise self.fail(f"{where}.name", f"expected a one-line name, got {name!r}.")
            if any(c.name.casefold() == name.casefold() for c in out):
                raise self.fail(f"{where}.name", f"channel {name!r} is defined twice; give each a name.")
            out.append(
                ChannelConfig(
                    name=name,
                    url=url,
                    topics=tuple(names) if names is not None else None,
                    max_figures=self.positive(item, "max_figures", where, CHANNEL_MAX_FIGURES, integer=True),
                )
            )
        return tuple(out)

    def scale(self, t: Mapping[str, Any]) -> ScaleConfig:
        self.check_keys(t, {"dask_address", "dask_workers"}, "scale")
        address = self.get(t, "dask_address", str, "scale", None, '"local" or an address like "tcp://host:8786"')
        if address is not None and address != "local" and "://" not in address:
            raise self.fail("scale.dask_address", f'expected "local" or "tcp://host:port", got {address!r}.')
        return ScaleConfig(
            dask_address=address, dask_workers=self.positive(t, "dask_workers", "scale", 2, integer=True)
        )


_VARIABLE_REF = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _apprise_knows(scheme: str) -> bool:
    from apprise.manager_plugins import NotificationManager  # ~0.2 s: only when channels are configured

    return scheme in NotificationManager()  # type: ignore[no-untyped-call]


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)
