"""A dated story for issue 15: who claims a figure, what it counts, and whether it really revises.

Topic "North Korean troops in Russia" with `subject = "North Korean"`, five runs of `monitor run`, every
digest mailed (send_history) to an aiosmtpd inbox. What news-monitor must conclude, run by run:

    run 1  killed/military/total       ≈600      new           NIS ("South Korea's National Intelligence
                                                               Service", Jan 10)
           captured/military/incident     2      new           (Jan 12: "captured two …, one of whom later
           killed/military/incident       1      new            died": incidents inside a cumulative story;
                                                               the same article's "600 so far, Seoul's spy
                                                               agency said" is the NIS again: a repeat)
    run 2  killed/military/total     ≈1,100      revision      NIS in Korean ("국정원", Jan 20): 600 -> 1,100
           casualties/Russian/total ≥800,000     new           (Jan 21: "Russia has lost more than 800,000
                                                               troops" in an article about North Korean
                                                               troops: another force's series)
    run 3  killed/military/total     ≈3,000      counterclaim  Zelensky after the NIS's 1,100 (Feb 1); a late
                                                               article dated Jan 11 repeating the NIS's 600
                                                               ("Seoul's intelligence service") announces
                                                               nothing
    run 4  killed/military/total        100      counterclaim  Russia's defence ministry after Zelensky's
                                                               3,000 (Feb 10): a drop by more than half,
                                                               suspect; Ukraine's general staff in Russian
                                                               ("Генштаб ВСУ", Feb 11) repeats 3,000
    run 5  nothing: the feed is unchanged.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import CliRunner

from monitor import cli
from tests.history_story import QUERY, TOPIC, database, history_tables
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER, day
from tests.world import Story, World

SUBJECT = "North Korean"


def _story(slug: str, title: str, text: str, when: str, lang: str = "en", filler: bool = True) -> Story:
    return Story(
        slug=f"claims-{slug}",
        title=title,
        paragraphs=(text, FILLER) if filler else (text,),
        published=day(when),
        lang=lang,
    )


NIS_600 = _story(
    "nis-600",
    "Seoul: 600 North Korean soldiers killed in Russia's war",
    "South Korea's National Intelligence Service said on Monday that about 600 North Korean soldiers have "
    "been killed so far in Russia's war against Ukraine.",
    "2025-01-10",
)
CAPTURED = _story(
    "captured",
    "Ukraine captures North Korean soldiers in Kursk",
    "Ukrainian forces captured two North Korean soldiers in the Kursk region, one of whom later died of his "
    "wounds. About 600 North Korean soldiers have been killed so far, Seoul's spy agency said.",
    "2025-01-12",
)
NIS_KOREAN = _story(
    "nis-korean",
    "국정원: 러시아 파병 북한군 사망자 1100명 (North Korean troops in Russia)",
    "국정원은 러시아에 파병된 북한군 가운데 지금까지 약 1100명이 사망했다고 밝혔다. 국정원은 북한이 추가 파병을 "
    "준비하고 있다고 덧붙였다. 전선의 상황은 여전히 불안정하다고 관계자들은 말했다.",
    "2025-01-20",
    lang="ko",
    filler=False,
)
RUSSIA_LOSSES = _story(
    "russia-losses",
    "North Korean troops dig in as Russia's losses mount",
    "North Korean units remain in the Kursk region. Ukraine's general staff said Russia has lost more than "
    "800,000 troops since the invasion began.",
    "2025-01-21",
)
ZELENSKY = _story(
    "zelensky",
    "Zelensky: 3,000 North Korean soldiers killed",
    "President Volodymyr Zelensky said about 3,000 North Korean soldiers have been killed so far in the Kursk region.",
    "2025-02-01",
)
LATE = _story(
    "late",
    "Seoul's count of North Korean dead in Russia, first published in January",
    "Seoul's intelligence service said about 600 North Korean soldiers have been killed so far in Russia's war.",
    "2025-01-11",
)
MOD_DROP = _story(
    "mod-drop",
    "Moscow disputes North Korean losses in Kursk",
    "Russia's defence ministry said only 100 North Korean soldiers have been killed in total.",
    "2025-02-10",
)
GENSHTAB = _story(
    "genshtab",
    "Генштаб ВСУ: около 3000 северокорейских военных погибли (North Korea, Russia)",
    "Генштаб ВСУ сообщил, что с начала боёв в Курской области погибли около 3000 северокорейских военных. "
    "В Генштабе добавили, что бои продолжаются.",
    "2025-02-11",
    lang="ru",
    filler=False,
)

# What the feed lists, run by run (everything published so far: a feed is a window on the outlet).
ROUNDS: tuple[tuple[Story, ...], ...] = (
    (NIS_600, CAPTURED),
    (NIS_600, CAPTURED, NIS_KOREAN, RUSSIA_LOSSES),
    (NIS_600, CAPTURED, NIS_KOREAN, RUSSIA_LOSSES, ZELENSKY, LATE),
    (NIS_600, CAPTURED, NIS_KOREAN, RUSSIA_LOSSES, ZELENSKY, LATE, MOD_DROP, GENSHTAB),
)


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@dataclass
class ClaimsRun:
    config: Path
    summaries: list[dict[str, Any]]  # `monitor run --json` of each run
    digests: list[list[EmailMessage]]  # the messages each run sent
    snapshots: list[dict[str, list[dict[str, Any]]]]  # the history tables after each run


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture(scope="session")
def claims_story(prefect_harness: None, world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClaimsRun]:
    """The story through `monitor run`, one run per round and one more with nothing new, mail on."""
    inbox = Inbox()
    with mail_server(inbox) as port:
        tmp = tmp_path_factory.mktemp("claims")
        feed = world.url("/claims/feed.xml")
        extra = (
            f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsender = "monitor@example.org"\n'
            'recipients = ["analyst@example.org"]\nsend_history = true\n'
        )
        config = write_config(tmp, [feed], topics={TOPIC: QUERY}, extra=extra)
        text = config.read_text().replace(f"query = '{QUERY}'\n", f"query = '{QUERY}'\nsubject = \"{SUBJECT}\"\n")
        config.write_text(text)
        summaries, digests, snapshots = [], [], []
        for round_no in range(len(ROUNDS) + 1):
            world.publish("/claims/feed.xml", list(ROUNDS[min(round_no, len(ROUNDS) - 1)]))
            before = len(inbox.messages)
            result = CliRunner().invoke(cli.main, ["-c", str(config), "run", "--json"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            summaries.append(json.loads(result.stdout))
            digests.append(inbox.messages[before:])
            snapshots.append(history_tables(database(config)))
        yield ClaimsRun(config, summaries, digests, snapshots)


@contextmanager
def mail_server(inbox: Inbox) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 delivering to `inbox`, for the block; yields its port."""
    with socket.socket() as s:  # Controller checks its port by connecting to it, so it needs a real one
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
