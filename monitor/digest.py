"""Digest: a run's new figures and revisions for one recipient or channel, rendered as text and HTML.

The rendering is the same whatever carries it: `mail` wraps it in an e-mail, `channels` posts the text through
Apprise. Everything shown comes from the web (titles, quotes, outlets, URLs) and is treated as hostile: one
clean line per value, every string escaped in HTML, only web links made links.
"""

from __future__ import annotations

import base64
import html
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from monitor import figures, history
from monitor.series import Decision

SUBJECT_MAX = 150  # characters; mail clients cut a subject long before this anyway
TITLE_MAX = 200
QUOTE_MAX = 600  # a quote is a sentence or two; a whole paragraph means the extractor over-reached
WHO_MAX = 120
TEXT_WIDTH = 76
MORE_QUERY = "new_figures"  # the view listing every new figure and revision by run (docs/history.md)

_DROP_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}  # control, format (bidi overrides), separators


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
    items: tuple[Decision, ...]  # the figures shown: at most max_figures
    n_new: int  # all new figures of the run for this recipient, shown or not
    n_revisions: int
    n_counterclaims: int = 0
    transport: Literal["email", "apprise"] = "email"  # what carries it: recipient is an address or a channel

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


SUSPECT_NOTE = (
    "SUSPECT: the total fell by more than half from the previous value; check the report before "
    "believing it (often one incident read as the whole toll)."
)


def badge(item: Decision) -> str:
    """NEW · REVISED · COUNTERCLAIM, and SUSPECT for a total that fell by more than half."""
    label = {"revision": "REVISED", "counterclaim": "COUNTERCLAIM"}.get(item.kind, "NEW")
    return f"{label}, SUSPECT" if item.suspect else label


def _counts(digest: Digest) -> str:
    return counts_text(digest.n_new, digest.n_revisions, digest.n_counterclaims)


def was(d: Decision) -> str:
    """What the value replaced, in words: "NIS said 600" (a counterclaim), "was 600" (a revision)."""
    previous = d.previous or "?"
    if d.kind == "counterclaim":
        return f"{one_line(d.previous_claimant or 'an unnamed source', WHO_MAX)} said {previous}"
    return f"was {previous}"


def line(d: Decision) -> str:
    """One readable line for the `alerts` view: topic: category value (who), was …, outlet."""
    text = f"{d.topic}: {d.category} {d.value}"
    if d.who:
        text += f" ({one_line(d.who, WHO_MAX)})"
    if d.scope != "total":
        text += f" [{d.scope}]"
    if d.kind == "revision":
        text += f", revised from {d.previous or '?'}"
    elif d.kind == "counterclaim":
        text += f", counterclaim: {was(d)}"
    if d.kind != "new" and d.change is not None:
        text += f" ({signed(d.change)})"
    if d.suspect:
        text += ", SUSPECT: fell by more than half"
    if d.source:
        text += f"; claimed by {one_line(d.source, WHO_MAX)}"
    if d.outlet:
        text += f" — {one_line(d.outlet, 80)}"
    return text


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


def subject(n_new: int, n_revisions: int, topics: Sequence[str], headline: str | None, n_counterclaims: int = 0) -> str:
    """news-monitor: 3 new figures — North Korean troops in Russia · “the first figure's headline”."""
    names = ", ".join(topics[:3])
    if len(topics) > 3:
        names += f" and {len(topics) - 3} more topics"
    text = f"news-monitor: {counts_text(n_new, n_revisions, n_counterclaims)} — {names}"
    if headline:
        text += f" · “{one_line(headline, TITLE_MAX)}”"
    return header_text(text, SUBJECT_MAX)


def more_hint(digest: Digest) -> str:
    """The command that lists every figure of the digest's run, including those past max_figures."""
    return f"monitor sql \"SELECT * FROM {MORE_QUERY} WHERE run_id = '{digest.run_id}'\""


def sort_key(item: Decision) -> tuple[int, int, int, str]:
    """Within a topic: revisions and counterclaims first (a figure that moved), then by category, the largest
    first."""
    order = figures.CATEGORIES.index(item.category) if item.category in figures.CATEGORIES else 99
    return (0 if item.kind != "new" else 1, order, -_magnitude(item), item.article_url)


def _magnitude(item: Decision) -> int:
    digits = re.sub(r"[^0-9]", "", item.value.split("\N{EN DASH}")[-1])
    return int(digits) if digits else 0


def grouped(items: Iterable[Decision], topics: Sequence[str]) -> list[tuple[str, list[Decision]]]:
    """Items by topic, in the digest's topic order, each topic's items sorted."""
    groups: dict[str, list[Decision]] = {t: [] for t in topics}
    for it in items:
        groups.setdefault(it.topic, []).append(it)
    return [(t, sorted(g, key=sort_key)) for t, g in groups.items() if g]


# --- rendering ------------------------------------------------------------------------------------------


def render_text(digest: Digest) -> str:
    """The plain-text part."""
    wrap = textwrap.TextWrapper(
        width=TEXT_WIDTH,
        initial_indent="    ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
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
                earlier = f"{was(it)} on {when(it.previous_as_of, with_time=False)}"
                if it.change is not None:
                    earlier += f" ({signed(it.change)})"
                source = (
                    f"{it.value} — {one_line(it.source, WHO_MAX)}; " if it.kind == "counterclaim" and it.source else ""
                )
                out.append(f"    {source}{earlier}")
            if it.suspect:
                out.append(f"    {SUSPECT_NOTE}")
            if it.claimant:
                key = (
                    f" ({one_line(it.claimant_key, WHO_MAX)})"
                    if it.claimant_key and it.claimant_key != it.claimant
                    else ""
                )
                out.append(f"    claimed by: {one_line(it.claimant, WHO_MAX)}{key}")
            out += wrap.wrap(f"“{one_line(it.quote, QUOTE_MAX)}”")
            if it.title:
                out += wrap.wrap(one_line(it.title, TITLE_MAX))
            out.append(f"    {one_line(it.outlet or 'unknown outlet', 80)}, {when(it.published_at)}")
            out.append(f"    {one_line(it.article_url, 2000)}")
            out.append("")
    if digest.more:
        out += [f"… and {digest.more} more not shown here. List them all with:", f"  {more_hint(digest)}", ""]
    out += [
        "-- ",
        f"Sent by news-monitor to {digest.recipient} for: {', '.join(digest.topics)}.",
        f'Alert {digest.alert_id}; see `monitor sql "SELECT * FROM alerts"`.',
    ]
    return "\n".join(out) + "\n"


_S = {
    "body": "margin:0;padding:0;background:#f4f5f7;",
    "page": "max-width:680px;margin:0 auto;padding:16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,"
    "sans-serif;color:#1f2328;font-size:14px;line-height:1.45;",
    "intro": "margin:0 0 12px;font-size:15px;",
    "h2": "font-size:17px;margin:22px 0 8px;padding-bottom:4px;border-bottom:2px solid #d0d7de;",
    "count": "color:#656d76;font-weight:normal;",
    "card": "background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:12px 14px;margin:0 0 10px;",
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
    parts = [
        f'<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(digest.subject)}</title></head>",
        f'<body style="{_S["body"]}"><div style="{_S["page"]}">',
        f'<p style="{_S["intro"]}">news-monitor found '
        f"<b>{e(_counts(digest))}</b> in run "
        f"<code>{e(digest.run_id)}</code>.</p>",
    ]
    for topic, items in grouped(digest.items, digest.topics):
        parts.append(
            f'<h2 style="{_S["h2"]}">{e(one_line(topic, 200))} <span style="{_S["count"]}">({len(items)})</span></h2>'
        )
        parts.extend(_card(it) for it in items)
        parts.extend(_img(c, embed) for c in charts if c.topic == topic)
    parts.extend(_img(c, embed) for c in charts if c.topic is None or c.topic not in digest.topics)
    if digest.more:
        parts.append(
            f'<p style="{_S["more"]}">… and <b>{digest.more} more</b> not shown here. List them all '
            f'with:<br><code style="{_S["code"]}">{e(more_hint(digest))}</code></p>'
        )
    parts.append(
        f'<p style="{_S["footer"]}">Sent by news-monitor to {e(digest.recipient)} for '
        f"{e(', '.join(digest.topics))}. Alert <code>{e(digest.alert_id)}</code>; see "
        f'<code>monitor sql "SELECT * FROM alerts"</code>.</p></div></body></html>'
    )
    return "\n".join(parts) + "\n"


def _card(it: Decision) -> str:
    e = html.escape
    style = _S["suspect"] if it.suspect else _S[it.kind if it.kind in _S else "new"]
    incident = " · one incident" if it.scope == "incident" else ""
    out = [
        f'<div style="{_S["card"]}">',
        f'<div><span style="{style}">{e(badge(it))}</span>'
        f'<span style="{_S["category"]}">{e(it.category)}{incident}</span></div>',
        f'<div style="{_S["value"]}">{e(it.value)}'
        + (f' <span style="{_S["who"]}">{e(one_line(it.who, WHO_MAX))}</span>' if it.who else "")
        + "</div>",
    ]
    if it.kind != "new":
        earlier = f"{e(was(it))} on {e(when(it.previous_as_of, with_time=False))}"
        if it.change is not None:
            earlier += f" · <b>{e(signed(it.change))}</b>"
        out.append(f'<div style="{_S["was"]}">{earlier}</div>')
    if it.suspect:
        out.append(f'<div style="{_S["was"]}"><b>{e(SUSPECT_NOTE)}</b></div>')
    if it.claimant:
        claimant = e(one_line(it.claimant, WHO_MAX))
        key = (
            f" ({e(one_line(it.claimant_key, WHO_MAX))})" if it.claimant_key and it.claimant_key != it.claimant else ""
        )
        out.append(f'<div style="{_S["claimant"]}">claimed by <b>{claimant}</b>{key}</div>')
    out.append(f'<blockquote style="{_S["quote"]}">“{e(one_line(it.quote, QUOTE_MAX))}”</blockquote>')
    url = one_line(it.article_url, 2000)
    label = e(one_line(it.title, TITLE_MAX)) if it.title else e(url)
    # only web links become links: a javascript: or data: URL from a feed is shown as text
    link = (
        f'<a href="{e(url, quote=True)}" style="{_S["link"]}">{label}</a>'
        if re.match(r"(?i)^https?://", url)
        else label
    )
    source = f"{e(one_line(it.outlet or 'unknown outlet', 80))} · {e(when(it.published_at))}"
    out.append(f'<div style="{_S["source"]}">{link}<br>{source}</div></div>')
    return "\n".join(out)


def _img(chart: Chart, embed: bool = False) -> str:
    src = f"data:image/png;base64,{base64.b64encode(chart.png).decode()}" if embed else f"cid:{chart.cid}"
    return f'<img src="{html.escape(src, quote=True)}" alt="{html.escape(chart.alt, quote=True)}" style="{_S["img"]}">'


# --- composing ------------------------------------------------------------------------------------------


def shown(d: Decision, title: str | None = None) -> Decision:
    """A decision as a digest shows it: with its article's title; "casualties" or "fatalities" as who names
    nobody (the category already says it)."""
    who = d.who if d.who and history.groups().label(d.who) else None
    return replace(d, who=who, title=title if title is not None else d.title)


def compose(
    alert_id: str,
    run_id: str,
    recipient: str,
    items: Sequence[Decision],
    topic_order: Sequence[str],
    max_figures: int,
    message_id: str,
    now: datetime,
) -> Digest:
    """One recipient's (or channel's) digest: at most max_figures items, shared fairly between its topics."""
    topics = tuple(
        dict.fromkeys([t for t in topic_order if any(i.topic == t for i in items)] + [i.topic for i in items])
    )
    ordered = tuple(i for _, group in grouped(fair_share(items, topics, max_figures), topics) for i in group)
    n_revisions = sum(i.kind == "revision" for i in items)
    n_counterclaims = sum(i.kind == "counterclaim" for i in items)
    n_new = len(items) - n_revisions - n_counterclaims
    headline = ordered[0].title if ordered else None
    return Digest(
        alert_id=alert_id,
        run_id=run_id,
        recipient=recipient,
        subject=subject(n_new, n_revisions, topics, headline, n_counterclaims),
        message_id=message_id,
        created_at=now,
        topics=topics,
        items=ordered,
        n_new=n_new,
        n_revisions=n_revisions,
        n_counterclaims=n_counterclaims,
    )


def fair_share(items: Sequence[Decision], topics: Sequence[str], limit: int) -> list[Decision]:
    """At most `limit` items, taken in turn from each topic (a busy topic must not push a quiet one out)."""
    queues = [group for _, group in grouped(items, topics)]
    out: list[Decision] = []
    while len(out) < limit and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out
