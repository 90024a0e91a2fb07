"""Who said it: a light, rule-based speaker finder for wire-style sentences.

It looks for the attribution patterns of wire copy ("..., the ministry said.",
"said Gen. Varga", "according to officials", "The army warned that ...") and lets a
quotation that runs over several sentences inherit the speaker named at its end.
It leaves out coreference ("he", "she" stay as written) and nested quotes.
"""

from __future__ import annotations

import re

SPEECH_VERBS = (
    "said|says|told|added|warned|urged|called|asked|appealed|demanded|denied|rejected|"
    "dismissed|insisted|claimed|declared|announced|stated|wrote|posted|vowed|threatened|"
    "accused|pledged|promised|argued|noted|stressed|confirmed|reported|tweeted|replied|"
    "responded|acknowledged|admitted|cautioned|pleaded|begged|boasted|praised|welcomed|condemned|"
    "criticised|criticized|blamed|hailed|described|expressed|predicted|estimated|signalled|signaled"
)
# "KHARTOUM, Sudan —", "GENEVA (Meridian) —", "KYIV, Ukraine, Nov. 4 —"
DATELINE = r"[A-Z][A-Z.'\- ]+\b[^—\n]{0,40}?—\s*"
_NAME = r"((?:the |a |an )?[A-Za-z][\w.'’\- ]{1,80}?)"
# "has long denied", "also warned", "repeatedly urged": words between a subject and its verb
_ADVERBS = r"(?:(?:has|had|have|also|long|again|later|previously|repeatedly|once|[a-z]+ly)\s+){0,3}"
_PATTERNS = [
    # "..." the ministry said.  /  ..., said Gen. Varga.
    re.compile(rf"[,”\"?!]\s*{_NAME}\s+(?:{SPEECH_VERBS})\b[^”\"]*[.!?]?[”\"]?$"),
    re.compile(rf"[,”\"?!]\s*(?:{SPEECH_VERBS})\s+([^,]+?)(?:,|\.?$)"),
    re.compile(rf"\b[Aa]ccording to {_NAME}[,.]"),
    # The army said / Officials warned that ... (subject at the start, after an optional dateline)
    re.compile(rf"^(?:{DATELINE})?{_NAME}\s+{_ADVERBS}(?:{SPEECH_VERBS})\b"),
]
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you"}


def find_speaker(sentence: str) -> str | None:
    """The speaker named in one sentence, or None."""
    text = sentence.strip()
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            name = match.group(1).strip(" ,")
            if name.lower() not in _PRONOUNS and len(name.split()) <= 10:
                return name
    return None


def attribute(sentences: list[str]) -> list[str | None]:
    """Speakers for consecutive sentences of one article.

    A sentence inside an open quotation (opened earlier, not yet closed) takes the speaker
    named where the quotation ends, or else the one named where it began.
    """
    speakers = [find_speaker(s) for s in sentences]
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
                group = []
    return speakers
