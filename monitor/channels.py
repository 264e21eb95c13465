"""Channels: the Apprise transport — a digest posted to Slack, Teams, Telegram, Matrix, ntfy, a webhook…

A channel's URL is kept as monitor.toml writes it, `${VARIABLE}` references and all: the secrets they name are
read from the environment only here, when a message is sent, and never leave this module. Anything logged
while sending (Apprise's, requests' and urllib3's URLs and connection errors) has them replaced by `***` as
the record is made, and every error this module raises is redacted the same way.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

from monitor import config, digest
from monitor.errors import AlertError

ALERT_HEADER = "X-News-Monitor-Alert"  # on webhook posts (json://, form://, xml://): the alert's id
REDACTED = "***"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ChannelDown(AlertError):
    """A channel did not take a message (down, refusing, timing out, misconfigured); the next run tries again."""


def expand(channel: config.ChannelConfig, environ: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """The channel's URL with its ${VARIABLES} filled in from `environ`, and the values filled in (the
    secrets, to redact). Raises ChannelDown naming a variable that is not set."""
    names = list(dict.fromkeys(_REFERENCE.findall(channel.url)))
    missing = [n for n in names if not environ.get(n)]
    if missing:
        raise ChannelDown(
            f"channel {channel.name}: ${missing[0]} is not set. Set it in the environment of "
            "`monitor run` / `monitor serve` (the channel's url in monitor.toml refers to it)."
        )
    values = [environ[n] for n in names]
    # as a URL carries them too: a token with "/" or "+" is logged percent-encoded in a request line
    secrets = tuple(dict.fromkeys([*values, *(quote(v, safe="") for v in values), *(quote_plus(v) for v in values)]))
    return _REFERENCE.sub(lambda m: environ[m.group(1)], channel.url), secrets


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret replaced by ***, longest first (one secret may contain another)."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, REDACTED)
    return text


def _redact_record(record: logging.LogRecord, secrets: Sequence[str]) -> None:
    text = record.getMessage()
    clean = redact(text, secrets)
    if record.exc_info:  # a traceback's text may hold the URL too: keep its summary only
        clean = redact(f"{clean} ({record.exc_info[0]})", secrets)
        record.exc_info, record.exc_text = None, None
    if clean != text:
        record.msg, record.args = clean, None


@contextlib.contextmanager
def _guarded(secrets: Sequence[str]) -> Iterator[io.StringIO]:
    """While sending: the secrets redacted from every log record made (by Apprise, requests, urllib3, in any
    logger, before any handler or filter sees it), and Apprise's warnings captured (they say why a message
    was not taken)."""
    import apprise

    made = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        _redact_record(record, secrets)
        return record

    logging.setLogRecordFactory(factory)
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
            assert isinstance(captured, io.StringIO)
            yield captured
    finally:
        logging.setLogRecordFactory(made)


def _plugin(channel: config.ChannelConfig, url: str) -> Any:
    import apprise

    # Apprise may keep state on disk (tokens, caches) unless told to keep it in memory
    asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if plugin is None:
        raise ChannelDown(
            f"channel {channel.name}: Apprise cannot use its url (with the variables filled in). "
            "Check it against docs/alerts.md#channels, then run `monitor alerts test`."
        )
    return plugin


def post(
    channel: config.ChannelConfig, title: str, body: str, environ: Mapping[str, str], alert_id: str | None = None
) -> None:
    """Post one message to a channel. Raises ChannelDown (redacted) when the channel does not take it."""
    import apprise

    url, secrets = expand(channel, environ)
    with _guarded(secrets) as captured:
        try:
            plugin = _plugin(channel, url)
            headers = getattr(plugin, "headers", None)
            if alert_id is not None and isinstance(headers, dict):
                headers[ALERT_HEADER] = alert_id  # webhooks: the receiver can drop a resent alert by its id
            ok = plugin.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
        except ChannelDown:
            raise
        except Exception as e:  # any failure inside a plugin: the message waits for the next run
            raise ChannelDown(
                redact(f"channel {channel.name}: {type(e).__name__}: {e}; the next run tries again.", secrets)
            ) from None
    if not ok:
        said = [line for line in captured.getvalue().splitlines() if line.strip()]
        reason = redact(said[-1] if said else "the service did not accept the message", secrets)
        raise ChannelDown(
            digest.one_line(
                f"channel {channel.name}: {reason} The next run tries again; `monitor alerts test` checks the channel.",
                400,
            )
        )


def send(channel: config.ChannelConfig, d: digest.Digest, environ: Mapping[str, str]) -> None:
    """Post a digest: its subject as the title, its text (which ends with the alert's id) as the body."""
    post(channel, d.subject, digest.render_text(d), environ, alert_id=d.alert_id)


def check(channel: config.ChannelConfig, where: str, environ: Mapping[str, str]) -> None:
    """Post a short message proving the channel works."""
    post(
        channel,
        "news-monitor: test message",
        f"This is a test message from news-monitor ({where}) to the channel {channel.name}. If you can read "
        "it, alerts on new figures will reach this channel too.",
        environ,
    )
