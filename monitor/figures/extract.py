"""Figure extraction, the extractor: sentences -> number expressions -> categorised figures."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from . import cjk, claimant, decide, lexicon, link, numbers
from . import language as languages
from .lexicon import Lexicon
from .link import Candidate, Link
from .numbers import Token
from .record import Figure

# Sentences longer than this are cut into pieces: no real sentence is that long, and bounded pieces
# keep the cost of pathological input (1 MB without a full stop) linear.
MAX_SENTENCE_CHARS = 2000
# Below this probability a detected language may be wrong (short headlines): English is tried as well.
DETECT_SURE = 0.9
# Numbers examined per sentence: prose has a handful; a piece with more is a table or noise, and the cap
# keeps the work per character bounded on adversarial input.
MAX_NUMBERS_PER_SENTENCE = 40

# A sentence ends at . ! ? (plus closing quotes) before a capital, digit or opening quote; or at ; or a line
# break. The abbreviation check happens in Python: a lookbehind per abbreviation would not scale.
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[^\W_a-z])|;|\n\s*")
_WORD_RE = re.compile(r"[^\W\d_]+")
# In languages that write apostrophes inside words ("п'ятеро") a word runs over them; elsewhere the plain
# expression is faster, and no trigger holds an apostrophe.
_WORD_APOSTROPHE_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_DIGIT_RE = re.compile(r"\d")
_ASIDE_OPENERS = frozenset({"(", "[", "-", "\u2013", "\u2014", ":"})
_DASHES = frozenset({"-", "\u2013", "\u2014"})
_RELATIVES = frozenset({"that", "who", "which"})


def find(text: str, language: str | None = None) -> list[Figure]:
    """Every casualty or troop figure stated in `text`, in order of position.

    `language` is the text's declared language ("ru", "en-GB"); without one it is detected. A text in a
    language without a lexicon yields no figures (see `supported`)."""
    code = languages.declared(language)
    sure = code is not None
    if code is None:
        code, probability = languages.detect(text)
        sure = probability >= DETECT_SURE
    if code in cjk.LANGUAGES:
        return cjk.find(text, code)
    lexicons = [lexicon.load(code)] if code in lexicon.LANGUAGES else []
    if not sure and code != "en":
        lexicons.append(lexicon.load("en"))  # a short English headline is easily taken for another language
    best: dict[tuple[str, int | None, int | None], Figure] = {}
    for lex in lexicons:
        for fig in _find(text, lex):
            key = (fig.category, fig.low, fig.high)
            if key not in best or _fuller(fig, best[key]):
                best[key] = fig
    return _restated_sources(sorted(best.values(), key=lambda f: (f.start, f.end)))


def _restated_sources(found: list[Figure]) -> list[Figure]:
    """A figure stated again in the same text, with a source, is the same claim: a headline's "kill 10 civilians"
    takes the source of the body's "the office says strikes have killed at least 10 civilians"."""
    sources: dict[tuple[str, int], str] = {}
    for f in found:
        if f.claimant is not None:
            for value in (f.low, f.high):
                if value is not None:
                    sources.setdefault((f.category, value), f.claimant)
    out = []
    for f in found:
        if f.claimant is None:
            named = [sources[(f.category, v)] for v in (f.low, f.high) if v is not None and (f.category, v) in sources]
            if named:
                f = replace(f, claimant=named[0])
        out.append(f)
    return out


def supported(language: str) -> bool:
    """Whether figures are found in texts of `language` (an ISO 639-1 code or a tag such as "en-GB")."""
    code = languages.declared(language)
    return code in lexicon.LANGUAGES or code in cjk.LANGUAGES


SUPPORTED = tuple(sorted(lexicon.LANGUAGES + cjk.LANGUAGES))


def _find(text: str, lex: Lexicon) -> list[Figure]:
    best: dict[tuple[str, int | None, int | None], Figure] = {}
    spans, chosen = figure_sentences(text, lex)
    mentions = []
    earlier = link.NOTHING_EARLIER  # what the sentences so far spoke of (captivity, troops sent)
    sourced: tuple[int, str] | None = None  # the last figure's source, and its sentence
    for index, start, end, has_words, captive_unseen in chosen:
        if captive_unseen and not earlier.captive:
            earlier = replace(earlier, captive=True)
        figures, earlier = _sentence_figures(text, start, end, lex, has_words, earlier)
        carried = sourced[1] if sourced is not None and _continues(text, spans, sourced[0], index) else None
        # what the sentences around say of sources, read once per sentence (a sentence may hold many figures)
        around: dict[str, str | None] = {}
        for fig in figures:
            if fig.claimant is not None and claimant.anaphoric(fig.claimant, lex):
                fig = replace(fig, claimant=_antecedent(text, spans, index, lex) or fig.claimant)
            if fig.claimant is None or fig.claimant == _PRONOUN:
                where = "pronoun" if fig.claimant == _PRONOUN else "next"
                if where not in around:
                    around[where] = _context_claimant(text, spans, index, lex, where == "pronoun")
                fig = replace(fig, claimant=around[where])
            if fig.claimant is None:
                if "semicolon" not in around:
                    around["semicolon"] = _semicolon_claimant(text, spans, index, lex)
                source = around["semicolon"] or carried
                if source is None:
                    if "closing" not in around:
                        around["closing"] = _closing_before(text, spans, index, lex)
                    source = around["closing"]
                fig = replace(fig, claimant=source)
            if fig.claimant is not None:
                sourced = (index, fig.claimant)
            mentions.append(fig)
    for fig in _headline_sources(text, mentions, lex):
        key = (fig.category, fig.low, fig.high)
        if key not in best or _fuller(fig, best[key]):
            best[key] = fig
    return list(best.values())


def _headline_sources(text: str, mentions: list[Figure], lex: Lexicon) -> list[Figure]:
    """The headline's figures, sourced by the body (`claimant.from_body`): the lead's first claim."""
    head_end = claimant.headline_end(text, mentions)
    if head_end is None:
        return mentions
    lead = None
    for start, end in _lead(text, head_end, lex):
        _, found = _claims_in(text, start, end, lex)
        if found:
            lead = found[0].claimant
            break
    return claimant.from_body(mentions, head_end, lead, ignore=_PRONOUN)


def _claims_in(text: str, start: int, end: int, lex: Lexicon) -> tuple[list[Token], list[claimant.Claim]]:
    """The tokens of the sentence text[start:end] (lemmatised where the language has lemmas) and its claims."""
    tokens = numbers.tokenize(text, start, end, lex.lemma)
    return tokens, claimant.claims(text, tokens, lex)


def _lead(text: str, head_end: int, lex: Lexicon) -> list[tuple[int, int]]:
    """The first sentences after the headline (claimant.LEAD_SENTENCES), whether or not they hold a trigger."""
    lead: list[tuple[int, int]] = []
    start = head_end + 1
    while start < len(text) and len(lead) < claimant.LEAD_SENTENCES:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        lead += sentences(text, lex.abbreviations, start, end)
        start = end + 1
    return lead[: claimant.LEAD_SENTENCES]


def figure_sentences(text: str, lex: Lexicon) -> tuple[list[tuple[int, int]], list[tuple[int, int, int, bool, bool]]]:
    """Every sentence of `text` (start, end), and those that may hold a figure: (index, start, end, whether number
    words must be read, whether a sentence before it that holds no figure spoke of captivity), after a cheap
    prefilter (a trigger word and a number)."""
    abbreviations = lex.abbreviations
    triggers = lex.trigger_words
    lower = text.lower()
    aligned = len(lower) == len(text)  # lower() may lengthen some characters ("İ"): then lower per sentence
    lemma = lex.lemma
    word_re = _WORD_APOSTROPHE_RE if lex.apostrophe_words else _WORD_RE

    def words_of(start: int, end: int) -> set[str]:
        found = word_re.findall(lower, start, end) if aligned else word_re.findall(text[start:end].lower())
        return {lemma(w) for w in found} if lemma else set(found)

    captive_firsts = lex.captive_cues.by_first.keys()
    # a line with no trigger but a word of captivity is read too: "Pirates hijack tanker off Yemen" makes the
    # crew counted in the next line captives
    spans = list(_candidate_sentences(text, abbreviations, triggers | frozenset(captive_firsts), words_of))
    chosen = []
    captive = False  # "Gunmen abducted the crew of a trawler. The navy freed the 9 fishermen on Sunday."
    for index, (start, end) in enumerate(spans):
        words = words_of(start, end)
        # Cheap prefilter: a sentence needs a trigger word and a number (digits or a number word).
        if words.isdisjoint(triggers) and not _opens_on_back_reference(lower, text, start, aligned):
            captive = captive or (not captive_firsts.isdisjoint(words) and _speaks_of_captivity(text, start, end, lex))
            continue
        has_digit = _DIGIT_RE.search(text, start, end) is not None
        # With digits present, numbers() checks for number words itself, token by token.
        has_words = (
            has_digit
            or bool(lex.number_words and any(numbers.is_number_word(w, lex.language) for w in words))
            or not words.isdisjoint(lex.word_values)
        )
        if not (has_digit or has_words) and words.isdisjoint(lex.count_words):
            captive = captive or (not captive_firsts.isdisjoint(words) and _speaks_of_captivity(text, start, end, lex))
            continue
        chosen.append((index, start, end, has_words, captive))
    return spans, chosen


_COPULAS = frozenset({"were", "are", "was", "is"})
# "Eight of them were children": a sentence opening on a part of the figure before it.
_PART_OPENING_RE = re.compile(r"[\w,-]+ of (?:them|those|these)\b")


def _opens_on_back_reference(lower: str, text: str, start: int, aligned: bool) -> bool:
    """Whether the sentence opens on "Of those," / "Of them," (a part of the count before: `_opening_group`)."""
    head = lower[start : start + 30] if aligned else text[start : start + 30].lower()
    head = head.lstrip()
    return head.startswith(("of those,", "of them,", "of these,")) or _PART_OPENING_RE.match(head) is not None


def _speaks_of_captivity(text: str, start: int, end: int, lex: Lexicon) -> bool:
    """Whether the sentence text[start:end] speaks of hostages or captivity (link.Sentence.captive_cue)."""
    return link.Sentence(numbers.tokenize(text, start, end, lex.lemma), lex).captive_cue


# Marks a figure whose own sentence attributes it to a pronoun ("it said"): the source is named before.
_PRONOUN = "\x00pronoun"


def _context_claimant(text: str, spans: list[tuple[int, int]], index: int, lex: Lexicon, pronoun: bool) -> str | None:
    """The source of a figure whose sentence names none: for "it said", the last source named before; else
    the next sentence's when it points back ("Nine were killed. That is according to the police.")."""
    if not pronoun:
        after = index + 1
        if after >= len(spans) or _paragraph_break(text, spans, index, after):
            return None
        first = _WORD_RE.search(text, spans[after][0], spans[after][1])
        word = first.group().lower() if first else ""
        if (lex.lemma(word) if lex.lemma and word else word) not in lex.claim_back.by_first:
            return None  # the next sentence does not open on words pointing back: no need to read it
        tokens, found = _claims_in(text, spans[after][0], spans[after][1], lex)
        return claimant.back(tokens, found, lex)
    for j in (index - 1, index - 2, index - 3):
        if not 0 <= j < len(spans) or _paragraph_break(text, spans, index, j):
            continue
        tokens, found = _claims_in(text, spans[j][0], spans[j][1], lex)
        if found:
            return found[-1].claimant
        subject = claimant.opening_subject(text, tokens, lex) if j == index - 1 and j > 0 else None
        if subject:
            return subject  # "Kabul's defence ministry rejected the claim. It said …": the subject before
    return None


def _closing_before(text: str, spans: list[tuple[int, int]], index: int, lex: Lexicon) -> str | None:
    """The source closing the sentence right before, in the same paragraph of the body ("A boat capsized off
    Obock, the IOM said. Three bodies were recovered."): it reports the event the figure belongs to. Not a
    headline's source (the body's first sentence follows a line break), nor a source opening its sentence ("X
    said the talks failed")."""
    before = index - 1
    if before < 0 or _paragraph_break(text, spans, before, index) or "\n" in text[spans[before][1] : spans[index][0]]:
        return None
    if text.find(",", spans[before][0], spans[before][1]) < 0:
        return None  # a closing source follows a comma: no need to read the sentence
    tokens, found = _claims_in(text, spans[before][0], spans[before][1], lex)
    if not found or not claimant.closes(tokens, found[-1]):
        return None
    return found[-1].claimant


def _antecedent(text: str, spans: list[tuple[int, int]], index: int, lex: Lexicon) -> str | None:
    """The source "the agency" or "según el organismo" points back to: the last one named in the sentences
    before (claimant.SOURCE_CONTINUES, one paragraph), else the named subject opening the sentence before."""
    for j in range(index - 1, max(-1, index - 1 - claimant.SOURCE_CONTINUES), -1):
        if _paragraph_break(text, spans, index, j):
            break
        tokens, found = _claims_in(text, spans[j][0], spans[j][1], lex)
        named = [c.claimant for c in found if not claimant.anaphoric(c.claimant, lex)]
        if named:
            return named[-1]
        if j == index - 1 and j > 0:
            subject = claimant.opening_subject(text, tokens, lex)
            if subject:
                return subject
    return None


def _semicolon_claimant(text: str, spans: list[tuple[int, int]], index: int, lex: Lexicon) -> str | None:
    """The source that closes the clause after a semicolon ("nine were killed; six were hurt, police said"): a
    claim made after every number of that clause covers the whole sentence."""
    if index + 1 >= len(spans) or not text[spans[index][0] : spans[index][1]].rstrip().endswith(";"):
        return None
    start, end = spans[index + 1]
    tokens, found = _claims_in(text, start, end, lex)
    if not found:
        return None
    last = found[-1]
    if any(t.kind == "num" for t in tokens[last.at :]):
        return None
    return last.claimant


def _continues(text: str, spans: list[tuple[int, int]], sourced: int, index: int) -> bool:
    """Whether a figure in sentence `index` continues the source of a figure in sentence `sourced`: a later
    sentence, near, in the same paragraph. A source named for no figure ("X said the talks failed") is not
    continued: that sentence reports something else."""
    return 0 < index - sourced <= claimant.SOURCE_CONTINUES and not _paragraph_break(text, spans, sourced, index)


def _paragraph_break(text: str, spans: list[tuple[int, int]], a: int, b: int) -> bool:
    lo, hi = sorted((a, b))
    return "\n\n" in text[spans[lo][1] : spans[hi][0]]


def _fuller(new: Figure, old: Figure) -> bool:
    """A figure repeated in one text is listed once, at the mention that says most about it:
    one naming a claimant beats one that does not, then a hedged or bounded one beats an exact one
    (summaries round hedges off), then the earlier mention."""

    def rank(f: Figure) -> tuple[bool, bool]:
        return (f.claimant is not None, f.qualifier != "exact")

    return rank(new) > rank(old)


def _candidate_sentences(
    text: str,
    abbreviations: frozenset[str],
    triggers: frozenset[str],
    words_of: Callable[[int, int], set[str]],
) -> Iterator[tuple[int, int]]:
    """Sentences of the paragraphs (lines) that hold a trigger word: splitting only those is most of the
    speed of find() on long pages."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start > 2 and not words_of(start, end).isdisjoint(triggers):
            yield from sentences(text, abbreviations, start, end)
        start = end + 1


def sentences(
    text: str, abbreviations: frozenset[str], start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of the sentences in text[start:end], long ones cut to MAX_SENTENCE_CHARS."""
    end = len(text) if end is None else end
    for m in _BOUNDARY_RE.finditer(text, start, end):
        if m.group()[0] == "." and _is_abbreviation(text, m.start(), abbreviations):
            continue
        yield from _pieces(text, start, m.end())
        start = m.end()
    yield from _pieces(text, start, end)


def _is_abbreviation(text: str, dot: int, abbreviations: frozenset[str]) -> bool:
    """Whether the word before the '.' at `dot` is an abbreviation or an initial ("U.S.", "Gen.")."""
    k = dot
    while k > 0 and (text[k - 1].isalpha() or text[k - 1] == "."):
        k -= 1
        if dot - k > 12:
            return False
    word = text[k:dot].lower()
    return len(word) == 1 or word in abbreviations or word.rstrip(".") in abbreviations


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        yield start, cut
        start = cut
    if text[start:end].strip():
        yield start, end


def _sentence_figures(
    text: str, start: int, end: int, lex: Lexicon, number_words: bool, earlier: link.Earlier = link.NOTHING_EARLIER
) -> tuple[list[Figure], link.Earlier]:
    """The figures of one sentence, and what the text spoke of up to and with it (`earlier`, updated)."""
    found = sentence_candidates(text, start, end, lex, number_words, earlier)
    if found is None:
        return [], earlier
    s, cands = found
    earlier = spoken_of(earlier, s, cands)
    decider = decide.model_for(lex.language)
    if decider is not None:
        decider.revise(s, cands)
    tokens = s.tokens
    claims: list[claimant.Claim] | None = None
    out = []
    for c in cands:
        if c.link is None:
            continue
        if claims is None:
            claims = claimant.claims(text, tokens, lex)
        fig = _figure(text, tokens, c, c.link, claims, lex)
        if fig.claimant is None and claimant.pronoun(tokens, lex):
            fig = replace(fig, claimant=_PRONOUN)
        out.append(fig)
    return out, earlier


_HARM = frozenset({"killed", "wounded", "casualties"})


def spoken_of(earlier: link.Earlier, s: link.Sentence, cands: list[Candidate]) -> link.Earlier:
    """What the text spoke of up to and with sentence `s`: captivity, troops sent (by the rules' categories, so
    that the learned decider is trained on the same context it is used in)."""
    captive = earlier.captive or s.captive_cue
    deploying = earlier.deploying or any(c.link is not None and c.link.category == "deployed" for c in cands)
    harmed = [c.link.category for c in cands if c.link is not None and c.link.category in _HARM]
    harm = harmed[-1] if harmed else earlier.harm
    found = [c.link.category for c in cands if c.link is not None and c.link.category]
    last = found[-1] if found else earlier.last
    if (captive, deploying, harm, last) == (earlier.captive, earlier.deploying, earlier.harm, earlier.last):
        return earlier
    return link.Earlier(captive, deploying, harm, last)


def sentence_candidates(
    text: str, start: int, end: int, lex: Lexicon, number_words: bool, earlier: link.Earlier = link.NOTHING_EARLIER
) -> tuple[link.Sentence, list[Candidate]] | None:
    """The numbers of one sentence that may count people, each with the category the rules give it (or None):
    what the figures are made from, and what the learned decider (decide.py) revises and is trained on."""
    tokens = numbers.tokenize(text, start, end, lex.lemma)
    nums = numbers.numbers(tokens, lex, number_words)[:MAX_NUMBERS_PER_SENTENCE]
    if not nums:
        return None
    s = link.Sentence(tokens, lex)
    s.numbers_at = frozenset(n.first for n in nums)
    s.earlier = earlier
    cands: list[Candidate] = []
    for e in numbers.expressions(tokens, nums, lex):
        if link.excluded(s, e):
            continue
        w = link.who(s, e)
        if w is None:
            continue
        cands.append(Candidate(e, w if w.head or w.first < w.last else None, None))
    counted = {c.expr.first for c in cands if c.who is not None}
    for c in cands:
        c.link = link.categorise(s, c.expr, c.who, counted)
        e = c.expr
        if (
            c.link is not None
            and c.link.kind == "toll"
            and e.qualifier == "at_most"
            and e.first < e.num_first
            and lex.toll_links.match_before(s.words, e.num_first) >= e.num_first - e.first
            # "потери составили до 210", "потери — до 210": after a link that is no change, "до" is "up to"
            and not (lex.change_verbs and lex.toll_links.match_before(s.words, e.first) and not _after_change(s, e))
        ):
            # "число погибших возросло до 27": the "до" joins the toll to its value, it bounds nothing
            c.expr = replace(e, low=e.high, qualifier="exact")
        elif e.qualifier == "at_most" and e.first < e.num_first and _after_change(s, e):
            # "збільшила угруповання на кордоні до 17 тисяч": "до" gives the value a change reached
            c.expr = replace(e, low=e.high, qualifier="exact")
        elif (
            c.link is not None
            and c.link.kind == "toll"
            and e.qualifier == "range"
            and e.first < e.num_first
            and (not lex.change_verbs or _change_before(s, e.first))
        ):
            # "the death toll rose from 40 to 45", "выросло с 40 до 45": the toll's value is the new one
            c.expr = replace(e, low=e.high, qualifier="exact")
    _part_of_group(s.words, cands, lex)
    _opening_group(s, cands)
    _inherit(s, cands, lex)
    _opening_part(s, cands)
    return s, cands


_BACK_REFERENCES = frozenset({"those", "them", "these", "whom"})


def _opening_group(s: link.Sentence, cands: list[Candidate]) -> None:
    """A sentence that opens on the group its count is taken from: "Of the 26 people killed, 11 were civilians"
    (the group's category), "Of those, 11 were civilians" after a count of the harmed (that count's category).
    The part is the first count after the opening clause, when nothing else gave it a category."""
    words = s.words
    if len(words) < 4 or words[0] != "of" or "," not in words[:12]:
        return
    comma = words.index(",")
    inside = [c for c in cands if c.expr.first < comma]
    after = [c for c in cands if c.expr.first > comma]
    if not after or after[0].link is not None or after[0].expr.first > comma + 3:
        return
    part = after[0]
    if inside and inside[-1].link is not None:
        part.link = Link(inside[-1].link.category, inside[-1].link.first, inside[-1].link.last, "part")
    elif not inside and comma == 2 and words[1] in _BACK_REFERENCES and s.earlier.harm:
        part.link = Link(s.earlier.harm, 0, 2, "part")


def _opening_part(s: link.Sentence, cands: list[Candidate]) -> None:
    """A sentence that opens on a part of the figure before it: "Fifteen hostages escaped. Eight of them were
    children." The part takes the category of the text's last figure, when nothing else gave it one."""
    words = s.words
    if not cands or not s.earlier.last:
        return
    first = cands[0]
    e = first.expr
    if first.link is not None or e.first != 0 or e.last + 1 >= len(words):
        return
    after = e.last + 2
    if words[e.last] != "of" or words[e.last + 1] not in _BACK_REFERENCES:
        return
    # only a part said to be who they are: "were children", "are in a serious condition"; not "One of them said
    # …" (a speaker), "three of them were later found alive", "One of them, he said, had been wounded"
    if after + 1 >= len(words) or words[after] not in _COPULAS or s.lex.filler.match_at(words, after + 1):
        return
    first.link = Link(s.earlier.last, e.last, after, "part")


def _after_change(s: link.Sentence, e: numbers.Expression) -> bool:
    """Whether an "up to" bound ("до") follows a verb of change in its clause: then it joins the change to its
    value ("увеличила … до 17 тысяч"), it bounds nothing."""
    if not s.lex.change_verbs or s.lex.change_bounds.match_at(s.words, e.first) != e.num_first - e.first:
        return False
    return _change_before(s, e.first)


def _change_before(s: link.Sentence, at: int) -> bool:
    """Whether a verb of change stands before token `at` in its clause ("rose from 40 to 45", "выросло с 40 до 45";
    not "потери составили от 190 до 250 тыс.", a range)."""
    for k in range(at - 1, max(-1, at - 10), -1):
        if s.tokens[k].kind == "punct" or s.tokens[k].kind == "num":
            return False
        if s.words[k] in s.lex.change_verbs:
            return True
    return False


def _part_of_group(words: list[str], cands: list[Candidate], lex: Lexicon) -> None:
    """'Three of the 12 guards were killed': the trigger counts the part; the group it is taken from is no
    figure."""
    for a, b in itertools.pairwise(cands):
        between = words[a.expr.last : b.expr.first]
        # only with an article: "one of 314 people who died" counts the 314
        b_end = b.who.last if b.who else b.expr.last
        # the verb must be the clause's own ("were killed"), not a participle of the group ("troops sent")
        if (
            a.who is None
            and b.link is not None
            and len(between) == 2
            and between[0] == "of"
            and (between[1] in lex.determiners)
            and b.link.kind == "right"
            and b.link.first > b_end
            and not any(w in _RELATIVES for w in words[b_end : b.link.first])
        ):  # "one of the three hostages that were killed": the relative clause is the group's
            a.link = Link(b.link.category, b.link.first, b.link.last, "part")
            b.link = None
        elif (
            a.who is None
            and a.link is None
            and b.link is not None
            and between == ["of"]
            and b.link.kind == "right"
            and words[a.expr.num_first] not in lex.pronoun_numbers
        ):
            # "Two of four people killed … are identified": the part counts too, and so does the whole
            a.link = Link(b.link.category, b.link.first, b.link.last, "part")


def _inherit(s: link.Sentence, cands: list[Candidate], lex: Lexicon) -> None:
    """Figures without their own trigger: a part of the figure before ("two of them"), or a list member."""
    words = s.words
    for i in range(len(cands) - 1, -1, -1):
        c = cands[i]
        if c.link is not None and c.link.kind != "troops":
            continue  # troops counted without a verb may still share the list's verb ("Ten guards and ...")
        end = c.who.last if c.who else c.expr.last
        nxt = cands[i + 1] if i + 1 < len(cands) else None
        # "Five soldiers, two rebels killed": the list shares the trigger after its last member.
        if (
            c.who
            and nxt
            and nxt.who
            and nxt.link
            and nxt.link.kind in {"right", "list", "noun"}
            # "27 were injured, among them six children, two died": a part of the figure before, not a list
            and not (i > 0 and lex.part_before.match_before(words, c.expr.first))
            and (_joined(words[end : nxt.expr.first], lex) or _numberless_member(s, end, nxt.expr.first))
        ):
            c.link = Link(nxt.link.category, nxt.link.first, nxt.link.last, "list")
        elif c.link is not None:
            continue
        elif c.who and nxt and nxt.link and nxt.link.category and _among(words, end, nxt.expr.first, lex):
            # "Three policemen were among the 15 people killed": a part of the figure after it
            c.link = Link(nxt.link.category, nxt.link.first, nxt.link.last, "part")
    for i, c in enumerate(cands):
        if c.link is not None and c.link.kind == "total":
            before = [p.link.category for p in cands[:i] if p.link and p.link.category]
            # none in the sentence: the text's last count of harm, else troops sent ("That would bring the total
            # deployment to about 14,000")
            text_before = s.earlier.harm or ("deployed" if s.earlier.deploying else "")
            category = before[-1] if before else text_before
            c.link = Link(category, c.link.first, c.link.last, "toll") if category else None
            continue
        if i == 0 or (c.link is not None and not (c.link.kind == "troops" and _part_marked(words, c, lex))):
            continue  # troops a part marker names ("including 18 security personnel") are a part, not a deployment
        prev = cands[i - 1]
        if prev.link is None:
            continue
        prev_end = prev.who.last if prev.who else prev.expr.last
        part = lex.part_after.match_at(words, c.expr.last) or lex.part_before.match_before(words, c.expr.first)
        # "killing 10 (8 students and 2 teachers)", "7 bodies - 4 men, 3 women - recovered": an aside right
        # after a figure holds its parts
        part = part or (prev_end == c.expr.first - 1 and c.expr.first > 0 and words[c.expr.first - 1] in _ASIDE_OPENERS)
        part = part or _listed_part(s, prev_end, c.expr.first, lex)
        listed = prev.link.kind in {"left", "part", "list"} and _joined(words[prev_end : c.expr.first], lex)
        # "900 troops in Syria and 2,500 in Iraq", "5 bodies on Monday and 3 more on Tuesday": a bare number
        # after "and" repeats the figure before
        after = c.who.last if c.who else c.expr.last
        while after < len(words) and words[after] in lex.modifiers:
            after += 1
        elliptic = (
            (c.who is None or (bool(c.who.head) and after < len(words) and words[after] in lex.place_prepositions))
            and c.expr.first > 0
            and (
                words[c.expr.first - 1] in lex.coordinators
                or words[c.expr.first - 1] in {",", "with"}
                or (
                    words[c.expr.first - 1] in _DASHES
                    and s.tokens[c.expr.first - 2].end < s.tokens[c.expr.first - 1].start
                )
            )
            and (after >= len(words) - 1 or words[after] in lex.ellipsis_after)
        )
        gapped = c.who is None and prev.link.kind in {"left", "list"} and _gapped(s, c.expr.first, after)
        # "kidnapped at least 1,494 people last year, up from about 1,100": the figure's earlier value
        earlier = c.who is None and bool(lex.earlier_value.match_before(words, c.expr.first))
        listed = listed or elliptic or gapped or earlier
        if part or listed:
            c.link = Link(prev.link.category, prev.link.first, prev.link.last, "part" if part else "list")
    for c in cands:
        if c.link is not None and c.link.category in {"casualties", "wounded"} and _fatal_part(words, c, lex):
            c.link = Link("killed", c.link.first, c.link.last, c.link.kind)  # "29 were shot, four of them fatally"


def _part_marked(words: list[str], c: Candidate, lex: Lexicon) -> bool:
    """Whether a part marker stands right before the count ("including 18 …", "among them 5 …")."""
    return bool(lex.part_before.match_before(words, c.expr.first))


def _fatal_part(words: list[str], c: Candidate, lex: Lexicon) -> bool:
    """Whether a part is said to have died: "four of them fatally", "one fatally"."""
    end = c.who.last if c.who else c.expr.last
    end += lex.part_after.match_at(words, end)  # "four of them fatally"
    return any(w in lex.fatal_parts for w in words[end : end + 2])


def _listed_part(s: link.Sentence, prev_end: int, first: int, lex: Lexicon) -> bool:
    """ "killed 26 people, including a police officer and two nurses": a later member of a list of parts that
    opens with an uncounted one."""
    words, tokens = s.words, s.tokens
    if first < 2 or words[first - 1] not in lex.coordinators:
        return False
    for k in range(first - 2, max(prev_end, first - 9) - 1, -1):
        if tokens[k].kind != "word":
            return False  # a comma, a number: no single list
        if lex.part_before.match_at(words, k):
            return k > prev_end
    return False


def _gapped(s: link.Sentence, first: int, after: int) -> bool:
    """Whether a bare number is a gapped list member after a name: "West Virginia sent 300 soldiers, South
    Carolina 200 and Ohio 150" (the verb and the counted noun are the first member's)."""
    words, tokens = s.words, s.tokens
    if s.title_case:
        return False  # "Kills Three, Sickens Two": every word of a Title Case headline is capitalised
    j = first - 1
    while j >= 0 and first - 1 - j < 3 and tokens[j].kind == "word" and tokens[j].text[:1].isupper():
        j -= 1
    if j == first - 1 or j < 0 or not (words[j] == "," or words[j] in s.lex.coordinators):
        return False
    return after >= len(words) or words[after] in {",", ".", ";"} or words[after] in s.lex.coordinators


def _joined(between: list[str], lex: Lexicon) -> bool:
    """Whether the words between two counts join them as a list: ",", "and", ", and", "or" (in the text's
    language)."""
    return (
        between == [","]
        or (len(between) == 1 and between[0] in lex.coordinators)
        or (len(between) == 2 and between[0] == "," and between[1] in lex.coordinators)
    )


def _numberless_member(s: link.Sentence, k: int, nxt: int) -> bool:
    """Whether words[k:nxt] are ", a driver and" (or ","): a list member without a number between two counts
    ("Three police officers, a driver and two civilians died")."""
    words = s.words
    if nxt - k < 3 or words[k] != "," or (words[nxt - 1] not in s.lex.coordinators and words[nxt - 1] != ","):
        return False
    j = k + 1
    if words[j] in s.lex.determiners:
        j += 1
    end = link.person_end(s, j, nxt - 1)
    return end == nxt - 1


def _among(words: list[str], k: int, nxt: int, lex: Lexicon) -> bool:
    """Whether words[k:nxt] say "(were) among (the)": the counted people are part of the figure at nxt."""
    for _ in range(3):
        f = lex.filler.match_at(words, k) if k < nxt else 0
        if not f or lex.among.match_at(words, k):
            break
        k += f
    m = lex.among.match_at(words, k)
    return bool(m) and (k + m == nxt or (k + m + 1 == nxt and words[k + m] in lex.determiners))


def _figure(
    text: str, tokens: list[Token], c: Candidate, link: Link, claims: list[claimant.Claim], lex: Lexicon
) -> Figure:
    e, who = c.expr, c.who
    first, last = e.first, e.last
    if who:
        last = max(last, who.last)
    if link.kind in {"noun", "right", "left", "toll", "troops"}:
        first, last = min(first, link.first), max(last, link.last)
    start, end = tokens[first].start, tokens[last - 1].end
    who_last = who.last if who else 0
    if who and link.kind == "noun" and link.category != "captured":
        who_last = who.head_at  # "600 fatalities" names no people; "40 Israeli dead" keeps "Israeli"
    who_text = None
    if who and who.first < who_last:
        who_text = text[tokens[who.first].start : tokens[who_last - 1].end]
    return Figure(
        category=link.category,
        low=e.low,
        high=e.high,
        qualifier=e.qualifier,
        who=who_text,
        quote=text[start:end],
        start=start,
        end=end,
        claimant=claimant.nearest(claims, e.num_first, tokens, lex),
    )


__all__ = ["SUPPORTED", "find", "sentences", "supported"]
