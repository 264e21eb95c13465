"""Tests for monitor.figures in other languages: detection, dictionary forms, Korean and Japanese counts, the
reference story as Korean and Russian outlets would write it, and `monitor figures --lang`. Every sentence here
was written for these tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli, figures
from monitor.figures import cjk, language, lexicon

DATA = Path(__file__).with_name("figures_data")

Fig = tuple[str, int | None, int | None, str]


def found(text: str, lang: str | None = None) -> set[Fig]:
    return {(f.category, f.low, f.high, f.qualifier) for f in figures.find(text, lang)}


# --- Language ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Some 15,000 soldiers were deployed to the front, officials said.", "en"),
        ("По данным разведки, около 600 военнослужащих погибли.", "ru"),
        ("За даними розвідки, близько 600 військових загинули.", "uk"),
        ("국정원은 북한군 약 600명이 사망했다고 밝혔다.", "ko"),
        ("北朝鮮兵約600人が死亡したと発表した。", "ja"),
        ("W wypadku zginęło pięć osób, a dziesięć zostało rannych.", "pl"),
        ("Bei dem Angriff wurden mindestens zwölf Menschen getötet.", "de"),
    ],
)
def test_detects_the_language(text: str, expected: str) -> None:
    assert figures.detect(text)[0] == expected


def test_declared_languages_are_read_as_codes() -> None:
    assert language.declared("en-GB") == "en"
    assert language.declared("ru_RU") == "ru"
    assert language.declared("") is None
    assert language.declared("english") is None


def test_supported_languages() -> None:
    assert {"en", "ru", "uk", "ko", "ja", "de", "es", "fr", "pl"} <= set(figures.SUPPORTED)
    assert figures.supported("ko-KR")
    assert not figures.supported("nl")


def test_a_language_without_a_lexicon_yields_nothing() -> None:
    assert figures.find("Bij de aanval zijn 12 soldaten gedood.", "nl") == []


# --- Dictionary forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("language_code", ["ru", "uk", "pl"])
def test_every_form_of_a_word_meets_its_lexicon_entry(language_code: str) -> None:
    lex = lexicon.load(language_code)
    assert lex.lemma is not None
    forms = {
        "ru": ["погибли", "погибших", "погибшим", "погиб"],
        "uk": ["загинули", "загинуло", "загинув"],
        "pl": ["zginęło", "zginęli", "zginął"],
    }[language_code]
    assert len({lex.lemma(w) for w in forms}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Число погибших возросло до 27.", ("killed", 27, 27, "exact")),
        ("Более 190 военнослужащих получили ранения.", ("wounded", 190, None, "at_least")),
        ("Около 600 солдат погибли под Курском.", ("killed", 600, 600, "approximate")),
        ("Внаслідок удару загинули 12 людей.", ("killed", 12, 12, "exact")),
        # troops taking part in drills or an operation are deployed, in every language's own words
        ("В учениях примут участие 13 тысяч военнослужащих.", ("deployed", 13000, 13000, "exact")),
        ("У навчаннях візьмуть участь 13 тисяч військових.", ("deployed", 13000, 13000, "exact")),
        ("W ćwiczeniach wezmą udział 3 tys. żołnierzy.", ("deployed", 3000, 3000, "exact")),
        ("Unos 13.000 soldados participarán en las maniobras.", ("deployed", 13000, 13000, "approximate")),
        ("Quelque 13 000 soldats participeront aux manœuvres.", ("deployed", 13000, 13000, "approximate")),
        # returned from or held in captivity, with an adjective between ("из украинского плена вернулись")
        ("Из российского плена вернулись 90 украинских военных.", ("captured", 90, 90, "exact")),
        ("У російському полоні перебувають понад 5 тисяч українців.", ("captured", 5000, None, "at_least")),
        ("Douze missionnaires ont été enlevés par un gang.", ("captured", 12, 12, "exact")),
        # a part named after its group and a dash ("among the wounded — two children")
        ("Среди раненых — трое детей.", ("wounded", 3, 3, "exact")),
        ("Серед поранених — двоє дітей.", ("wounded", 2, 2, "exact")),
        ("Arriban 800 elementos de la Guardia Nacional a Tijuana.", ("deployed", 800, 800, "exact")),
        # a toll that passed a number is at least that many; people searched for or declared missing
        ("Liczba ofiar śmiertelnych przekroczyła 3 tys.", ("killed", 3000, None, "at_least")),
        ("Ratownicy szukają ponad 30 osób.", ("missing", 30, None, "at_least")),
        ("Cztery osoby uznane są za zaginione.", ("missing", 4, 4, "exact")),
        ("Bojownicy wymordowali ponad 300 osób.", ("killed", 300, None, "at_least")),
        ("Rusia y Ucrania canjearon 90 prisioneros de guerra cada uno.", ("captured", 90, 90, "exact")),
        ("Rosja mobilizuje kolejne 150 tys. żołnierzy.", ("deployed", 150000, 150000, "exact")),
        ("Eksplozja zabiła trzy osoby, a kolejne 12 raniła.", ("wounded", 12, 12, "exact")),
        # "до" after a verb of change gives the value the change reached, it bounds nothing
        ("Литва збільшила контингент на кордоні до 4 тисяч військових.", ("deployed", 4000, 4000, "exact")),
        ("Москва нарастила группировку у границы до 20 тыс. военнослужащих.", ("deployed", 20000, 20000, "exact")),
        ("На навчання прибудуть до 3 тисяч військових.", ("deployed", None, 3000, "at_most")),
        # the bare group as a toll; captivity named by a compound noun
        ("Los heridos ascienden a 31, según Protección Civil.", ("wounded", 31, 31, "exact")),
        ("Rund 300 Soldaten sind in ukrainischer Kriegsgefangenschaft.", ("captured", 300, 300, "approximate")),
    ],
)
def test_inflected_sentences(text: str, expected: Fig) -> None:
    assert expected in found(text)


# --- Korean and Japanese ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("1만5천", 15000),
        ("1만 5000", 15000),
        ("4,700", 4700),
        ("三千", 3000),
        ("1万2千", 12000),
        ("1.5万", 15000),
        ("十二", 12),
        ("3천", 3000),
    ],
)
def test_cjk_numerals(numeral: str, value: int) -> None:
    assert cjk.value(numeral) == value


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("북한은 러시아에 1만1천여 명을 파병했다.", "ko", {("deployed", 11000, None, "at_least")}),
        (
            "사망자는 약 600명, 부상자는 3천 명으로 집계됐다.",
            "ko",
            {("killed", 600, 600, "approximate"), ("wounded", 3000, 3000, "exact")},
        ),
        ("두 명이 숨지고 다섯 명이 다쳤다.", "ko", {("killed", 2, 2, "exact"), ("wounded", 5, 5, "exact")}),
        ("북한군 3-4천 명이 전사하거나 다쳤다.", "ko", {("casualties", 3000, 4000, "range")}),
        ("경찰은 시위대 20명을 체포했다.", "ko", set()),
        # troops leaving for a mission abroad are deployed; troops coming home are not
        ("평화유지군 장병 260명이 인천공항을 통해 출국했다.", "ko", {("deployed", 260, 260, "exact")}),
        ("파견됐던 병력 가운데 900여 명이 본국으로 돌아갔다.", "ko", set()),
        ("수백 명이 다쳤다.", "ko", set()),
        ("地震による死者は三千人を超えた。", "ja", {("killed", 3000, None, "at_least")}),
        ("北朝鮮は1万2千人余りの兵士を派遣した。", "ja", {("deployed", 12000, None, "at_least")}),
        ("作業員5人が武装集団に連れ去られた。", "ja", {("captured", 5, 5, "exact")}),
        ("住民12人が病院に運ばれた。", "ja", {("wounded", 12, 12, "exact")}),
        ("敵兵約300人を排除した。", "ja", {("killed", 300, 300, "approximate")}),
        ("前日だけで敵兵820人を殺傷したと発表した。", "ja", {("casualties", 820, 820, "exact")}),
        ("先遣隊の約300人がすでに現地入りした。", "ja", {("deployed", 300, 300, "approximate")}),
        ("ロシア軍は同方面の兵力を約4万人に増強した。", "ja", {("deployed", 40000, 40000, "approximate")}),
        ("어선 선원 9명 피랍", "ko", {("captured", 9, 9, "exact")}),
        # a sentence opening on a part of the count before takes its category
        (
            "武装集団が技術者5人を拉致した。このうち2人は日本人だという。",
            "ja",
            {("captured", 5, 5, "exact"), ("captured", 2, 2, "exact")},
        ),
        (
            "무장괴한들이 근로자 8명을 납치했다. 이 가운데 3명은 한국인이다.",
            "ko",
            {("captured", 8, 8, "exact"), ("captured", 3, 3, "exact")},
        ),
        # "도중" (during) holds "중" (among) but opens no part; 순직 is a death on duty
        (
            "장병 한 명이 중상을 입었다. 훈련 도중 폭발 사고가 나 장병 두 명이 순직했다.",
            "ko",
            {("wounded", 1, 1, "exact"), ("killed", 2, 2, "exact")},
        ),
        # past a particle, "여" starts the next word ("여전히"): no bound
        ("포로 3명이 여전히 억류돼 있다.", "ko", {("captured", 3, 3, "exact")}),
        ("死者・行方不明者は120人に上る。", "ja", set()),
        ("数百人が避難した。", "ja", set()),
        ("子ども2人を含む25人が負傷した。", "ja", {("wounded", 2, 2, "exact"), ("wounded", 25, 25, "exact")}),
        # a headline ends at its line break with no full stop; a comma right after its count joins the predicate
        (
            "海兵隊員約900人、沖縄へ追加派遣\n詳細は明らかにされていない。",
            "ja",
            {("deployed", 900, 900, "approximate")},
        ),
        ("演習に参加する兵士は約4000人に上る。", "ja", {("deployed", 4000, 4000, "approximate")}),
        ("乗組員2人の行方は依然わかっていない。", "ja", {("missing", 2, 2, "exact")}),
        ("工場の火災で従業員7人がやけどを負った。", "ja", {("wounded", 7, 7, "exact")}),
        (
            "공장 폭발로 1명이 숨지고 4명이 화상을 입었다.",
            "ko",
            {("killed", 1, 1, "exact"), ("wounded", 4, 4, "exact")},
        ),
        # whereabouts unknown; parts listed before a total with "등"/"など" share its predicate
        ("어선 선원 6명의 행방이 묘연하다.", "ko", {("missing", 6, 6, "exact")}),
        (
            "괴한들이 한국인 2명과 현지인 5명 등 7명을 끌고 갔다.",
            "ko",
            {("captured", 2, 2, "exact"), ("captured", 5, 5, "exact"), ("captured", 7, 7, "exact")},
        ),
        # a space between a stem and a count parts a Japanese headline's clauses; "neutralised" is killed
        ("爆発で兵士二人が死亡　三人が重軽傷", "ja", {("killed", 2, 2, "exact"), ("wounded", 3, 3, "exact")}),
        ("敵の兵士約120人を無力化した。", "ja", {("killed", 120, 120, "approximate")}),
        (
            "日本人2人と現地職員5人など7人が拉致された。",
            "ja",
            {("captured", 2, 2, "exact"), ("captured", 5, 5, "exact"), ("captured", 7, 7, "exact")},
        ),
        (
            "북한군 약 2천 명 추가 파병\n정부는 구체적인 경로를 밝히지 않았다.",
            "ko",
            {("deployed", 2000, 2000, "approximate")},
        ),
    ],
)
def test_korean_and_japanese(text: str, lang: str, expected: set[Fig]) -> None:
    assert found(text, lang) == expected


# --- The reference story in three languages -----------------------------------------------------------------

STORY = {
    ("deployed", 15000, 15000, "approximate"),
    ("casualties", 4700, 4700, "approximate"),
    ("killed", 600, 600, "approximate"),
}


@pytest.mark.parametrize(("name", "claimant"), [("ko", "한국 정보당국"), ("ru", "южнокорейской разведки")])
def test_reference_story_as_korean_and_russian_outlets_write_it(name: str, claimant: str) -> None:
    text = (DATA / f"reference_story_{name}.txt").read_text(encoding="utf-8")
    assert figures.detect(text)[0] == name
    result = figures.find(text)
    assert {(f.category, f.low, f.high, f.qualifier) for f in result} == STORY
    assert {f.claimant for f in result} == {claimant}


# --- The command --------------------------------------------------------------------------------------------


def test_cli_lang_and_detection() -> None:
    runner = CliRunner()
    result = runner.invoke(cli.main, ["figures", "--lang", "ru", "Около 600 военнослужащих погибли."])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["low"] == 600
    result = runner.invoke(cli.main, ["figures", "북한군 약 600명이 사망했다."])
    assert json.loads(result.output.splitlines()[0])["category"] == "killed"


def test_cli_says_once_when_a_language_has_no_lexicon() -> None:
    lines = "\n".join(
        json.dumps({"id": i, "text": "Bij de aanval zijn 12 soldaten gedood, meldt de politie."}) for i in range(3)
    )
    monitor = Path(sys.executable).with_name("monitor")
    proc = subprocess.run([str(monitor), "figures", "--jsonl"], input=lines, capture_output=True, text=True, check=True)
    assert [json.loads(line)["figures"] for line in proc.stdout.splitlines()] == [[], [], []]
    assert proc.stderr.count("no figures are found in language 'nl'") == 1
    assert "Traceback" not in proc.stderr


def test_cli_rejects_a_bad_language_code() -> None:
    result = CliRunner().invoke(cli.main, ["figures", "--lang", "klingon!", "text"])
    assert result.exit_code != 0
    assert "--lang" in result.output and "expected a language code" in result.output


def test_the_first_half_of_two_age_compounds_is_no_count() -> None:
    # "16- i 17-latka": two ages sharing one noun, nobody counted
    assert not figures.find("Policja szuka 15- i 17-latka podejrzanych o pobicie.", "pl")
    assert not figures.find("Police are looking for 15- and 16-year-old suspects.", "en")


def test_each_side_is_no_count() -> None:
    assert {f.low for f in figures.find("Rusia y Ucrania canjearon 90 prisioneros de guerra cada uno.", "es")} == {90}


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # half of an approximate number word
        ("Medio centenar de personas resultaron heridas en el tiroteo.", "es", {("wounded", 50, "approximate")}),
        ("Half a dozen people were killed in the fire.", "en", {("killed", 6, "approximate")}),
        # the approximate count of a scale
        ("Le pays a déployé une dizaine de milliers de soldats.", "fr", {("deployed", 10000, "approximate")}),
        # nationalities are people: the part of the abducted
        (
            "Bewaffnete haben sieben Helfer verschleppt, darunter zwei Deutsche.",
            "de",
            {("captured", 7, "exact"), ("captured", 2, "exact")},
        ),
        # held against their will by an armed group
        ("Disidencias armadas retienen a 31 militares en una vereda.", "es", {("captured", 31, "exact")}),
        # freed or brought home after a sentence about captivity, with the parts among them
        (
            "Екіпаж судна утримували в заручниках. Пірати звільнили 14 моряків, серед них четверо українців.",
            "uk",
            {("captured", 14, "exact"), ("captured", 4, "exact")},
        ),
        # freed with no word of captivity anywhere: no captives
        ("Суд звільнив 14 працівників від штрафів.", "uk", set()),
        # "eliminated" is killed in every language; "taken prisoner" with the separable verb's particle alone
        ("Die Brigade hat nach eigenen Angaben 64 Angreifer ausgeschaltet.", "de", {("killed", 64, "exact")}),
        ("Rebellen nehmen rund 150 Regierungssoldaten gefangen", "de", {("captured", 150, "approximate")}),
        # reservists called up are mobilised: deployed
        ("イスラエル軍は予備役約3万人を招集した。", "ja", {("deployed", 30000, "approximate")}),
        ("Ещё пятеро охранников получили огнестрельные ранения.", "ru", {("wounded", 5, "exact")}),
    ],
)
def test_captives_and_halves(text: str, lang: str, expected: set[tuple[str, int, str]]) -> None:
    assert {(f.category, f.low, f.qualifier) for f in figures.find(text, lang)} == expected


@pytest.mark.parametrize(
    ("text", "lang", "claimant"),
    [
        # an account named by whose it is: a compound, or an adjective before the noun
        ("In Belgorod sind nach Behördenangaben 17 Menschen verletzt worden.", "de", "Behördenangaben"),
        ("Dort werden nach Kiewer Angaben mehr als 6.000 Kriegsgefangene festgehalten.", "de", "Kiewer Angaben"),
        # the subject's own account stays the subject's
        ("Die Armee will nach eigenen Angaben 2.100 Soldaten getötet haben.", "de", "Die Armee"),
        # an indefinite article opening the source after the verb
        ("Die Zahl der Verletzten liegt bei 87, sagte ein Sprecher der Armee.", "de", "ein Sprecher der Armee"),
        ("Al menos 12 personas murieron, dijo un portavoz de la policía.", "es", "un portavoz de la policía"),
        # a lower-case source closing the clause, with its place or body after a preposition
        ("Трое военных погибли при ударе, сообщил источник в командовании.", "ru", "источник в командовании"),
        ("Четверо військових загинули внаслідок удару, повідомило джерело в штабі.", "uk", "джерело в штабі"),
        # a source named with its seat
        (
            "Rund 900 Soldaten sind in Estland, wie das Heeresamt in Koblenz mitteilte.",
            "de",
            "das Heeresamt in Koblenz",
        ),
        # a sentence pointing back names the source of the one before it
        ("Rund 600 Soldaten werden nach Rumänien verlegt. Das teilte das Heeresamt mit.", "de", "das Heeresamt"),
        ("При обстреле погибли четыре человека. Об этом сообщил мэр города.", "ru", "мэр города"),
        ("Внаслідок удару поранено сімох людей. Про це повідомила обласна прокуратура.", "uk", "обласна прокуратура"),
        ("Once mineros murieron en el derrumbe. Así lo confirmó la fiscalía regional.", "es", "la fiscalía regional"),
        ("W pożarze zginęły cztery osoby. O tym poinformowała straż pożarna.", "pl", "straż pożarna"),
        ('"병사 300명이 숨졌다"\n합참은 이날 브리핑에서 이같이 밝혔다.', "ko", "합참"),
        # a source pointing back is the body named before: "según el organismo"
        (
            "La Defensa Civil de Bahía publicó su balance. Según el organismo, 14 personas murieron en las lluvias.",
            "es",
            "La Defensa Civil de Bahía",
        ),
        # the source continues to the figures after it
        ("Trzy osoby zginęły, podała policja. Kolejne dwie zostały ranne.", "pl", "policja"),
        ("민간인 5명이 숨졌다고 주 당국이 밝혔다. 부상자 가운데 2명은 위독하다.", "ko", "주 당국"),
    ],
)
def test_claimants_in_other_languages(text: str, lang: str, claimant: str) -> None:
    assert {f.claimant for f in figures.find(text, lang)} == {claimant}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # listed or registered as missing; people still searched for
        ("More than 3,000 civilians are registered as missing.", {("missing", 3000, None)}),
        ("Four climbers are still being searched for.", {("missing", 4, 4)}),
        # captives still in their captors' hands, after a sentence about the kidnapping
        (
            "Gunmen kidnapped 15 farmers on Sunday. Six were freed overnight, while nine remain in the hands of "
            "the gang.",
            {("captured", 15, 15), ("captured", 6, 6), ("captured", 9, 9)},
        ),
        # a bare toll noun takes the category of the count before it in the text
        (
            "The army has suffered more than 900 casualties, a US official said. Another agency put the figure at "
            "about 700.",
            {("casualties", 900, None), ("casualties", 700, 700)},
        ),
        (
            "Eight people died in the blast. A doctor said the number was at least 14.",
            {("killed", 8, 8), ("killed", 14, None)},
        ),
        ("The sales figure hit 5,000 after two people died.", {("killed", 2, 2)}),
        # a sentence opening on a part of the figure before it; a speaker or people found alive are no part
        (
            "Fifteen hostages escaped from a rebel camp. Eight of them were children.",
            {("captured", 15, 15), ("captured", 8, 8)},
        ),
        (
            "Gunmen killed 40 villagers, residents said. One of them said he had buried 43 bodies.",
            {("killed", 40, 40), ("killed", 43, 43)},
        ),
        ("Eight people were missing; three of them were later found alive.", {("missing", 8, 8)}),
        # a group that mourns its members counts its dead
        ("Hezbollah mourned four of its fighters on Sunday.", {("killed", 4, 4)}),
        # electrocuted people are dead; suspects who give themselves up are arrested, not captives
        ("Three workers were electrocuted when a crane touched a power line.", {("killed", 3, 3)}),
        (
            "Robbers took six people hostage in a bank. All six were released. Three suspects gave themselves up.",
            {("captured", 6, 6)},
        ),
        # a headline's "hijack" speaks of captivity for the crew held in the body
        (
            "Pirates hijack tanker off Yemen\nTwenty-one crew members are being held aboard the ship.",
            {("captured", 21, 21)},
        ),
    ],
)
def test_missing_and_held_wordings(text: str, expected: set[tuple[str, int, int | None]]) -> None:
    assert {(f.category, f.low, f.high) for f in figures.find(text, "en")} == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # "до" after a link that is no change bounds the count ("up to"); after a verb of change it is the value reached
        ("Потери противника составили до 210 военнослужащих.", "ru", {("casualties", None, 210)}),
        ("Число погибших выросло до 45.", "ru", {("killed", 45, 45)}),
        ("Втрати ворога склали до 900 осіб.", "uk", {("casualties", None, 900)}),
        # a range after such a link stays a range; after a verb of change the toll's value is the new one
        ("Потери убитыми могут составлять от 190 до 250 тыс. человек.", "ru", {("killed", 190000, 250000)}),
        ("Число погибших выросло с 40 до 45.", "ru", {("killed", 45, 45)}),
        # one and a half of a scale; a scale then digits below it (Mexican press)
        ("Погибли полторы тысячи человек.", "ru", {("killed", 1500, 1500)}),
        ("Загинули півтори тисячі людей.", "uk", {("killed", 1500, 1500)}),
        ("Al menos mil 200 personas murieron.", "es", {("killed", 1200, None)}),
        # troops going home are a withdrawal
        ("Близько 800 військових повертаються додому.", "uk", set()),
    ],
)
def test_up_to_after_a_toll_link(text: str, lang: str, expected: set[tuple[str, int | None, int | None]]) -> None:
    assert {(f.category, f.low, f.high) for f in figures.find(text, lang)} == expected
