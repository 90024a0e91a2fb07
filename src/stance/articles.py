"""Read articles from .txt/.jsonl files or folders, and split them into sentences with offsets.

Splitting uses `sentencex` (a maintained rule-based segmenter that knows abbreviations,
initials and decimals). Two things are added around it:
- paragraphs are split first (blank lines, or a line break after sentence-final
  punctuation), so a paragraph with no final full stop still ends a sentence;
- quotation marks are masked before segmenting, so a quotation that runs over two
  sentences is split into both (segmenters keep quoted text whole). A segment that then
  starts with a lower-case letter ("... die!" the post read.) is joined back.
Everything swappable sits behind `split_sentences`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sentencex import segment

QUOTES = "\"“”‘„«»"
_QUOTE_MASK = str.maketrans({q: " " for q in QUOTES})
# A paragraph ends at a blank line, or at a line break after sentence-final punctuation.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|(?<=[.!?\"”’])[ \t]*\n\s*")
_OPENING_QUOTE_AT_END = re.compile(r"\s+([\"“‘„«]+)$")
# Titles the segmenter may take for a sentence end ("said Amb. Claudine Mutesi").
_TITLE_AT_END = re.compile(
    r"\b(?:Amb|Ms|Mrs|Mr|Dr|Sen|Rep|Gov|Gen|Lt|Col|Capt|Cmdr|Sgt|Brig|Maj|Adm|Prof|Insp|Supt|Rev|Fr|St)\.$"
)
# '"...?" Ferrandi asked.' - an attribution after a quoted question or exclamation.
_ATTRIBUTION_START = re.compile(
    r"^(?!(?:He|She|They|It|We|I|You)\b)(?:[A-Z][\w.'’-]*\s+){1,4}(?:asked|said|added|wondered|shouted|told|wrote|replied|demanded)\b"
)
ARTICLE_SUFFIXES = (".txt", ".jsonl")


class ArticleError(ValueError):
    """An input file that cannot be read as articles; the message names the file."""


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


def _continues(previous: str, piece: str, first: str) -> bool:
    """Whether a segment is really the rest of the previous sentence."""
    if first.islower() or not first.isalnum() and first not in "([":
        return True  # '"Go!" he said.'
    if _TITLE_AT_END.search(previous):
        return True  # 'Amb. | Claudine Mutesi said'
    return previous.rstrip()[-2:] in ("?”", '?"', "!”", '!"') and bool(_ATTRIBUTION_START.match(piece))


def _segment_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end] (stripped of surrounding whitespace)."""
    masked = text[start:end].translate(_QUOTE_MASK).replace("\n", " ")
    spans: list[tuple[int, int]] = []
    pos = start
    carried = None  # an opening quote mark left at the end of the previous piece
    for piece in segment("en", masked):
        s, e = pos, pos + len(piece)
        pos = e
        stripped = text[s:e].strip()
        if not stripped:
            continue
        s += len(text[s:e]) - len(text[s:e].lstrip())
        e = s + len(stripped)
        if carried is not None:
            s, carried = carried, None
        opening = _OPENING_QUOTE_AT_END.search(text, s, e)
        if opening and opening.start() > s:
            e, carried = opening.start(), opening.start(1)
        first = stripped.lstrip(QUOTES + "’ ")[:1]
        if spans and _continues(text[spans[-1][0]:spans[-1][1]], text[s:e], first):
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    if pos != end:  # the segmenter must cover its input exactly
        raise AssertionError("segmenter lost characters")
    return spans


def split_sentences(text: str) -> list[Sentence]:
    """Split an article into sentences with character offsets into ``text``."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in _paragraph_spans(text):
        if text[p_start:p_end].strip():
            spans.extend(_segment_spans(text, p_start, p_end))
    return [Sentence(i, s, e, text[s:e]) for i, (s, e) in enumerate(spans)]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise ArticleError(f"{path}: binary file, expected UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(f"{path}: not UTF-8 (byte {err.start}); re-save it as UTF-8") from None
    if not text.strip():
        raise ArticleError(f"{path}: empty file")
    return text


def read_file(path: Path) -> list[tuple[str, str]]:
    """Articles in one file as (doc_id, text): a .txt is one article, a .jsonl one per line."""
    text = _read_text(path)
    if path.suffix == ".txt":
        return [(path.stem, text)]
    docs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ArticleError(f"{path}:{n}: broken JSON ({err.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ArticleError(f"{path}:{n}: expected an object with a string 'text' field")
        if not row["text"].strip():
            raise ArticleError(f"{path}:{n}: empty 'text'")
        docs.append((str(row.get("id", f"{path.stem}:{n}")), row["text"]))
    if not docs:
        raise ArticleError(f"{path}: no articles in file")
    return docs


def find_inputs(inputs: list[str | Path]) -> list[Path]:
    """Expand files and folders into the article files to read, in a stable order."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files.extend(sorted(p for p in item.rglob("*") if p.suffix in ARTICLE_SUFFIXES))
        elif item.exists():
            files.append(item)
        else:
            raise ArticleError(f"{item}: no such file or folder")
    return files
