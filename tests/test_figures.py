"""Tests for monitor.figures: every rule of shared/figures/GUIDELINE.md, with examples written for them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from monitor import figures
from monitor.figures import evaluate

DEV = Path(__file__).parents[2] / "shared/figures/dev.jsonl"
REFERENCE = Path(__file__).parents[2] / "shared/seed/reference-story.txt"
# Quality gate floors (shared/figures targets).
MIN_PRECISION = 0.97
MIN_RECALL = 0.95

Fig = tuple[str, int | None, int | None, str]


def found(text: str) -> set[Fig]:
    return {(f.category, f.low, f.high, f.qualifier) for f in figures.find(text)}


def only(text: str) -> figures.Figure:
    result = figures.find(text)
    assert len(result) == 1, result
    return result[0]


# --- Interface -------------------------------------------------------------------------------------------


def test_interface() -> None:
    assert figures.CATEGORIES == ("killed", "wounded", "casualties", "captured", "missing", "deployed")
    assert isinstance(figures.VERSION, str) and figures.VERSION
    fig = only("Officials said 12 soldiers were killed.")
    assert dataclasses.is_dataclass(fig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fig.low = 3  # type: ignore[misc]
    assert set(fig.to_dict()) == {
        "category",
        "low",
        "high",
        "qualifier",
        "who",
        "quote",
        "start",
        "end",
        "claimant",
    }
    assert json.loads(json.dumps(fig.to_dict()))["low"] == 12


def test_empty_and_figureless_text() -> None:
    assert figures.find("") == []
    assert figures.find("The weather was mild and markets rose.") == []


# --- Categories and their trigger words --------------------------------------------------------------------

CATEGORY_CASES: list[tuple[str, set[Fig]]] = [
    # killed: killed, dead, deaths, fatalities, died, death toll, bodies found, shot dead, lost their lives
    ("A drone strike killed 14 villagers near the river.", {("killed", 14, 14, "exact")}),
    ("Nine people were killed when the bridge collapsed.", {("killed", 9, 9, "exact")}),
    ("Floods leave 31 dead in the north.", {("killed", 31, 31, "exact")}),
    ("The storm caused 212 deaths across three provinces.", {("killed", 212, 212, "exact")}),
    ("Police reported 6 fatalities after the pile-up.", {("killed", 6, 6, "exact")}),
    ("Eleven miners died underground on Tuesday.", {("killed", 11, 11, "exact")}),
    ("The death toll from the quake rose to 1,203 on Friday.", {("killed", 1203, 1203, "exact")}),
    ("Rescuers said 17 bodies were found in the rubble.", {("killed", 17, 17, "exact")}),
    ("Two guards were shot dead at the checkpoint.", {("killed", 2, 2, "exact")}),
    ("At least 40 passengers lost their lives in the ferry disaster.", {("killed", 40, None, "at_least")}),
    # wounded: wounded, injured, hurt, hospitalised with injuries
    ("Shelling wounded 23 civilians in the town.", {("wounded", 23, 23, "exact")}),
    ("Fifteen people were injured in the blast.", {("wounded", 15, 15, "exact")}),
    ("Four firefighters were hurt while fighting the blaze.", {("wounded", 4, 4, "exact")}),
    ("Doctors said 37 people were hospitalised with burns.", {("wounded", 37, 37, "exact")}),
    ("After the attack 58 people were treated in hospital.", {("wounded", 58, 58, "exact")}),
    # casualties: the word, killed and wounded together, losses, put out of action
    ("The brigade suffered 320 casualties in a week.", {("casualties", 320, 320, "exact")}),
    ("About 90 soldiers were killed or wounded in the assault.", {("casualties", 90, 90, "approximate")}),
    ("The raid left 45 dead and injured.", {("casualties", 45, 45, "exact")}),
    (
        "The army lost 250 servicemen in the offensive, the ministry said.",
        {("casualties", 250, 250, "exact")},
    ),
    ("Around 700 enemy fighters were put out of action.", {("casualties", 700, 700, "approximate")}),
    ("The gunman shot 8 people at the market.", {("casualties", 8, 8, "exact")}),
    # captured: captured, taken prisoner, prisoners of war, surrendered, abducted, kidnapped, taken hostage
    ("Forces captured 62 soldiers near the village.", {("captured", 62, 62, "exact")}),
    ("Thirty marines were taken prisoner.", {("captured", 30, 30, "exact")}),
    ("Both sides exchanged 150 prisoners of war on Sunday.", {("captured", 150, 150, "exact")}),
    ("Gunmen abducted 25 students from the school.", {("captured", 25, 25, "exact")}),
    ("Some 40 aid workers were kidnapped last year.", {("captured", 40, 40, "approximate")}),
    ("Militants took 12 tourists hostage.", {("captured", 12, 12, "exact")}),
    ("Nearly 300 fighters surrendered to the army.", {("captured", 300, 300, "approximate")}),
    # missing: missing, unaccounted for
    ("Eight fishermen are missing after the storm.", {("missing", 8, 8, "exact")}),
    ("More than 60 people remain unaccounted for.", {("missing", 60, None, "at_least")}),
    # deployed: sent, deployed, dispatched, stationed, massed, mobilised, fighting somewhere
    ("The government sent 2,000 troops to the border region.", {("deployed", 2000, 2000, "exact")}),
    ("Roughly 4,500 soldiers are stationed in the enclave.", {("deployed", 4500, 4500, "approximate")}),
    ("The country has dispatched 800 peacekeepers to the mission.", {("deployed", 800, 800, "exact")}),
    ("Moscow has massed over 90,000 troops near the frontier.", {("deployed", 90000, None, "at_least")}),
    ("The ministry mobilised 25,000 reservists last month.", {("deployed", 25000, 25000, "exact")}),
    (
        "An estimated 6,000 foreign fighters in Idlib are loyal to the group.",
        {("deployed", 6000, 6000, "approximate")},
    ),
    ("The alliance plans to deploy 3,500 soldiers by spring.", {("deployed", 3500, 3500, "exact")}),
]


@pytest.mark.parametrize(("text", "expected"), CATEGORY_CASES)
def test_categories(text: str, expected: set[Fig]) -> None:
    assert found(text) == expected


# --- Values: forms of numbers ------------------------------------------------------------------------------

VALUE_CASES: list[tuple[str, set[Fig]]] = [
    ("15,000 soldiers were deployed to the region.", {("deployed", 15000, 15000, "exact")}),
    ("15 000 soldiers were deployed to the region.", {("deployed", 15000, 15000, "exact")}),
    ("15\u202f000 soldiers were deployed to the region.", {("deployed", 15000, 15000, "exact")}),
    ("15\u00a0000 soldiers were deployed to the region.", {("deployed", 15000, 15000, "exact")}),
    (
        "Nach Angaben des Ministeriums wurden 15.000 Soldaten in die Region verlegt.",
        {("deployed", 15000, 15000, "exact")},
    ),
    ("Unos 15.000 soldados fueron desplegados en la región.", {("deployed", 15000, 15000, "approximate")}),
    ("Some 1.5 million people were injured over the decade.", {("wounded", 1500000, 1500000, "approximate")}),
    ("Seven soldiers were killed.", {("killed", 7, 7, "exact")}),
    ("Twenty-one people died in the crash.", {("killed", 21, 21, "exact")}),
    ("A dozen protesters were injured.", {("wounded", 12, 12, "approximate")}),
    ("One soldier was killed and one wounded.", {("killed", 1, 1, "exact"), ("wounded", 1, 1, "exact")}),
    ("Officials say 11k troops were sent.", {("deployed", 11000, 11000, "exact")}),
    ("Three hundred and five people died.", {("killed", 305, 305, "exact")}),
    ("Two million people were killed in the famine.", {("killed", 2000000, 2000000, "exact")}),
]


@pytest.mark.parametrize(("text", "expected"), VALUE_CASES)
def test_number_forms(text: str, expected: set[Fig]) -> None:
    assert found(text) == expected


# --- Qualifiers --------------------------------------------------------------------------------------------

HEDGES = [
    "about",
    "around",
    "approximately",
    "some",
    "roughly",
    "nearly",
    "almost",
    "an estimated",
    "estimated",
    "reportedly about",
]
LOWER = ["at least", "more than", "over", "upwards of", "no fewer than"]
UPPER = ["up to", "as many as", "fewer than", "less than", "no more than"]


@pytest.mark.parametrize("hedge", HEDGES)
def test_hedges_are_approximate(hedge: str) -> None:
    assert found(f"The attack killed {hedge} 600 people.") == {("killed", 600, 600, "approximate")}


@pytest.mark.parametrize("bound", LOWER)
def test_lower_bounds(bound: str) -> None:
    assert found(f"Shelling wounded {bound} 50 civilians.") == {("wounded", 50, None, "at_least")}


@pytest.mark.parametrize("bound", UPPER)
def test_upper_bounds(bound: str) -> None:
    assert found(f"The army lost {bound} 180 soldiers.") == {("casualties", None, 180, "at_most")}


RANGE_CASES = [
    "Between 10,000 and 12,000 troops were deployed.",
    "10,000-12,000 troops were deployed.",
    "10,000\u201312,000 troops were deployed.",
    "10,000 to 12,000 troops were deployed.",
    "From 10,000 to 12,000 troops were deployed.",
]


@pytest.mark.parametrize("text", RANGE_CASES)
def test_ranges(text: str) -> None:
    assert found(text) == {("deployed", 10000, 12000, "range")}


def test_trailing_bounds() -> None:
    assert found("Floods: 120+ dead in the valley.") == {("killed", 120, None, "at_least")}
    assert found("The blast killed 30 or more workers.") == {("killed", 30, None, "at_least")}


def test_range_shares_scale() -> None:
    assert found("Between 1 and 1.5 million people died.") == {("killed", 1000000, 1500000, "range")}


# --- Several figures, totals and parts -----------------------------------------------------------------

MULTI_CASES: list[tuple[str, set[Fig]]] = [
    (
        "The strike hit a bus, killing 4 civilians and wounding 9.",
        {("killed", 4, 4, "exact"), ("wounded", 9, 9, "exact")},
    ),
    (
        "Officials counted an estimated 2,300 casualties, including around 410 fatalities.",
        {("casualties", 2300, 2300, "approximate"), ("killed", 410, 410, "approximate")},
    ),
    (
        "Around 1,000 killed and 3,000 wounded, the agency said.",
        {("killed", 1000, 1000, "approximate"), ("wounded", 3000, 3000, "exact")},
    ),
    (
        "At least 12 killed, 40 injured in the market bombing.",
        {("killed", 12, None, "at_least"), ("wounded", 40, 40, "exact")},
    ),
    (
        "Three soldiers killed, 5 injured on the northern side; 2 rebels killed, 1 injured on the other.",
        {
            ("killed", 3, 3, "exact"),
            ("wounded", 5, 5, "exact"),
            ("killed", 2, 2, "exact"),
            ("wounded", 1, 1, "exact"),
        },
    ),
    (
        "Four police officers, three civilians killed in the ambush.",
        {("killed", 4, 4, "exact"), ("killed", 3, 3, "exact")},
    ),
    (
        "11 (4 of them children) were injured in the collapse.",
        {("wounded", 11, 11, "exact"), ("wounded", 4, 4, "exact")},
    ),
    (
        "The fire killed 18 people, six of them firefighters.",
        {("killed", 18, 18, "exact"), ("killed", 6, 6, "exact")},
    ),
    (
        "Two more bodies were recovered on Monday, bringing the total to 27.",
        {("killed", 2, 2, "exact"), ("killed", 27, 27, "exact")},
    ),
]


@pytest.mark.parametrize(("text", "expected"), MULTI_CASES)
def test_several_figures(text: str, expected: set[Fig]) -> None:
    assert found(text) == expected


def test_per_side_figures_keep_their_who() -> None:
    result = figures.find("Five Ukrainian soldiers and 3 Russian soldiers were killed overnight.")
    assert {(f.low, f.who) for f in result} == {(5, "Ukrainian soldiers"), (3, "Russian soldiers")}


def test_toll_phrasings() -> None:
    assert found("The death toll rose to 45.") == {("killed", 45, 45, "exact")}
    assert found("45 dead after the ferry capsized.") == {("killed", 45, 45, "exact")}
    assert found("The number of dead has reached 300.") == {("killed", 300, 300, "exact")}
    assert found("The toll soared past 90 overnight.") == {("killed", 90, None, "at_least")}
    assert found("Officials put the number of people injured at about 2,000.") == {
        ("wounded", 2000, 2000, "approximate")
    }


# --- Clarifications ----------------------------------------------------------------------------------------

CLARIFICATION_CASES: list[tuple[str, set[Fig]]] = [
    (
        "Around 500 killed and 2,000 wounded.",
        {("killed", 500, 500, "approximate"), ("wounded", 2000, 2000, "exact")},
    ),
    ("The regiment lost 35 fighters in two days.", {("casualties", 35, 35, "exact")}),
    ("Artillery eliminated 120 soldiers near the bridge.", {("killed", 120, 120, "exact")}),
    ("Guards destroyed 14 soldiers of the assault group.", {("killed", 14, 14, "exact")}),
    ("After the explosion 23 workers were in hospital.", {("wounded", 23, 23, "exact")}),
    ("Nine people were hospitalised after the gas leak.", {("wounded", 9, 9, "exact")}),
    ("A gunman shot 6 people outside the stadium.", {("casualties", 6, 6, "exact")}),
    ("There were 40 victims.", set()),
    ("The death toll of victims climbed to 80.", {("killed", 80, 80, "exact")}),
    ("Divers recovered 5 bodies from the lake.", {("killed", 5, 5, "exact")}),
    ("The seventh body was pulled from the river.", set()),
    ("9 (3 of them soldiers) were wounded.", {("wounded", 9, 9, "exact"), ("wounded", 3, 3, "exact")}),
    ("Britain plans to send 10,000 troops by December.", {("deployed", 10000, 10000, "exact")}),
    ("Kyiv and Moscow swapped 90 prisoners of war.", {("captured", 90, 90, "exact")}),
    ("The two sides returned 48 prisoners of war each.", {("captured", 48, 48, "exact")}),
    ("Some 400 people returned home after the ceasefire.", set()),
    ("The country has an army of 1.2 million active soldiers.", set()),
    ("It fields 438,000 active personnel.", set()),
    ("Air pollution caused 5,400 deaths last year.", {("killed", 5400, 5400, "exact")}),
    ("Cholera has caused 312 deaths since June.", {("killed", 312, 312, "exact")}),
]


@pytest.mark.parametrize(("text", "expected"), CLARIFICATION_CASES)
def test_clarifications(text: str, expected: set[Fig]) -> None:
    assert found(text) == expected


def test_repeated_figure_listed_once() -> None:
    text = "Some 20 people were killed. Rescuers said 20 people were killed in the landslide, police said."
    assert len([f for f in figures.find(text) if f.category == "killed"]) == 1


# --- Not figures --------------------------------------------------------------------------------

NOT_FIGURES = [
    "In 2022 the war began, and fighting continued through 2023.",
    "On March 3, the ministry announced new measures against looting.",
    "Day 412 of the war: fighting continues around the killed commander's hometown.",
    "A 15-year-old was killed in the attack.",
    "Jones, 19, was killed in the crash.",
    "The suspect, aged 34, was shot dead by police.",
    "At 9:30 the soldiers were deployed.",
    "The fund pledged $40 million to families of the killed.",
    "Casualties rose by 12% in the second quarter.",
    "Troops advanced 30 km and killed the commander.",
    "Forces destroyed 12 tanks and 40 drones.",
    "The army lost 7 helicopters in the battle.",
    "About 3,000 protesters marched past the parliament.",
    "Some 12,000 evacuees were housed in schools.",
    "Police arrested 58 people after the riots.",
    "Officials detained 20 suspects after the killings.",
    "Rescuers saved 41 people from the rubble.",
    "There were 16 survivors.",
    "About 200,000 people were without power after the storm.",
    "Voters cast 2 million ballots.",
    "It was the 3rd attack on the convoy; two trucks were destroyed.",
    "Brigade 128 was deployed to the front.",
    "Marking the 80th anniversary, veterans remembered the dead.",
    "Dozens were killed and hundreds wounded.",
    "Thousands of troops were deployed.",
    "Several soldiers died.",
    "A soldier was killed near the border.",
    "His body was found on Monday.",
    "Refugees: 1,000 people fled the fighting in which a soldier was killed.",
    "Several hundred soldiers were wounded.",
    "No one was killed in the blast.",
    "The refinery produced 40,000 barrels after workers were injured.",
    # people a country trains are no deployment
    "Britain has trained more than 20,000 Ukrainian soldiers since 2022.",
    "The mission trains 3,000 Somali troops a year.",
]


@pytest.mark.parametrize("text", NOT_FIGURES)
def test_not_figures(text: str) -> None:
    assert figures.find(text) == []


def test_refugees_rescued_survivors_are_not_counts() -> None:
    assert found("About 2,000 refugees crossed the border; 3 people were killed.") == {("killed", 3, 3, "exact")}


# --- who, quote, offsets, claimant -------------------------------------------------------------------------


def test_who_is_the_counted_noun_phrase() -> None:
    assert only("Roughly 300 North Korean soldiers were killed.").who == "North Korean soldiers"
    assert only("The blast killed 12 people.").who == "people"
    assert only("The death toll rose to 45.").who is None
    assert only("20,000 of his fighters had died.").who == "his fighters"


def test_quote_and_offsets() -> None:
    text = "Prefix text. About 600 soldiers have been killed, the agency said."
    fig = only(text)
    assert text[fig.start : fig.end] == fig.quote
    assert fig.quote == "About 600 soldiers have been killed"
    assert fig.low == fig.high == 600


def test_figures_in_order_of_position() -> None:
    text = "Two were wounded. Later 9 people died. Then 4 soldiers went missing."
    result = figures.find(text)
    assert [f.category for f in result] == ["wounded", "killed", "missing"]
    assert [f.start for f in result] == sorted(f.start for f in result)


CLAIMANT_CASES = [
    ("Reports from the regional police indicate that 14 people were killed.", "the regional police"),
    ("According to the health ministry, 31 people died.", "the health ministry"),
    ("The ministry said 45 people were injured.", "The ministry"),
    ("Zelensky said 31,000 soldiers had been killed.", "Zelensky"),
    ("Some 70 fighters were killed, said Colonel Ivan Petrov.", "Colonel Ivan Petrov"),
    ("At least 20 people were killed, officials said.", "officials"),
    ("At least 20 people were killed in the shelling.", None),
    ("Heat waves killed 61,000 people in Europe last summer, a new study finds.", "a new study"),
    ("A coroner ruled that two deaths at the crossing were avoidable.", "A coroner"),
    ("At least nine people were killed in the blast, local media report.", "local media"),
    ("Local media reports of the blast spoke of at least nine people killed.", None),
    ("He said 20 people were killed.", None),
    # a body owned by a name, a common noun's possessive, plurals and units of words for a source
    ("Eleven workers were injured in the blast, Chile's civil defence said.", "Chile's civil defence"),
    ("About 300 people have died in the floods, the country's disaster agency said.", "the country's disaster agency"),
    ("Rights groups say at least 85 protesters have been killed.", "Rights groups"),
    ("An artillery unit said its gunners had killed 14 soldiers.", "An artillery unit"),
    # a person described by a relative clause; a document's author; a deed owned is no count asserted
    ("Nine people were killed, a police officer who spoke on condition of anonymity said.", "a police officer"),
    ("Soldiers killed 17 villagers, according to a new report by Human Rights Watch.", "Human Rights Watch"),
    ("The group claimed responsibility for a bombing that killed 12 people.", None),
    # a longer lower-case phrase whose head is a word for a source
    (
        "Nine people died in the blast, the state emergency management agency said.",
        "the state emergency management agency",
    ),
    ("Two seminarians were abducted, the diocese said.", "the diocese"),
    # the toll in a relative clause is a given; the claim is about the fire
    ("A warehouse fire that killed 4 workers was started deliberately, investigators say.", None),
    # a subject that closes the clause after a comma is its source, whatever its head
    (
        "Six workers died when a wall gave way at the depot, the port authority's safety board said.",
        "the port authority's safety board",
    ),
    (
        "Six workers died when a wall gave way at the depot, the municipal corporation said.",
        "the municipal corporation",
    ),
    ("Eight soldiers were killed in the ambush, the army's media wing said on Sunday.", "the army's media wing"),
    (
        "Forty people were killed when a drone hit the market, a local emergency response room said, blaming the army.",
        "a local emergency response room",
    ),
    # a unit named with an ordinal; sources counted; a title over a body; "since" is a time, not a new clause
    ("Ukraine's 47th brigade said 23 Russian soldiers had surrendered.", "Ukraine's 47th brigade"),
    (
        "About 400 foreign fighters have been deployed to Darfur, according to two people familiar with the matter.",
        "two people familiar",
    ),
    ("Three senior security officials said 15,000 troops had been moved.", "Three senior security officials"),
    (
        "A drone hit a bus in Kherson, wounding 6 people, the head of the regional military administration said.",
        "the head of the regional military administration",
    ),
    ("The ministry said 3,400 people had been killed since the war began.", "The ministry"),
    # an aside between the source and its verb
    ("The rebels, in a statement on their website, said they had killed 25 soldiers.", "The rebels"),
    ("A hospital spokesman, reached by phone, said 14 patients were injured.", "A hospital spokesman"),
    ("Governor Anna Petrova, who visited the site, said 9 people were killed.", "Governor Anna Petrova"),
    # whoever puts, raises or revises a toll gives it
    ("The coast guard put the number of missing at 31.", "The coast guard"),
    ("Disaster officials raised the death toll to 48 on Friday.", "Disaster officials"),
    ("The health ministry gave a lower figure of 12 dead.", "The health ministry"),
    # the whole phrase closing the sentence before its verb
    ("Three guards were killed, officials on both sides said on Monday.", "officials on both sides"),
    (
        "Four children were killed, a local official and the charity Save the Children said.",
        "a local official and the charity Save the Children",
    ),
    (
        "Ten prisoners came home, Ukraine's coordination headquarters for the treatment of prisoners of war said.",
        "Ukraine's coordination headquarters for the treatment of prisoners of war",
    ),
    (
        "A drone wounded 4 people in Odesa, the state news agency Ukrinform is reporting.",
        "the state news agency Ukrinform",
    ),
    # a passive author; a source named with its one-word seat
    ("At least 40 villagers were killed. The figure was given by a local chief.", "a local chief"),
    ("Police in Lagos said 7 people were abducted.", "Police in Lagos"),
]


@pytest.mark.parametrize(
    ("text", "claimants"),
    [
        # a figure without a source continues the source of the figures just before it
        (
            "Shelling killed 6 people in Kherson, the regional governor said. Another 15 were wounded.",
            {(6, "the regional governor"), (15, "the regional governor")},
        ),
        # up to three sentences on, and from a figure that continued it
        (
            "A ferry sank off Lombok, leaving 22 missing, rescuers said. Four bodies have been recovered. "
            "Divers resumed the search on Monday. The navy sent two ships. Another 3 were later confirmed dead.",
            {(22, "rescuers"), (4, "rescuers"), (3, "rescuers")},
        ),
        (
            "A ferry sank off Lombok, leaving 22 missing, rescuers said. Divers resumed the search on Monday. "
            "The weather improved. The navy sent two ships. Another 3 were later confirmed dead.",
            {(22, "rescuers"), (3, None)},
        ),
        # a source named for no figure is not continued: that sentence reports something else
        ("The mayor said the city would rebuild the bridge. At least 5 people were killed.", {(5, None)}),
        # nor across a paragraph
        ("Shelling killed 6 people, the governor said.\n\nAnother 15 were wounded.", {(6, "the governor"), (15, None)}),
        # a sentence pointing back gives the source of the one before it
        ("Nine people were killed in the raid. That is according to the police.", {(9, "the police")}),
        # "it said" after a sentence whose subject names a source and makes no claim: that subject
        (
            "Syria said its forces killed 12 militants. Turkey's defence ministry rejected the account. "
            "It said four of its soldiers had been killed.",
            {(12, "Syria"), (4, "Turkey's defence ministry")},
        ),
        # a vague count opening the sentence before is no source: the one named earlier is
        (
            "Governor Oleh Kiper said 9 people were killed. Several cars caught fire. Two of the dead were "
            "children, he said.",
            {(9, "Governor Oleh Kiper"), (2, "Governor Oleh Kiper")},
        ),
        # a claim verb after "and" shares the sentence's subject
        ("Moldova denied the report and said 3 of its border guards were wounded.", {(3, "Moldova")}),
        # an article alone names no source
        ("The confirmed death toll stands at 5.", {(5, None)}),
        # the previous sentence's closing source reports the event the figure belongs to; not a headline's
        (
            "Ferry sinks off Obock\nA ferry capsized off Obock on Tuesday, the coast guard said. Three bodies were "
            "recovered.",
            {(3, "the coast guard")},
        ),
        ("Flood in Obock, officials say\nThree bodies were recovered on Tuesday.", {(3, None)}),
    ],
)
def test_sources_continue_and_point_back(text: str, claimants: set[tuple[int, str | None]]) -> None:
    assert {(f.low, f.claimant) for f in figures.find(text, "en")} == claimants


@pytest.mark.parametrize(("text", "claimant"), CLAIMANT_CASES)
def test_claimant(text: str, claimant: str | None) -> None:
    assert only(text).claimant == claimant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after a sentence about captives, a bare count released is a part of them
        (
            "Gunmen abducted 11 teachers on Monday, officials said. Three of them were released hours later.",
            {("captured", 11), ("captured", 3)},
        ),
        (
            "Fourteen people were kidnapped from a ranch. Nine were freed the next day.",
            {("captured", 14), ("captured", 9)},
        ),
        (
            "Gunmen kidnapped 20 villagers on Monday. Twelve remain in captivity.",
            {("captured", 20), ("captured", 12)},
        ),
        # people still held: the sentence needs no other word of captivity
        (
            "A gang abducted eight aid workers in March. The other five are still being held.",
            {("captured", 8), ("captured", 5)},
        ),
        # the released, with a part in an aside between them and the verb
        (
            "Sixty Ukrainians, 14 of them civilians, came home in an exchange with Russia on Monday.",
            {("captured", 60), ("captured", 14)},
        ),
        # freed people of no captive noun, after a sentence about their abduction
        (
            "Gunmen abducted the crew of a fishing boat last week. The navy freed the 9 fishermen on Sunday.",
            {("captured", 9)},
        ),
        # parts of the released, named by the group ("those freed"), after a sentence about captivity
        (
            "Russia and Ukraine swapped 95 prisoners of war each. Those freed included 81 soldiers.",
            {("captured", 95), ("captured", 81)},
        ),
        # a hijacked ship's crew, freed
        (
            "Pirates have freed the 19 crew members of a tanker hijacked off Somalia in May, its operator said.",
            {("captured", 19)},
        ),
        # a date's abbreviated month is no count: "since Oct. 7"
        (
            "Hostages were taken in the raid. Eleven Israelis held in Gaza since Oct. 7 were released on Friday.",
            {("captured", 11)},
        ),
        # not without such a sentence, and not a release from hospital
        ("Nine were released the next day after questioning.", set()),
        ("Two were released from hospital. Those released included 5 children.", set()),
        ("Five are still being held in the county jail.", set()),
        ("The club freed the 9 players from their contracts.", set()),
        ("Two hostages were freed. Three were released from hospital on Monday.", {("captured", 2)}),
    ],
)
def test_a_release_after_a_sentence_about_captives_counts_captives(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


HEADLINE_CASES = [
    # the body states the headline's figure again with its source: that source, not the headline's short one
    (
        "Pyongyang has sent 2,000 more troops, Seoul says\nNorth Korea has sent about 2,000 more soldiers to the "
        "front, South Korea's spy agency told lawmakers on Tuesday.",
        {("deployed", 2000): "South Korea's spy agency"},
    ),
    # the headline names no source; the lead does, for the same event
    (
        "Ferry fire kills 9 off Sulawesi\nA fire broke out on a passenger ferry near Bitung overnight, and nine "
        "people died after jumping into the sea, the provincial rescue agency said.",
        {("killed", 9): "the provincial rescue agency"},
    ),
    # a headline without a body keeps its own source; one without any keeps none
    ("Strike kills 12 in Sumy, governor says", {("killed", 12): "governor"}),
    ("Strike kills 12 in Sumy\nThe missiles hit the centre on Sunday morning.", {("killed", 12): None}),
    # Korean: the lead's source, for the headline's count
    (
        "북한군 3천 명 추가 파병\n국가정보원은 북한이 러시아에 약 3천 명을 추가로 보냈다고 밝혔다.",
        {("deployed", 3000): "국가정보원"},
    ),
]


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("화재로 최소 12명이 숨졌다고 소방당국이 14일 밝혔다.", "소방당국"),
        ("부상자가 30명으로 늘었다고 현지 경찰이 2일(현지시간) 밝혔다.", "현지 경찰"),
        ("兵士5人が負傷したと防衛省が3日発表した。", "防衛省"),
    ],
)
def test_the_day_of_a_statement_between_source_and_verb_keeps_the_source(text: str, source: str) -> None:
    assert only(text).claimant == source


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("Die Armee will nach eigenen Angaben binnen einer Woche 900 Kämpfer getötet haben.", "Die Armee"),
        (
            "Am Montag haben ukrainische Fallschirmjäger nach eigenen Angaben zwölf russische Soldaten gefangen "
            "genommen.",
            "ukrainische Fallschirmjäger",
        ),
    ],
)
def test_by_its_own_account_the_subject_is_the_source(text: str, source: str) -> None:
    assert {f.claimant for f in figures.find(text, "de")} == {source}


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("Zginęło pięć osób - poinformowała w niedzielę straż pożarna.", "straż pożarna"),
        ("Rosja wysłała 30 tysięcy żołnierzy - ostrzegł szef wywiadu.", "szef wywiadu"),
    ],
)
def test_a_time_between_a_polish_claim_verb_and_its_subject_is_skipped(text: str, source: str) -> None:
    assert {f.claimant for f in figures.find(text, "pl")} == {source}


@pytest.mark.parametrize(("text", "expected"), HEADLINE_CASES)
def test_a_headline_figure_takes_its_source_from_the_body(text: str, expected: dict[tuple[str, int], str]) -> None:
    got = {(f.category, f.low): f.claimant for f in figures.find(text)}
    assert {k: got.get(k, "missing") for k in expected} == expected, got


@pytest.mark.parametrize("source", ["Local media", "Regional officials", "State media"])
def test_a_claim_verb_that_is_never_a_noun_is_a_claim_after_a_noun_before_word(source: str) -> None:
    # "media reports of" keeps "reports" a noun; "say" is never one
    assert only(f"{source} say eleven miners have been killed in a gas blast").claimant == source


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # an initialism is one word: "U.S." does not end the counted noun phrase
        ("The Pentagon will send 1,200 U.S. troops to Poland.", ("deployed", 1200, 1200)),
        ("Three U.K. sailors were injured in the fire.", ("wounded", 3, 3)),
        # a unit's strength in a sentence about sending; drills held with a number of troops; the number of
        # troops named by a two-word noun
        ("Britain will send a 300-strong engineering unit to Estonia.", ("deployed", 300, 300)),
        ("The two navies opened joint exercises with about 1,200 personnel.", ("deployed", 1200, 1200)),
        ("The new rotation raises the number of American service members there to 3,100.", ("deployed", 3100, 3100)),
        # "up to" after a verb of change gives the value reached; a part that died; bodies are the dead
        ("Officials revised the number of injured up to 87.", ("wounded", 87, 87)),
        ("Twenty people were shot at the festival, three of them fatally.", ("killed", 3, 3)),
        ("Russia handed over the bodies of 41 soldiers in the exchange.", ("killed", 41, 41)),
    ],
)
def test_a_count_gets_its_one_category(text: str, key: tuple[str, int, int]) -> None:
    found = {(f.category, f.low, f.high) for f in figures.find(text)}
    assert key in found
    assert not [k for k in found if k[1:] == key[1:] and k != key]  # no other category for the same count


def test_troops_named_as_a_part_of_the_dead_are_killed_not_deployed() -> None:
    text = "At least 25 people were killed in fighting in the province, including 9 security personnel."
    assert {(f.category, f.low) for f in figures.find(text)} == {("killed", 25), ("killed", 9)}


def test_a_preposition_inside_a_named_source() -> None:
    found = figures.find("Eleven people died in the floods, the Ministry of Emergency Situations said.")
    assert [f.claimant for f in found] == ["the Ministry of Emergency Situations"]


def test_an_initial_value_a_toll_was_raised_from_is_listed() -> None:
    text = "Nine people were killed in the landslide, officials said, raising the toll from an initial five."
    assert {(f.category, f.low) for f in figures.find(text)} == {("killed", 9), ("killed", 5)}


def test_bodies_handed_over_are_no_captives() -> None:
    assert not [
        f for f in figures.find("The army handed over 41 bodies of enemy soldiers.") if f.category == "captured"
    ]


def test_troops_pulled_from_a_base_are_no_deployment() -> None:
    assert not figures.find("The US will pull about 700 troops from the base this year.")


def test_a_strong_unit_outside_a_deployment_is_no_figure() -> None:
    assert not figures.find("The 4,000-strong army of the island held a parade.")


def test_an_armys_target_size_is_no_deployment() -> None:
    text = "The navy recruited 3,100 sailors last year, short of its goal of 4,000."
    assert not [f for f in figures.find(text) if f.category == "deployed" and f.low == 4000]


def test_a_source_that_closes_the_clause_after_a_semicolon_covers_the_whole_sentence() -> None:
    text = "Nine people were killed in the crash; six others were taken to hospital, firefighters said."
    assert {(f.category, f.claimant) for f in figures.find(text)} == {
        ("killed", "firefighters"),
        ("wounded", "firefighters"),
    }
    # a clause whose claim comes before its own number speaks only for that number
    text = "Rebels say 40 soldiers died in the assault; the army says eight."
    assert {(f.low, f.claimant) for f in figures.find(text) if f.category == "killed"} == {(40, "Rebels")}


def test_a_headline_figure_takes_the_source_of_the_body_that_restates_it() -> None:
    text = (
        "Shelling kills 8 villagers near the border. The regional governor says the shelling killed at least "
        "8 villagers overnight."
    )
    assert {(f.qualifier, f.claimant) for f in figures.find(text)} == {
        ("exact", "The regional governor"),
        ("at_least", "The regional governor"),
    }


def test_a_restated_number_in_another_category_lends_no_source() -> None:
    text = "Flood leaves 12 missing in the hills. Police said 12 bodies were recovered downstream later."
    by_category = {f.category: f.claimant for f in figures.find(text)}
    assert by_category == {"missing": None, "killed": "Police"}


# --- Reference story and evaluation ---------------------------------------------------------------------


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference story not found at {REFERENCE}")
def test_reference_story() -> None:
    result = figures.find(REFERENCE.read_text(encoding="utf-8"))
    assert {(f.category, f.low, f.high, f.qualifier) for f in result} == {
        ("deployed", 15000, 15000, "approximate"),
        ("casualties", 4700, 4700, "approximate"),
        ("killed", 600, 600, "approximate"),
    }
    assert len(result) == 3
    assert {f.claimant for f in result} == {"Seoul's intelligence services"}


def test_score_matches_on_category_low_high_and_honours_optional() -> None:
    gold = [
        {
            "id": "a",
            "source": "s1",
            "figures": [{"category": "killed", "low": 5, "high": 5, "qualifier": "exact"}],
            "optional": [{"category": "wounded", "low": 2, "high": 2, "qualifier": "exact"}],
        },
        {
            "id": "b",
            "source": "s2",
            "figures": [{"category": "deployed", "low": 10, "high": None}],
            "optional": [],
        },
    ]
    predictions = {
        "a": [
            {"category": "killed", "low": 5, "high": 5, "qualifier": "approximate"},
            {"category": "wounded", "low": 2, "high": 2},
        ],
        "b": [{"category": "missing", "low": 1, "high": 1}],
    }
    result = evaluate.score(gold, predictions)
    assert (result["overall"]["tp"], result["overall"]["fp"], result["overall"]["fn"]) == (1, 1, 1)
    assert result["categories"]["killed"]["precision"] == 1.0
    assert result["sources"]["s2"]["recall"] == 0.0
    assert result["qualifier_accuracy"] == 0.0


def test_evaluate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps(
            {
                "id": "x",
                "source": "mine",
                "text": "Nine soldiers were killed.",
                "figures": [{"category": "killed", "low": 9, "high": 9}],
                "optional": [],
            }
        )
        + "\n"
    )
    assert evaluate.main([str(gold), "--errors"]) == 0
    out = capsys.readouterr().out
    assert "overall P=1.000 R=1.000" in out
    assert "src:mine" in out and "cat:killed" in out


@pytest.mark.skipif(not DEV.exists(), reason=f"development set not found at {DEV} (clone shared/ next to the repo)")
def test_quality_gate_on_development_set() -> None:
    rows = evaluate.read_gold(DEV)
    result = evaluate.score(rows, evaluate.predict(rows))
    overall = result["overall"]
    assert overall["precision"] >= MIN_PRECISION, result["errors"]
    assert overall["recall"] >= MIN_RECALL, result["errors"]


# --- More phrasings (rules the guideline implies; see docs/figures.md) -------------------------------------

MORE_CASES: list[tuple[str, set[Fig]]] = [
    ("The avalanche claimed 12 lives.", {("killed", 12, 12, "exact")}),
    ("Some 40 lives were lost at sea.", {("killed", 40, 40, "approximate")}),
    ("Two hostages have died in captivity.", {("killed", 2, 2, "exact")}),
    ("The rebels executed 18 hostages.", {("killed", 18, 18, "exact")}),
    ("Police killed 10 bandits in the forest.", {("killed", 10, 10, "exact")}),
    ("Six of the dead were children.", {("killed", 6, 6, "exact")}),
    (
        "At least 1,400 people were injured, 300 seriously.",
        {("wounded", 1400, None, "at_least"), ("wounded", 300, 300, "exact")},
    ),
    (
        "The US keeps about 900 troops in Syria and 2,500 in Iraq.",
        {("deployed", 900, 900, "approximate"), ("deployed", 2500, 2500, "exact")},
    ),
    ("A total of 1,500 Canadian soldiers serve in Latvia.", {("deployed", 1500, 1500, "exact")}),
    ("The US has 40,000 troops in the Middle East.", {("deployed", 40000, 40000, "exact")}),
    ("Two gunmen killed 5 people.", {("killed", 5, 5, "exact")}),
    ("Rescuers are searching for 40 people after the landslide.", {("missing", 40, 40, "exact")}),
    ("The attack killed 12, injuring 30 more.", {("killed", 12, 12, "exact"), ("wounded", 30, 30, "exact")}),
    (
        "Twelve people, including three children, were killed.",
        {("killed", 12, 12, "exact"), ("killed", 3, 3, "exact")},
    ),
    ("Rebels abducted more than 270 schoolgirls.", {("captured", 270, None, "at_least")}),
    (
        "RT @news: 3 dead, 7 injured in mall shooting #breaking",
        {("killed", 3, 3, "exact"), ("wounded", 7, 7, "exact")},
    ),
    ("The summit on July 11 discussed troop deployments.", set()),
    ("Army has 250,000 soldiers and 3,000 tanks.", set()),
    ("He was sentenced to 30 years for killing his wife.", set()),
]


@pytest.mark.parametrize(("text", "expected"), MORE_CASES)
def test_more_phrasings(text: str, expected: set[Fig]) -> None:
    assert found(text) == expected


LANGUAGE_CASES: list[tuple[str, set[Fig]]] = [
    (
        "Bei dem Angriff wurden mindestens 14 Zivilisten getötet und 30 verletzt.",
        {("killed", 14, None, "at_least"), ("wounded", 30, 30, "exact")},
    ),
    (
        "Die Bundeswehr hat rund 4.500 Soldaten nach Litauen verlegt.",
        {("deployed", 4500, 4500, "approximate")},
    ),
    (
        "El ataque dejó al menos 12 muertos y 40 heridos.",
        {("killed", 12, None, "at_least"), ("wounded", 40, 40, "exact")},
    ),
    ("Más de 3 mil soldados fueron desplegados en la frontera.", {("deployed", 3000, None, "at_least")}),
    (
        "Le bombardement a fait 27 morts et 80 blessés.",
        {("killed", 27, 27, "exact"), ("wounded", 80, 80, "exact")},
    ),
    ("Oltre 200 soldati sono rimasti uccisi o feriti.", {("casualties", 200, None, "at_least")}),
    ("Pelo menos 15 pessoas morreram no ataque.", {("killed", 15, None, "at_least")}),
    ("Na frontu bylo zabito 120 vojáků.", {("killed", 120, 120, "exact")}),
    ("Унаслідок обстрілу загинули три людини, ще 12 поранені.", {("wounded", 12, 12, "exact")}),
]


@pytest.mark.parametrize(("text", "expected"), LANGUAGE_CASES)
def test_other_languages(text: str, expected: set[Fig]) -> None:
    assert expected <= found(text)


def test_docs_example_matches_the_code() -> None:
    docs = Path(__file__).parents[1] / "docs/figures.md"
    block = docs.read_text(encoding="utf-8").split("```python", 1)[1].split("```", 1)[0]
    text = block.split('figures.find("', 1)[1].split('")', 1)[0]
    shown = [line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")]
    actual = [
        f"{f.category} {f.low} {f.high} {f.qualifier} {f.who} {f.quote!r} {f.claimant}" for f in figures.find(text)
    ]
    assert actual == shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # police sent on a mission abroad are its personnel
        (
            "A further 180 Rwandan police officers arrived in Bangui to join the UN peacekeeping mission.",
            {("deployed", 180)},
        ),
        # police deployed at home are no troops
        ("Some 30,000 police were deployed across the country for the election.", set()),
    ],
)
def test_police_count_as_troops_only_on_a_mission(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # a later group of a deployment the text reported before
        ("Hungary sent 200 soldiers to Chad in March. A second group of 80 will follow in the spring.", {80}, set()),
        # a group of people who are no troops, even in a sentence about gathering
        ("Police deployed 40 officers at the stadium. A group of 45 protesters gathered outside.", set(), {45}),
        # a force size hoped for is no deployment, even after one
        (
            "Germany sent 5,000 soldiers to Lithuania. Officials hope to reach a force of 260,000 by 2035.",
            {5000},
            {260000},
        ),
    ],
)
def test_a_later_group_of_a_deployment(text: str, present: set[int], absent: set[int]) -> None:
    deployed = {f.low for f in figures.find(text) if f.category == "deployed"}
    assert present <= deployed and not (absent & deployed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # soldiers handed back are captives
        (
            "Armenia handed back three Azerbaijani soldiers at the border after a prisoner exchange.",
            {("captured", 3)},
        ),
        # prisoners a state frees in an amnesty are its detainees, even under a military government
        ("The military government will free 2,400 prisoners in an amnesty for the new year.", set()),
        # the injured of a later clause do not take the toll before it
        ("The death toll climbed to 47 on Friday after several of the injured died in hospital.", {("killed", 47)}),
    ],
)
def test_captives_handed_back_amnesties_and_later_clauses(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The police said it had counted 38 bodies in the village.", {("killed", 38)}),
        ("Kyiv received 757 bodies in the latest repatriation.", {("killed", 757)}),
        ("Nineteen bodies have reached the city morgue since dawn.", {("killed", 19)}),
        # bodies of no people ("bodies of water") are never counted this way
        ("The park has 12 bodies of water and 3 trails.", set()),
    ],
)
def test_bodies_counted_received_or_arriving_are_dead(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "the victims" after a count of the dead are those dead: their parts count
        (
            "Five people have died in forest fires, officials said. Two of the victims were volunteer firefighters.",
            {("killed", 5), ("killed", 2)},
        ),
        (
            "Six people were injured when a balcony collapsed. Among the victims were 3 children.",
            {("wounded", 6), ("wounded", 3)},
        ),
        # without such a count before, victims name no category (guideline)
        ("Two of the victims were volunteer firefighters.", set()),
    ],
)
def test_victims_after_a_count_of_harm(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "At least 31 people were killed, the ministry said. Of those, 12 were civilians.",
            {("killed", 31), ("killed", 12)},
        ),
        ("Of the 31 people killed, 12 were civilians.", {("killed", 31), ("killed", 12)}),
        # a back reference with no count of the harmed before it is nothing
        ("Police questioned 40 people. Of those, 12 were arrested.", set()),
    ],
)
def test_a_sentence_opening_on_its_group(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gunmen snatched 14 migrants from a bus near the border on Friday.", {("captured", 14)}),
        ("More than 900 soldiers have given themselves up since January, the project said.", {("captured", 900)}),
        (
            "Fighters released 31 women they had seized last month. About 12 others are believed to still be held.",
            {("captured", 31), ("captured", 12)},
        ),
        (
            "Both sides released 150 prisoners of war. Kyiv said its returnees included 12 medics.",
            {("captured", 150), ("captured", 12)},
        ),
        # a state's prisoners freed after years in its jails are no captives
        ("Iran released two French nationals held for three years on spying charges.", set()),
    ],
)
def test_more_ways_of_taking_holding_and_freeing(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a ship's crew is no troops; sailors sent by a navy are
        ("The remaining 18 sailors abandoned ship and were picked up by a patrol boat.", set()),
        ("The US sent 5,000 sailors and Marines to the region.", {("deployed", 5000)}),
    ],
)
def test_sailors_are_troops_only_when_sent(text: str, expected: set[tuple[str, int]]) -> None:
    assert {(f.category, f.low) for f in figures.find(text)} == expected


def test_wounded_who_died_are_dead() -> None:
    found = {(f.category, f.low) for f in figures.find("Toll rises to nine as two wounded die in hospital")}
    assert found == {("killed", 9), ("killed", 2)}
