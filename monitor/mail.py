"""Mail: the digest as an e-mail (safe headers, plain text and HTML) and the SMTP session that sends it.

Everything shown comes from the web (titles, quotes, outlets, URLs) and is treated as hostile: headers get
one clean line with control characters removed and encoded-word openers broken, because Python's email
package decodes `=?utf-8?q?…=0D=0A…?=` in a header value it is given and would write the decoded line
break out as a new header. Each built message is parsed back and refused if its headers are not exactly
the ones set here.
"""

from __future__ import annotations

import base64
import html
import re
import smtplib
import socket
import ssl
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from types import TracebackType
from typing import Any

from monitor import config, figures
from monitor.errors import AlertError

SUBJECT_MAX = 150    # characters; mail clients cut a subject long before this anyway
TITLE_MAX = 200
QUOTE_MAX = 600      # a quote is a sentence or two; a whole paragraph means the extractor over-reached
WHO_MAX = 120
FROM_NAME = "news-monitor"
TEXT_WIDTH = 76
MORE_QUERY = "new_figures"  # the view listing every new figure and revision by run (docs/history.md)

_DROP_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}  # control, format (bidi overrides), separators
_CID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class MessageRejected(AlertError):
    """The server refused this message for good (5xx on its recipient or content); retrying will not help."""


class MessageDeferred(AlertError):
    """The server refused this message for now (4xx); the next run tries again."""


class Unbuildable(AlertError):
    """A digest cannot be turned into a safe message; retrying will not help."""


@dataclass(frozen=True, slots=True)
class Item:
    """One new or revised figure as a digest shows it."""

    topic: str
    kind: str                         # new | revision | counterclaim
    category: str
    value: str                        # as an analyst reads it (runs.format_value): ≈4,700 · ≥50
    who: str | None
    claimant: str | None
    previous: str | None              # the value this one revises, formatted
    previous_as_of: datetime | None
    change: int | None                # value minus previous value, where both are single numbers
    quote: str
    title: str | None
    outlet: str | None
    published_at: datetime | None
    article_url: str
    scope: str = "total"              # total | incident (one event)
    claimant_key: str | None = None   # the source, canonical ("NIS")
    previous_claimant: str | None = None  # the claimant key of the value replaced
    suspect: bool = False             # a total that fell by more than half

    @property
    def source(self) -> str | None:
        """Who claims the value: its canonical key, else its wording."""
        return self.claimant_key or self.claimant

    def was(self) -> str:
        """What the value replaced, in words: "NIS said 600" (a counterclaim), "was 600" (a revision)."""
        previous = self.previous or "?"
        if self.kind == "counterclaim":
            return f"{one_line(self.previous_claimant or 'an unnamed source', WHO_MAX)} said {previous}"
        return f"was {previous}"

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("previous_as_of", "published_at"):
            value = data[name]
            data[name] = value.isoformat() if isinstance(value, datetime) else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        for name in ("previous_as_of", "published_at"):
            value = known.get(name)
            known[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
        return cls(**known)

    def line(self) -> str:
        """One readable line for the `alerts` view: topic: category value (who), was …, outlet."""
        text = f"{self.topic}: {self.category} {self.value}"
        if self.who:
            text += f" ({one_line(self.who, WHO_MAX)})"
        if self.scope != "total":
            text += f" [{self.scope}]"
        if self.kind == "revision":
            text += f", revised from {self.previous or '?'}"
        elif self.kind == "counterclaim":
            text += f", counterclaim: {self.was()}"
        if self.kind != "new" and self.change is not None:
            text += f" ({signed(self.change)})"
        if self.suspect:
            text += ", SUSPECT: fell by more than half"
        if self.source:
            text += f"; claimed by {one_line(self.source, WHO_MAX)}"
        if self.outlet:
            text += f" — {one_line(self.outlet, 80)}"
        return text


@dataclass(frozen=True, slots=True)
class Digest:
    """One e-mail: a run's new figures and revisions for one recipient, grouped by topic."""

    alert_id: str
    run_id: str
    recipient: str
    subject: str
    message_id: str
    created_at: datetime
    topics: tuple[str, ...]
    items: tuple[Item, ...]           # the figures shown: at most [email] max_figures
    n_new: int                        # all new figures of the run for this recipient, shown or not
    n_revisions: int
    n_counterclaims: int = 0

    @property
    def more(self) -> int:
        """Figures of this run not shown in the message (past max_figures)."""
        return max(0, self.n_new + self.n_revisions + self.n_counterclaims - len(self.items))


@dataclass(frozen=True, slots=True)
class Chart:
    """An image shown inline in the HTML part (referenced as cid:<cid>), under its topic or at the end."""

    cid: str
    png: bytes
    alt: str
    topic: str | None = None


SUSPECT_NOTE = ("SUSPECT: the total fell by more than half from the previous value; check the report before "
                "believing it (often one incident read as the whole toll).")


def badge(item: Item) -> str:
    """NEW · REVISED · COUNTERCLAIM, and SUSPECT for a total that fell by more than half."""
    label = {"revision": "REVISED", "counterclaim": "COUNTERCLAIM"}.get(item.kind, "NEW")
    return f"{label}, SUSPECT" if item.suspect else label


def _counts(digest: Digest) -> str:
    return counts_text(digest.n_new, digest.n_revisions, digest.n_counterclaims)


# --- text cleaning --------------------------------------------------------------------------------------

def one_line(value: object, limit: int) -> str:
    """Web text as one clean line: control and format characters gone, whitespace collapsed, capped."""
    text = "".join(" " if unicodedata.category(c) in _DROP_CATEGORIES else c for c in str(value))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def header_text(value: object, limit: int = SUBJECT_MAX) -> str:
    """A header value that stays one header: one clean line, no encoded word for the email package to read."""
    text = one_line(value, 10 * limit)
    while "=?" in text:  # an encoded-word opener; "= ?" is shown the same and decodes to nothing
        text = text.replace("=?", "= ?")
    return one_line(text, limit)


def signed(n: int) -> str:
    """+1,700 · \N{MINUS SIGN}300 (a real minus sign, as in print) · ±0."""
    if n > 0:
        return f"+{n:,}"
    if n < 0:
        return f"\N{MINUS SIGN}{-n:,}"
    return "±0"


def when(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return "date unknown"
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return f"{value:%Y-%m-%d %H:%M} UTC" if with_time else f"{value:%Y-%m-%d}"


def counts_text(n_new: int, n_revisions: int, n_counterclaims: int = 0) -> str:
    """3 new figures · 1 revision · 2 new figures, 1 revision, 1 counterclaim."""
    parts = []
    if n_new or not (n_revisions or n_counterclaims):
        parts.append(f"{n_new} new figure{'s' if n_new != 1 else ''}")
    if n_revisions:
        parts.append(f"{n_revisions} revision{'s' if n_revisions != 1 else ''}")
    if n_counterclaims:
        parts.append(f"{n_counterclaims} counterclaim{'s' if n_counterclaims != 1 else ''}")
    return ", ".join(parts)


def subject(n_new: int, n_revisions: int, topics: Sequence[str], headline: str | None,
            n_counterclaims: int = 0) -> str:
    """news-monitor: 3 new figures — North Korean troops in Russia · “the first figure's headline”."""
    names = ", ".join(topics[:3])
    if len(topics) > 3:
        names += f" and {len(topics) - 3} more topics"
    text = f"news-monitor: {counts_text(n_new, n_revisions, n_counterclaims)} — {names}"
    if headline:
        text += f" · “{one_line(headline, TITLE_MAX)}”"
    return header_text(text, SUBJECT_MAX)


def message_id(alert_id: str, sender: str) -> str:
    """The digest's Message-ID: derived from its outbox id, so every attempt to send it carries the same."""
    domain = re.sub(r"[^A-Za-z0-9.-]", "", sender.rpartition("@")[2]).strip(".") or "news-monitor.invalid"
    local = re.sub(r"[^A-Za-z0-9._-]", "", alert_id)
    return f"<{local}.alert@{domain}>"


def more_hint(digest: Digest) -> str:
    """The command that lists every figure of the digest's run, including those past max_figures."""
    return f"monitor sql \"SELECT * FROM {MORE_QUERY} WHERE run_id = '{digest.run_id}'\""


def sort_key(item: Item) -> tuple[int, int, int, str]:
    """Within a topic: revisions and counterclaims first (a figure that moved), then by category, the largest
    first."""
    order = figures.CATEGORIES.index(item.category) if item.category in figures.CATEGORIES else 99
    return (0 if item.kind != "new" else 1, order, -_magnitude(item), item.article_url)


def _magnitude(item: Item) -> int:
    digits = re.sub(r"[^0-9]", "", item.value.split("\N{EN DASH}")[-1])
    return int(digits) if digits else 0


def grouped(items: Iterable[Item], topics: Sequence[str]) -> list[tuple[str, list[Item]]]:
    """Items by topic, in the digest's topic order, each topic's items sorted."""
    groups: dict[str, list[Item]] = {t: [] for t in topics}
    for it in items:
        groups.setdefault(it.topic, []).append(it)
    return [(t, sorted(g, key=sort_key)) for t, g in groups.items() if g]


# --- rendering ------------------------------------------------------------------------------------------

def render_text(digest: Digest) -> str:
    """The plain-text part."""
    wrap = textwrap.TextWrapper(width=TEXT_WIDTH, initial_indent="    ", subsequent_indent="    ",
                                break_long_words=False, break_on_hyphens=False)
    out = [f"news-monitor found {_counts(digest)} in run {digest.run_id}.", ""]
    for topic, items in grouped(digest.items, digest.topics):
        head = f"{one_line(topic, 200)} ({len(items)})"
        out += [head, "-" * min(len(head), TEXT_WIDTH), ""]
        for it in items:
            first = f"{badge(it)}  {it.category}{' (one incident)' if it.scope == 'incident' else ''}: {it.value}"
            if it.who:
                first += f" — {one_line(it.who, WHO_MAX)}"
            out.append(f"  {first}")
            if it.kind != "new":
                # "≈3,000 — Zelensky; NIS said ≈600 on 2025-01-20": another source's value is never "was"
                was = f"{it.was()} on {when(it.previous_as_of, with_time=False)}"
                if it.change is not None:
                    was += f" ({signed(it.change)})"
                source = f"{it.value} — {one_line(it.source, WHO_MAX)}; " if it.kind == "counterclaim" and \
                    it.source else ""
                out.append(f"    {source}{was}")
            if it.suspect:
                out.append(f"    {SUSPECT_NOTE}")
            if it.claimant:
                key = f" ({one_line(it.claimant_key, WHO_MAX)})" if it.claimant_key and \
                    it.claimant_key != it.claimant else ""
                out.append(f"    claimed by: {one_line(it.claimant, WHO_MAX)}{key}")
            out += wrap.wrap(f"“{one_line(it.quote, QUOTE_MAX)}”")
            if it.title:
                out += wrap.wrap(one_line(it.title, TITLE_MAX))
            out.append(f"    {one_line(it.outlet or 'unknown outlet', 80)}, {when(it.published_at)}")
            out.append(f"    {one_line(it.article_url, 2000)}")
            out.append("")
    if digest.more:
        out += [f"… and {digest.more} more not shown here. List them all with:", f"  {more_hint(digest)}", ""]
    out += ["-- ", f"Sent by news-monitor to {digest.recipient} for: {', '.join(digest.topics)}.",
            f"Alert {digest.alert_id}; see `monitor sql \"SELECT * FROM alerts\"`."]
    return "\n".join(out) + "\n"


_S = {
    "body": "margin:0;padding:0;background:#f4f5f7;",
    "page": "max-width:680px;margin:0 auto;padding:16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,"
            "sans-serif;color:#1f2328;font-size:14px;line-height:1.45;",
    "intro": "margin:0 0 12px;font-size:15px;",
    "h2": "font-size:17px;margin:22px 0 8px;padding-bottom:4px;border-bottom:2px solid #d0d7de;",
    "count": "color:#656d76;font-weight:normal;",
    "card": "background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:12px 14px;"
            "margin:0 0 10px;",
    "new": "display:inline-block;font-size:11px;font-weight:600;letter-spacing:.05em;padding:1px 6px;"
           "border-radius:10px;background:#dafbe1;color:#116329;",
    "revision": "display:inline-block;font-size:11px;font-weight:600;letter-spacing:.05em;padding:1px 6px;"
                "border-radius:10px;background:#fff8c5;color:#7d4e00;",
    "counterclaim": "display:inline-block;font-size:11px;font-weight:600;letter-spacing:.05em;padding:1px 6px;"
                    "border-radius:10px;background:#ddf4ff;color:#0550ae;",
    "suspect": "display:inline-block;font-size:11px;font-weight:600;letter-spacing:.05em;padding:1px 6px;"
               "border-radius:10px;background:#ffebe9;color:#a40e26;",
    "category": "font-size:12px;color:#656d76;text-transform:uppercase;letter-spacing:.04em;margin-left:6px;",
    "value": "font-size:22px;font-weight:600;margin:4px 0 2px;",
    "who": "font-size:14px;font-weight:normal;color:#424a53;",
    "was": "color:#7d4e00;margin:2px 0;",
    "claimant": "margin:2px 0;",
    "quote": "margin:8px 0;padding:4px 10px;border-left:3px solid #d0d7de;color:#424a53;font-style:italic;",
    "source": "font-size:13px;color:#656d76;margin-top:6px;",
    "link": "color:#0969da;text-decoration:none;",
    "img": "display:block;max-width:100%;height:auto;margin:8px 0 14px;",
    "more": "margin:16px 0;padding:10px 12px;background:#ffffff;border:1px dashed #d0d7de;border-radius:6px;",
    "code": "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all;",
    "footer": "margin-top:22px;font-size:12px;color:#8c959f;",
}


def render_html(digest: Digest, charts: Sequence[Chart] = (), *, embed: bool = False) -> str:
    """The HTML part: inline CSS only (mail clients drop <style>), every web string escaped.

    `charts` is the hook for inline images: each is shown under its topic (or at the end) as cid:<cid>;
    `build` attaches their bytes. With `embed`, the images are data: URIs instead, so the page stands alone
    (`monitor alerts preview --html`) and a browser shows what the mail client shows.
    """
    e = html.escape
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>{e(digest.subject)}</title></head>",
             f'<body style="{_S["body"]}"><div style="{_S["page"]}">',
             f'<p style="{_S["intro"]}">news-monitor found '
             f"<b>{e(_counts(digest))}</b> in run "
             f"<code>{e(digest.run_id)}</code>.</p>"]
    for topic, items in grouped(digest.items, digest.topics):
        parts.append(f'<h2 style="{_S["h2"]}">{e(one_line(topic, 200))} '
                     f'<span style="{_S["count"]}">({len(items)})</span></h2>')
        parts.extend(_card(it) for it in items)
        parts.extend(_img(c, embed) for c in charts if c.topic == topic)
    parts.extend(_img(c, embed) for c in charts if c.topic is None or c.topic not in digest.topics)
    if digest.more:
        parts.append(f'<p style="{_S["more"]}">… and <b>{digest.more} more</b> not shown here. List them all '
                     f'with:<br><code style="{_S["code"]}">{e(more_hint(digest))}</code></p>')
    parts.append(f'<p style="{_S["footer"]}">Sent by news-monitor to {e(digest.recipient)} for '
                 f"{e(', '.join(digest.topics))}. Alert <code>{e(digest.alert_id)}</code>; see "
                 f'<code>monitor sql "SELECT * FROM alerts"</code>.</p></div></body></html>')
    return "\n".join(parts) + "\n"


def _card(it: Item) -> str:
    e = html.escape
    style = _S["suspect"] if it.suspect else _S[it.kind if it.kind in _S else "new"]
    incident = " · one incident" if it.scope == "incident" else ""
    out = [f'<div style="{_S["card"]}">',
           f'<div><span style="{style}">{e(badge(it))}</span>'
           f'<span style="{_S["category"]}">{e(it.category)}{incident}</span></div>',
           f'<div style="{_S["value"]}">{e(it.value)}'
           + (f' <span style="{_S["who"]}">{e(one_line(it.who, WHO_MAX))}</span>' if it.who else "")
           + "</div>"]
    if it.kind != "new":
        was = f"{e(it.was())} on {e(when(it.previous_as_of, with_time=False))}"
        if it.change is not None:
            was += f" · <b>{e(signed(it.change))}</b>"
        out.append(f'<div style="{_S["was"]}">{was}</div>')
    if it.suspect:
        out.append(f'<div style="{_S["was"]}"><b>{e(SUSPECT_NOTE)}</b></div>')
    if it.claimant:
        claimant = e(one_line(it.claimant, WHO_MAX))
        key = (f" ({e(one_line(it.claimant_key, WHO_MAX))})" if it.claimant_key and it.claimant_key != it.claimant
               else "")
        out.append(f'<div style="{_S["claimant"]}">claimed by <b>{claimant}</b>{key}</div>')
    out.append(f'<blockquote style="{_S["quote"]}">“{e(one_line(it.quote, QUOTE_MAX))}”</blockquote>')
    url = one_line(it.article_url, 2000)
    label = e(one_line(it.title, TITLE_MAX)) if it.title else e(url)
    # only web links become links: a javascript: or data: URL from a feed is shown as text
    link = (f'<a href="{e(url, quote=True)}" style="{_S["link"]}">{label}</a>'
            if re.match(r"(?i)^https?://", url) else label)
    source = f"{e(one_line(it.outlet or 'unknown outlet', 80))} · {e(when(it.published_at))}"
    out.append(f'<div style="{_S["source"]}">{link}<br>{source}</div></div>')
    return "\n".join(out)


def _img(chart: Chart, embed: bool = False) -> str:
    src = f"data:image/png;base64,{base64.b64encode(chart.png).decode()}" if embed else f"cid:{chart.cid}"
    return (f'<img src="{html.escape(src, quote=True)}" alt="{html.escape(chart.alt, quote=True)}" '
            f'style="{_S["img"]}">')


# --- messages -------------------------------------------------------------------------------------------

def build(digest: Digest, email: config.EmailConfig, charts: Sequence[Chart] = (),
          now: datetime | None = None) -> EmailMessage:
    """The digest as a multipart/alternative message (text + HTML, with charts inline when given)."""
    for c in charts:
        if not _CID.match(c.cid):
            raise Unbuildable(f"chart content id {c.cid!r}: use letters, digits, '.', '_' or '-' "
                             "(at most 64 characters).")
    msg = _headers(email, digest.recipient, digest.subject, digest.message_id, now)
    msg["X-News-Monitor-Alert"] = header_text(digest.alert_id, 80)
    # quoted-printable keeps the parts readable in a raw message and in `monitor alerts preview --raw`
    msg.set_content(render_text(digest), cte="quoted-printable")
    msg.add_alternative(render_html(digest, charts), subtype="html", cte="quoted-printable")
    if charts:
        html_part = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        for c in charts:
            # inline, not the default attachment a filename brings: clients would list every chart as a file
            html_part.add_related(c.png, "image", "png", cid=f"<{c.cid}>", filename=f"{c.cid}.png",
                                  disposition="inline")
    _check_headers(msg)
    return msg


def check_message(email: config.EmailConfig, recipients: Sequence[str], where: str) -> EmailMessage:
    """A short message proving the [email] settings work."""
    msg = _headers(email, ", ".join(recipients), "news-monitor: test message",
                   make_msgid(domain=_domain(email)), None)
    msg.set_content(f"This is a test message from news-monitor ({where}).\n\n"
                    f"It was sent through {email.smtp_host}:{email.smtp_port} (security: {email.security}). "
                    "If you can read it, digests of new figures will reach you too.\n")
    _check_headers(msg)
    return msg


def _domain(email: config.EmailConfig) -> str:
    return message_id("x", email.sender).rpartition("@")[2].rstrip(">")


def _headers(email: config.EmailConfig, to: str, subject_text: str, msg_id: str,
             now: datetime | None) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = header_text(subject_text, SUBJECT_MAX)
    msg["From"] = formataddr((FROM_NAME, email.sender))
    msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    return msg


def _check_headers(msg: EmailMessage) -> None:
    """Refuse a message whose serialised headers are not exactly the ones we set (defence in depth)."""
    parsed = BytesParser(policy=policy.SMTP).parsebytes(msg.as_bytes(), headersonly=True)
    if [k.lower() for k in parsed] != [k.lower() for k in msg]:
        raise Unbuildable(f"refusing to send {msg['Message-ID']}: its headers changed when written out "
                         f"({', '.join(parsed.keys())}); a title or quote tried to add a header.")


# --- SMTP -----------------------------------------------------------------------------------------------

class Transport:
    """One SMTP session for a batch of messages. Every step (connect, greeting, EHLO, STARTTLS, login, each
    command of each message) times out after [email] timeout seconds: a silent server costs that, not a run.

    Raises AlertError (naming host:port and what to check) when the session cannot be opened or breaks.
    """

    def __init__(self, email: config.EmailConfig) -> None:
        self.cfg = email
        self.where = f"{email.smtp_host}:{email.smtp_port}"
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        cfg = self.cfg
        if cfg.username and not cfg.password:
            raise AlertError(f"{self.where}: [email] username is {cfg.username!r} but "
                             f"${config.ENV_SMTP_PASSWORD} is not set. Set it in the environment of "
                             "`monitor run` (or remove username for a relay without login).")
        # getfqdn() can block on reverse DNS for seconds; the bare host name is enough for EHLO
        local = socket.gethostname() or "localhost"
        try:
            if cfg.security == "tls":
                self.smtp = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, local_hostname=local,
                                             timeout=cfg.timeout, context=self._tls())
            else:
                self.smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, local_hostname=local,
                                         timeout=cfg.timeout)
            self.smtp.ehlo()
            if cfg.security == "starttls":
                if not self.smtp.has_extn("starttls"):
                    raise AlertError(f"{self.where}: the server does not offer STARTTLS. Set [email] "
                                     'security = "tls" for a TLS port (465), or "none" for a local relay.')
                self.smtp.starttls(context=self._tls())
                self.smtp.ehlo()
            if cfg.username and cfg.password:
                self.smtp.login(cfg.username, cfg.password)
        except AlertError:
            self.close()
            raise
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise self._error(e) from None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cfg.ca_file)

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Hand one message to the server for one recipient.

        Raises MessageRejected (5xx for this message), MessageDeferred (4xx for this message) or AlertError
        (the session broke: the remaining messages wait for the next run).
        """
        if self.smtp is None:
            raise AlertError(f"{self.where}: not connected.")
        try:
            self.smtp.send_message(msg, from_addr=self.cfg.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients.get(recipient, (0, b""))
            raise self._refusal(code, f"recipient {recipient} refused ({code} {_text(text)})") from None
        except smtplib.SMTPDataError as e:
            what = f"message refused ({e.smtp_code} {_text(e.smtp_error)})"
            raise self._refusal(e.smtp_code, what) from None
        except (smtplib.SMTPException, OSError) as e:
            raise self._error(e) from None

    def _refusal(self, code: int, what: str) -> AlertError:
        if code >= 500:
            return MessageRejected(f"{self.where}: {what}; not retried. Check the address in [email] "
                                   "recipients.")
        return MessageDeferred(f"{self.where}: {what}; the next run tries again.")

    def close(self) -> None:
        if self.smtp is None:
            return
        smtp, self.smtp = self.smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _error(self, e: BaseException) -> AlertError:
        where, cfg = self.where, self.cfg
        check = "then run `monitor alerts test`."
        if isinstance(e, ConnectionRefusedError):
            return AlertError(f"{where}: connection refused (no SMTP server listening). Check smtp_host and "
                              f"smtp_port in [email] and that the mail server is running; {check}")
        # smtplib turns a timed-out read into SMTPServerDisconnected; the timeout is the news
        if isinstance(e, TimeoutError) or isinstance(e.__context__, TimeoutError):
            return AlertError(f"{where}: no answer within {cfg.timeout:g} s. Check smtp_host, smtp_port and "
                              "security in [email] (a TLS port says nothing to plain SMTP), or raise "
                              f"[email] timeout; {check}")
        if isinstance(e, socket.gaierror):
            return AlertError(f"{where}: unknown host ({e.strerror}). Check smtp_host in [email]; {check}")
        if isinstance(e, ssl.SSLCertVerificationError):
            return AlertError(f"{where}: the server's TLS certificate is not trusted ({e.verify_message}). "
                              "Set [email] ca_file to the CA that signed it, or fix the server's "
                              f"certificate; {check}")
        if isinstance(e, ssl.SSLError):
            return AlertError(f"{where}: TLS failed ({e.reason or e}). Check [email] security: \"tls\" for "
                              f'implicit TLS (usually port 465), "starttls" for port 587; {check}')
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return AlertError(f"{where}: login as {cfg.username!r} refused ({e.smtp_code} "
                              f"{_text(e.smtp_error)}). Check [email] username and "
                              f"${config.ENV_SMTP_PASSWORD}; {check}")
        if isinstance(e, smtplib.SMTPSenderRefused):
            return AlertError(f"{where}: sender {cfg.sender} refused ({e.smtp_code} {_text(e.smtp_error)}). "
                              f"Check [email] sender (the server may only accept its own domain); {check}")
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return AlertError(f"{where}: {e}. Check [email] security and username; {check}")
        if isinstance(e, smtplib.SMTPServerDisconnected):
            return AlertError(f"{where}: the server closed the connection ({e or 'no reason given'}); "
                              f"{check}")
        if isinstance(e, smtplib.SMTPResponseException):
            return AlertError(f"{where}: the server answered {e.smtp_code} {_text(e.smtp_error)}; {check}")
        if isinstance(e, OSError):
            return AlertError(f"{where}: {e.strerror or e}; {check}")
        return AlertError(f"{where}: {e}; {check}")


def _text(value: bytes | str) -> str:
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return one_line(raw, 200)
