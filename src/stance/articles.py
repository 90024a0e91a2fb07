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
# File types read as articles, by lower-cased suffix.
ARTICLE_SUFFIXES = {".txt": "text", ".md": "text", ".text": "text", ".jsonl": "jsonl",
                    ".ndjson": "jsonl", ".parquet": "parquet"}
# Keys that make a JSONL row a line of a scores file (an earlier output), not an article.
SCORE_MARKERS = {"doc_id", "sentence_index", "model_version"}


class ArticleError(ValueError):
    """An input file that cannot be read as articles; the message names the file."""


@dataclass(frozen=True)
class Article:
    doc_id: str
    text: str
    meta: dict  # every other input field (date, source, url, ...), carried to output rows


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
        # only the tail of the previous sentence matters; slicing all of it is quadratic
        if spans and _continues(text[max(spans[-1][0], spans[-1][1] - 24):spans[-1][1]], text[s:e], first):
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


def _decode(data: bytes, where: str) -> str:
    if b"\x00" in data[:4096]:
        raise ArticleError(f"{where}: binary file, expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(f"{where}: not UTF-8 (byte {err.start}); re-save it as UTF-8") from None


def _json_type(value) -> str:
    kinds = {type(None): "null", bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
    return kinds.get(type(value), type(value).__name__)


def _doc_id(value, fallback: str) -> str:
    """A JSON ``id`` as a string; missing, null, bool or a container falls back to file:line."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return fallback


def _meta_value(value):
    """Metadata is carried as strings so every output row has one column type per key."""
    return value if isinstance(value, str) or value is None else json.dumps(value, ensure_ascii=False)


def _jsonl_articles(path: Path, problems: list[str]) -> Iterator[Article]:
    """One article per line; a bad line is reported in ``problems`` and skipped, the rest read."""
    with path.open("rb") as lines:
        for n, raw in enumerate(lines, 1):
            where = f"{path}:{n}"
            try:
                line = _decode(raw, where) if n > 1 else _decode(raw, where).lstrip("\ufeff")
            except ArticleError as err:
                problems.append(str(err))
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(f"{where}: broken JSON ({err.msg}); line skipped")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: expected a JSON object, got {_json_type(row)}; line skipped")
                continue
            if n == 1 and SCORE_MARKERS <= row.keys():
                problems.append(f"{path}: a stance scores file, not articles; file skipped")
                return
            text = row.get("text")
            if not isinstance(text, str):
                got = "missing" if "text" not in row else f"{_json_type(text)} {json.dumps(text)[:30]}"
                problems.append(f"{where}: 'text' must be a string, got {got}; line skipped")
                continue
            if not text.strip():
                problems.append(f"{where}: empty 'text'; line skipped")
                continue
            meta = {k: _meta_value(v) for k, v in row.items() if k not in ("id", "text")}
            yield Article(_doc_id(row.get("id"), f"{path.stem}:{n}"), text, meta)


def _parquet_articles(path: Path, problems: list[str]) -> Iterator[Article]:
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise ArticleError(f"{path}: not a readable Parquet file ({err})") from None
    if "text" not in source.schema_arrow.names:
        raise ArticleError(f"{path}: no 'text' column (columns: {', '.join(source.schema_arrow.names)})")
    n = 0
    for batch in source.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            n += 1
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{path}: row {n}: 'text' is empty or not a string; row skipped")
                continue
            meta = {k: _meta_value(v) for k, v in row.items() if k not in ("id", "text")}
            yield Article(_doc_id(row.get("id"), f"{path.stem}:{n}"), text, meta)


def iter_articles(path: Path, problems: list[str]) -> Iterator[Article]:
    """Articles in one file, read lazily: .txt/.md is one article; .jsonl and .parquet one per row.

    Problems with single rows are appended to ``problems`` and those rows skipped; a file that
    cannot be read at all raises `ArticleError`.
    """
    kind = ARTICLE_SUFFIXES.get(path.suffix.lower())
    if kind == "text":
        text = _decode(path.read_bytes(), str(path))
        if not text.strip():
            raise ArticleError(f"{path}: empty file")
        yield Article(path.stem, text, {})
    elif kind == "jsonl":
        yield from _jsonl_articles(path, problems)
    elif kind == "parquet":
        yield from _parquet_articles(path, problems)
    else:
        raise ArticleError(f"{path}: not an article file (use {', '.join(ARTICLE_SUFFIXES)})")


def read_file(path: Path) -> list[tuple[str, str]]:
    """Articles in one file as (doc_id, text); the first bad row raises `ArticleError`."""
    problems: list[str] = []
    docs = [(a.doc_id, a.text) for a in iter_articles(path, problems)]
    if problems:
        raise ArticleError(problems[0])
    if not docs:
        raise ArticleError(f"{path}: no articles in file")
    return docs


def find_inputs(inputs: list[str | Path], exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Expand files and folders into the article files to read, in a stable order.

    Inside folders, hidden files and folders (the scorer's own work files), files of other
    types and the paths in ``exclude`` (the output being written) are left out.
    """
    skip = {p.resolve() for p in exclude}
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = (p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
                     and not any(part.startswith(".") for part in p.relative_to(item).parts))
            files.extend(sorted(p for p in found if p.resolve() not in skip))
        elif item.exists():
            if item.resolve() not in skip:
                files.append(item)
        else:
            raise ArticleError(f"{item}: no such file or folder")
    return files
