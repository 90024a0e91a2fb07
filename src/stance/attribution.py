"""Who said it: a light, rule-based speaker finder for wire-style sentences.

It looks for the attribution patterns of wire copy ("..., the ministry said.",
"said Gen. Varga", "according to officials", "The army warned that ...", headlines' "Moldova
denies ...", "Farmers blocked the road, demanding ...") and lets a quotation that runs over
several sentences or paragraphs inherit the speaker named with it.
"He said" / "it added" take the speaker named most recently before them; other coreference
and nested quotes are left out.
"""

from __future__ import annotations

import re

SPEECH_VERBS = (
    "said|told|added|warned|urged|called|asked|appealed|demanded|denied|rejected|"
    "dismissed|insisted|claimed|declared|announced|stated|wrote|posted|vowed|threatened|"
    "accused|pledged|promised|argued|noted|stressed|confirmed|reported|tweeted|replied|"
    "responded|acknowledged|admitted|cautioned|pleaded|begged|boasted|praised|welcomed|condemned|"
    "criticised|criticized|blamed|hailed|described|expressed|predicted|estimated|signalled|signaled|"
    "thanked|invited|encouraged|advised|pressed|reiterated|questioned|scoffed|offered|proposed|"
    "repeated|maintained|countered|retorted|conceded|issued|ordered|disputed|denounced|alleged|"
    "assured|explained|complained|played down|"
    # the present tense of headlines and analysis ("Russia denies ...", "Moscow says ..."); forms
    # that are also plural nouns ("calls", "claims", "reports") only with the word that makes them verbs
    "says|tells|adds|warns|urges|denies|rejects|dismisses|insists|declares|announces|writes|vows|"
    "threatens|accuses|pledges|argues|stresses|confirms|replies|responds|acknowledges|admits|"
    "cautions|pleads|begs|boasts|praises|welcomes|condemns|criticises|criticizes|blames|hails|"
    "describes|predicts|invites|encourages|advises|presses|reiterates|proposes|repeats|maintains|"
    "concedes|denounces|alleges|assures|explains|"
    # the plural present of analysis ("Iranian officials insist ...", "Residents say ...")
    "say|insist|deny|reject|warn|urge|vow|accuse|argue|maintain|acknowledge|admit|concede|"
    "threaten|predict|complain|"
    "calls (?=for|on)|appeals (?=for|to)|claims (?=that|to)|reports (?=that)|promises (?=to)|"
    "demands (?=that|the|an?\\b)"
)
# "KHARTOUM, Sudan —", "GENEVA (Meridian) —", "KYIV, Ukraine, Nov. 4 —"
DATELINE = r"[A-Z][A-Z.'\- ]+\b[^—\n]{0,40}?—\s*"
_NAME = r"((?:the |a |an )?[A-Za-z][\w.'’\- ]{1,80}?)"
# "the agency's director, Carl Denning," / "A senior lawmaker, Gennady Sorokin,": a name in apposition
_APPOSED = rf"({_NAME[1:-1]}(?:, [A-Za-z][\w.'’\- ]{{1,60}}?,)?)"
# "has long denied", "also warned", "repeatedly urged": words between a subject and its verb
_ADVERBS = r"(?:(?:has|had|have|also|long|again|later|earlier|previously|repeatedly|once|continue[sd]?\s+to|[a-z]+ly)\s+){0,3}"
# "smiled and said", "paused and added": one verb joined to the speech verb
_JOINED = r"(?:[a-z]+ed (?:and|but) )?"
# "Kremlin: ...", "Defence ministry: ...": a headline's speaker before a colon is an actor
# ("Tennis: ...", "Caption: ...", "The logic is simple: ..." are not)
_ACTORS = ("ministry|minister|spokes\\w+|president|premier|chancellor|government|army|military|police|"
           "official|officials|leader|chief|commander|general|speaker|negotiator|envoy|ambassador|"
           "embassy|kremlin|pentagon|white house|state department|nato|diplomat|senator|mayor|governor|"
           "secretary|council|command|forces|navy|junta|rebels|militia|party|union|opposition|court")
# "..., saying ...", "..., demanding ...": a participle that turns any act into a statement
_PARTICIPLES = "saying|demanding|calling|urging|warning|vowing|accusing|insisting|arguing|describing|promising|pledging|threatening|claiming|denying|asking|declaring"
# "In Goma, ", "On Friday, ", "Separately, ": a lead-in before the subject at the start
_LEAD = r"(?:(?:In|On|At|From|After|Before|During|Late|Earlier|Later|Speaking|Asked|Privately|Publicly|Separately|Meanwhile|However|Still|But)\b[^,“”\"]{0,50},\s*)?"
# verbs that come before their subject in wire copy: "..., said Gen. Varga."
_INVERTED = "said|says|added|asked|replied|wrote|continued|insisted|pleaded|explained|countered|recalled|conceded|scoffed"
_PATTERNS = [
    # "..." the ministry said.  /  ..., the general manager, Carl Denning, said at a news conference.
    re.compile(rf"(?:[,”\"?!]|[,.?!]['’])\s*{_APPOSED}\s+(?:{SPEECH_VERBS})\b[^”\"]*[.!?]?[”\"]?$"),
    # The army said / Officials warned that ... (subject at the start, after an optional dateline);
    # tried before the inverted form so that "X, Y, said Kyiv had ..." does not name "Kyiv had ..."
    re.compile(rf"^(?:{DATELINE})?{_LEAD}{_APPOSED}\s+{_ADVERBS}{_JOINED}(?:{SPEECH_VERBS})\b"),
    re.compile(rf"[,”\"?!]\s*(?:{_INVERTED})\s+([^,]+?)(?:,|\.?[”\"]?$)"),
    re.compile(rf"\b[Aa]ccording to {_NAME}[,.]"),
    # Thousands rallied in the square on Saturday, demanding ...
    re.compile(rf"^(?:{DATELINE})?{_LEAD}{_APPOSED}\s+{_ADVERBS}[a-z]+ed\b[^“”\"]*?,\s+(?:{_PARTICIPLES})\b"),
    # headlines and readouts: "Kremlin: no talk of a ceasefire", "Defence ministry: units ..."
    re.compile(rf"^((?:[\w.'’\-]+ ){{0,3}}(?:{_ACTORS})):\s+\S", re.IGNORECASE),
    # One diplomat was blunter: “...
    re.compile(rf"^{_LEAD}{_APPOSED}\s+(?:was|were|is|are|put it|said|wrote|added)\b[^:“”\"]{{0,40}}:\s*[“\"]"),
]
# "he said", "it added": resolved to the speaker named just before (see `attribute`)
_PRONOUNS = {"he", "she", "they", "it"}
_NOT_SPEAKERS = {"we", "i", "you", "there", "this", "that"}
# a "name" starting or ending with one of these is a clause or an adverbial, not a speaker:
# ", and warned", "where it said", "said at a news conference", "denied any wrongdoing and said"
_CLAUSE_WORDS = {
    "and", "but", "not", "never", "or", "nor", "which", "who", "whom", "where", "while", "when", "as", "so",
    "then", "that", "if", "because", "though", "although", "adding", "saying", "at", "in",
    "on", "to", "after", "during", "before", "by", "from", "with", "without", "of", "for",
    "over", "late", "early", "earlier", "later", "today", "yesterday", "tonight", "this",
    "last", "next",
}


# a "name" that starts with a speech verb is a clause: ", said Kyiv had proposed ..."
_VERB_WORDS = {verb.split()[0] for verb in re.sub(r"\(\?=[^)]*\)", "", SPEECH_VERBS).split("|")}


def _is_name(name: str) -> bool:
    """Whether a matched subject reads as a speaker rather than a clause ("some of whom it",
    "she was afraid", "the agreement that ended the war"); a bare "he"/"it" passes."""
    words = name.lower().split()
    if not words or len(words) > 12 or " that " in name or name.lower() in _NOT_SPEAKERS \
            or words[0] in _VERB_WORDS:
        return False
    edges = {words[0], words[-1]}
    return not edges & _CLAUSE_WORDS and (len(words) == 1 or not edges & (_PRONOUNS | _NOT_SPEAKERS))


# Attribution sits at a sentence's start or end: the patterns anchored there only see this
# many characters, which keeps the search linear on run-on "sentences" of scraped text.
_WINDOW = 400


def _speaker_or_pronoun(sentence: str) -> str | None:
    text = sentence.strip()
    head, tail = text[:_WINDOW], text[-_WINDOW:]
    for pattern, window in zip(_PATTERNS, (tail, head, tail, text, head, head, head)):
        for match in pattern.finditer(window):
            # "a woman who asked not to be named": the speaker ends where a relative clause begins
            name = re.split(r",? (?:who|which|whose) ", match.group(1))[0].strip(" ,")
            if _is_name(name):
                return name
    return None


def find_speaker(sentence: str) -> str | None:
    """The speaker named in one sentence, or None (a bare pronoun is not a name)."""
    name = _speaker_or_pronoun(sentence)
    return None if name is None or name.lower() in _PRONOUNS else name


def attribute(sentences: list[str]) -> list[str | None]:
    """Speakers for consecutive sentences of one article.

    "He said", "it added" take the speaker named most recently before them. A sentence inside
    an open quotation (opened earlier, not yet closed) takes the speaker named where the
    quotation ends, or else the one named where it began. A sentence that opens with a quotation
    and names nobody, right after a quoted statement, takes that statement's speaker.
    """
    return attribute_with_quotes(sentences)[0]


def attribute_with_quotes(sentences: list[str]) -> tuple[list[str | None], list[str]]:
    """Speakers (as `attribute`) and how each sentence quotes: ``direct`` (inside quotation
    marks), ``reported`` ("X said that ...", "according to X") or ``none``."""
    speakers, last = [], None
    quotes = ["direct" if any(q in s for q in "“”\"") else "none" for s in sentences]
    for sentence in sentences:
        name = _speaker_or_pronoun(sentence)
        if name is not None and name.lower() in _PRONOUNS:
            name = last
        speakers.append(name)
        last = name or last
        if name is not None and quotes[len(speakers) - 1] == "none":
            quotes[len(speakers) - 1] = "reported"
    group: list[int] = []
    for i, s in enumerate(sentences):
        opens = s.count("“") + s.count('"') % 2
        closes = s.count("”")
        if group or (opens > closes and s.lstrip()[:1] in "“\""):
            group.append(i)
            still_open = (s.count("“") > s.count("”")) or (s.count('"') % 2 == 1 and len(group) == 1)
            if not still_open or i == len(sentences) - 1:
                name = next((speakers[j] for j in reversed(group) if speakers[j]), None)
                for j in group:
                    speakers[j] = speakers[j] or name
                    quotes[j] = "direct"
                group = []
    # a paragraph that is only a quotation, right after a quoted statement, continues it
    for i in range(1, len(sentences)):
        if speakers[i] is None and quotes[i - 1] == "direct" and sentences[i].lstrip()[:1] in "“\"":
            speakers[i] = speakers[i - 1]
    return speakers, quotes
