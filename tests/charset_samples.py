"""Charset samples: short news items written for the project in nine languages, each served in a legacy
encoding that only the HTTP Content-Type header names (no XML encoding declaration, no <meta charset>).

Each sample is a feed item and its page; the tests check that what is stored equals these strings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

# Real pages carry kilobytes of ASCII script around a little text; a guess from the bytes, which is all the
# extractor has without the header, mostly sees the script.
_SCRIPT = "\n".join(f"window.dataLayer.push({{'event': 'view', 'slot': {i}, 'section': 'news'}});" for i in range(120))


@dataclass(frozen=True)
class Sample:
    slug: str
    label: str  # the charset label the server sends, as real servers spell it
    codec: str  # the Python codec the fixture bytes are written with
    lang: str  # ISO 639-1 code of the text
    feed_title: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    media_type: str = "application/rss+xml"
    atom: bool = False
    declare_lang: bool = False  # <html lang="..."> on the page

    @property
    def text(self) -> str:
        """The article body as the extractor gives it: the headline and the paragraphs, one a line."""
        return "\n".join((self.title, *self.paragraphs))

    def content_type(self, media_type: str) -> str:
        return f"{media_type}; charset={self.label}"

    def page(self) -> bytes:
        """The article page, in the sample's encoding, with no <meta charset>."""
        lang = f' lang="{self.lang}"' if self.declare_lang else ""
        paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        doc = f"""<!DOCTYPE html>
<html{lang}><head><title>{html.escape(self.title)}</title>
<meta property="og:title" content="{html.escape(self.title)}">
<script>{_SCRIPT}</script></head>
<body><main><article><h1>{html.escape(self.title)}</h1>
{paras}
</article></main>
<footer><p>(c) Test Gazette</p></footer><script>{_SCRIPT}</script></body></html>"""
        return doc.encode(self.codec)

    def feed(self, page_url: str) -> bytes:
        """The feed listing the page, in the sample's encoding, with no encoding in its XML declaration."""
        title, summary, feed_title = (html.escape(v) for v in (self.title, self.summary, self.feed_title))
        link = html.escape(page_url)
        if self.atom:
            doc = f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{feed_title}</title><id>urn:charset:{self.slug}</id>
<updated>2026-11-20T08:00:00Z</updated>
<entry><title>{title}</title><link href="{link}"/><id>urn:charset:{self.slug}:1</id>
<updated>2026-11-20T08:00:00Z</updated><summary>{summary}</summary></entry></feed>"""
        else:
            doc = f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>{feed_title}</title><link>http://charset.test/</link>
<description>charset</description>
<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">{self.slug}-1</guid>
<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate><description>{summary}</description></item>
</channel></rss>"""
        return doc.encode(self.codec)


SAMPLES = (
    Sample(
        "euc-kr",
        "EUC-KR",
        "euc_kr",
        "ko",
        "한빛 일보",
        "북한군 파병 소식에 국제사회 우려 커져",
        "정부는 오늘 오전 긴급 안보회의를 열었다.",
        (
            "정부는 오늘 오전 국가안전보장회의를 열고 북한군의 해외 파병 동향을 점검했다고 밝혔다.",
            "회의에 참석한 관계자들은 추가 병력 이동 가능성에 대비해 동맹국과의 정보 공유를 강화하기로 했다.",
            "전문가들은 이번 사태가 한반도 정세에 장기적인 영향을 미칠 수 있다고 경고했다.",
        ),
    ),
    Sample(
        "koi8-r",
        "koi8-r",
        "koi8_r",
        "ru",
        "Вечерние известия",
        "Наводнение на реке: эвакуированы жители трёх сёл",
        "Спасатели всю ночь вывозили людей из подтопленных домов.",
        (
            "Вода в реке поднялась за ночь почти на два метра, сообщили в местной администрации.",
            "Спасатели вывезли жителей трёх прибрежных сёл в школу районного центра, где для них развернули "
            "пункт временного размещения.",
            "Синоптики ожидают, что уровень воды начнёт снижаться не раньше пятницы.",
        ),
        declare_lang=True,
    ),
    Sample(
        "windows-1251",
        "windows-1251",
        "cp1251",
        "uk",
        "Міські новини",
        "У Києві відкрили нову бібліотеку для дітей",
        "Бібліотека працюватиме щодня, крім понеділка.",
        (
            "Міська рада повідомила, що нова дитяча бібліотека працюватиме щодня, крім понеділка.",
            "У фонді є понад двадцять тисяч книжок, зокрема видання українських письменників для найменших читачів.",
            "Ґанок будівлі відремонтували волонтери, які зібрали кошти за два місяці.",
        ),
        media_type="text/xml",
    ),
    Sample(
        "shift_jis",
        "Shift_JIS",
        "shift_jis",
        "ja",
        "首都圏ニュース",
        "東京で記録的な大雪、交通機関に乱れ",
        "都心の積雪は十五センチに達した。",
        (
            "気象庁によると、東京都心では昨夜から雪が降り続き、積雪は十五センチに達した。",
            "鉄道各社は始発から運転本数を減らし、多くの駅で通勤客が長い列を作った。",
            "交通当局は、不要不急の外出を控えるよう呼びかけている。",
        ),
        atom=True,
        media_type="application/atom+xml",
    ),
    Sample(
        "big5",
        "big5",
        "big5",
        "zh",
        "北城日報",
        "台北市舉辦國際書展 吸引大批民眾參觀",
        "今年共有來自三十多個國家的出版社參展。",
        (
            "主辦單位表示，今年共有來自三十多個國家的出版社參展，展期為六天。",
            "許多家長帶著孩子前來選購童書，部分熱門攤位在開館後不久便大排長龍。",
            "書展期間還將舉辦多場作家座談會與新書發表活動。",
        ),
    ),
    Sample(
        "iso-8859-2",
        "ISO-8859-2",
        "iso8859_2",
        "pl",
        "Gazeta Pomorska Testowa",
        "Gdańsk: żółta kartka dla wykonawcy mostu",
        "Miasto nałożyło karę za opóźnienia przy przebudowie mostu.",
        (
            "Miasto nałożyło na firmę budowlaną karę za opóźnienia przy przebudowie mostu nad Motławą.",
            "Według urzędników prace miały zakończyć się jesienią, jednak ukończono dopiero połowę konstrukcji.",
            "Wykonawca tłumaczy, że zimą brakowało mu pracowników i stali, a dostawy przychodziły z opóźnieniem.",
        ),
        atom=True,
        media_type="application/atom+xml",
    ),
    Sample(
        "gb2312",
        "gb2312",
        "gb2312",
        "zh",
        "申城晚报",
        "上海地铁新线路今日开通运营",
        "新线路全长二十八公里，共设十九座车站。",
        (
            "新线路全长二十八公里，共设十九座车站，连接城市东部与西部的多个居民区。",
            "开通首日，不少市民早早来到车站，体验新线路带来的便利。",
            "运营方表示，高峰时段列车间隔将缩短至三分钟。",
        ),
    ),
    Sample(
        "euc-jp",
        "EUC-JP",
        "euc_jp",
        "ja",
        "浪速新聞",
        "大阪の商店街で夏祭り、三年ぶりに開催",
        "会場は浴衣姿の家族連れでにぎわった。",
        (
            "地元の商店会は、感染症対策のため中止していた夏祭りを三年ぶりに開催した。",
            "会場には屋台が並び、浴衣姿の家族連れや観光客でにぎわった。",
            "主催者は来年も規模を拡大して続けたいと話している。",
        ),
    ),
    Sample(
        "windows-1252",
        "windows-1252",
        "cp1252",
        "fr",
        "Le Quotidien d’Essai",
        "Grève à la SNCF : « des perturbations jusqu’à jeudi »",
        "Les syndicats appellent à une grève reconductible dès mardi.",
        (
            "Les syndicats de cheminots ont appelé à une grève reconductible à partir de mardi, selon un "
            "communiqué publié ce matin.",
            "La direction prévoit « un train sur deux » sur les lignes à grande vitesse et conseille aux voyageurs "
            "de reporter leurs déplacements.",
            "Le ministre des Transports a dit qu’il recevrait les représentants du personnel dès lundi ; le cœur "
            "du conflit reste la réforme des retraites.",
        ),
    ),
)

# The six the acceptance names, at least.
REQUIRED = ("EUC-KR", "koi8-r", "windows-1251", "Shift_JIS", "big5", "ISO-8859-2")
