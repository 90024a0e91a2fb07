"""Labelled sentences: read `labels/*.jsonl`, validate them, build `datasets`, split by article.

Validation collects every problem as a `file:line: ...` message; the train and test sets
are split by document from a frozen list (`labels/test_docs.txt`), never by sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

from .schema import HEADS, REQUIRED_FIELDS

TEST_DOCS_FILE = "test_docs.txt"
GENRE_SHIFT_DIR = "genre_shift"  # evaluation only: never read by `label_files`, never trained on


class LabelError(ValueError):
    """Invalid label rows; ``errors`` holds one ``file:line: problem`` line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(errors[0] + more)


def normalise_text(text: str) -> str:
    """Text as compared for duplicates: case, whitespace and quote style folded."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[“”„«»\"]", '"', text)
    text = re.sub(r"[‘’`]", "'", text)
    return " ".join(text.casefold().split())


def read_jsonl(path: Path) -> tuple[list[dict], list[str]]:
    """Rows of one JSONL file, each tagged with ``_file`` and ``_line``, and parse errors."""
    rows, errors = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return [], [f"{path}: not UTF-8 text"]
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{path}:{n}: broken JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            errors.append(f"{path}:{n}: expected a JSON object, found {type(row).__name__}")
            continue
        rows.append({**row, "_file": str(path), "_line": n})
    return rows, errors


def row_errors(row: dict) -> list[str]:
    """Problems with one row on its own: missing fields, empty text, unknown labels."""
    where = f"{row.get('_file', '?')}:{row.get('_line', '?')}"
    missing = [f for f in REQUIRED_FIELDS if f not in row]
    if missing:
        return [f"{where}: missing field(s) {', '.join(missing)} (required: {', '.join(REQUIRED_FIELDS)})"]
    errors = []
    if not isinstance(row["text"], str) or not row["text"].strip():
        errors.append(f"{where}: empty text")
    for head, allowed in HEADS.items():
        if row[head] not in allowed:
            errors.append(f"{where}: unknown {head} {row[head]!r} (allowed: {', '.join(allowed)})")
    return errors


def find_conflicts(rows: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of rows with the same normalised text but different labels (first seen, other)."""
    first: dict[str, dict] = {}
    pairs = []
    for row in rows:
        seen = first.setdefault(normalise_text(row["text"]), row)
        if seen is not row and (seen["stance"], seen["tone"]) != (row["stance"], row["tone"]):
            pairs.append((seen, row))
    return pairs


def where(row: dict) -> str:
    return f"{row.get('_file', '?')}:{row.get('_line', '?')}"


def conflict_message(first: dict, other: dict) -> str:
    return (f"{where(other)}: same text as {where(first)} with different labels "
            f"({other['stance']}/{other['tone']} vs {first['stance']}/{first['tone']})")


def validate_rows(rows: list[dict], errors: list[str] | None = None, conflicts: bool = True) -> None:
    """Raise LabelError listing every invalid row, duplicate id and (if ``conflicts``) conflicting text."""
    errors = list(errors or [])
    seen_ids: dict[str, str] = {}
    valid = []
    for row in rows:
        own = row_errors(row)
        errors.extend(own)
        if own:
            continue
        valid.append(row)
        if row["id"] in seen_ids:
            errors.append(f"{where(row)}: duplicate id {row['id']!r} (first at {seen_ids[row['id']]})")
        seen_ids.setdefault(row["id"], where(row))
    if conflicts:
        errors.extend(conflict_message(a, b) for a, b in find_conflicts(valid))
    if errors:
        raise LabelError(errors)


def label_files(labels: str | Path) -> list[Path]:
    """The batch files of a labels folder (or a single file), in a stable order."""
    path = Path(labels)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise LabelError([f"{path}: no *.jsonl label files"])
    return files


RESOLUTIONS_FILE = "resolutions/resolutions.jsonl"


def read_resolutions(labels: str | Path) -> dict[str, dict]:
    """Settled conflicts: normalised text -> the labels every row with that text takes."""
    folder = Path(labels) if Path(labels).is_dir() else Path(labels).parent
    path = folder / RESOLUTIONS_FILE
    rows, errors = read_jsonl(path) if path.exists() else ([], [])
    if errors:
        raise LabelError(errors)
    return {normalise_text(r["text"]): r for r in rows}


def _read_batches(labels: str | Path) -> tuple[list[dict], list[str]]:
    rows, errors = [], []
    for file in label_files(labels):
        file_rows, file_errors = read_jsonl(file)
        rows.extend(file_rows)
        errors.extend(file_errors)
    resolved = read_resolutions(labels)
    for row in rows:
        fix = resolved.get(normalise_text(str(row.get("text", ""))))
        if fix:
            row.update(stance=fix["stance"], tone=fix["tone"], resolved=True)
    return rows, errors


def load_labels(labels: str | Path = "labels") -> list[dict]:
    """Read and validate every label file; raise LabelError on any problem, conflicts included."""
    rows, errors = _read_batches(labels)
    validate_rows(rows, errors)
    return rows


def load_training_labels(labels: str | Path = "labels") -> tuple[list[dict], list[tuple[dict, dict]]]:
    """(rows, conflicts): like `load_labels`, but the same text with different labels is not an
    error: both rows are left out (until resolved) and the pairs are returned for the record."""
    rows, errors = _read_batches(labels)
    validate_rows(rows, errors, conflicts=False)
    pairs = find_conflicts(rows)
    bad = {normalise_text(a["text"]) for a, _ in pairs}
    return [r for r in rows if normalise_text(r["text"]) not in bad], pairs


def content_hash(files: list[Path]) -> str:
    """SHA-256 over the names and bytes of the label files: the data version."""
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(Path(file).name.encode() + b"\0" + Path(file).read_bytes())
    return digest.hexdigest()


def lineage(files: list[Path], rows: list[dict], conflicts: list[tuple[dict, dict]]) -> dict:
    """Which batch files a model learned from: content hash and per-label counts of each,
    and the conflicting pairs that were left out."""
    from collections import Counter

    batches = []
    for file in files:
        mine = [r for r in rows if Path(r["_file"]) == Path(file)]
        batches.append({"file": Path(file).name, "sha256": hashlib.sha256(Path(file).read_bytes()).hexdigest(),
                        "rows": len(mine), "stance": dict(Counter(r["stance"] for r in mine)),
                        "tone": dict(Counter(r["tone"] for r in mine))})
    left_out = [{"text": a["text"], "rows": [where(a), where(b)],
                 "labels": [f"{a['stance']}/{a['tone']}", f"{b['stance']}/{b['tone']}"]} for a, b in conflicts]
    return {"data_sha256": content_hash(files), "batches": batches, "conflicts_left_out": left_out}


def read_test_docs(labels: str | Path = "labels") -> set[str]:
    """The frozen test split: document ids listed in ``labels/test_docs.txt``."""
    path = Path(labels) / TEST_DOCS_FILE if Path(labels).is_dir() else Path(labels).parent / TEST_DOCS_FILE
    if not path.exists():
        return set()
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def split_by_doc(rows: list[dict], test_docs: set[str]) -> tuple[list[dict], list[dict]]:
    """(train, test) rows: a document is wholly in one of them, and a training row whose text
    is also in a test document is dropped (it would leak the test split into training)."""
    test = [r for r in rows if r["doc_id"] in test_docs]
    test_texts = {normalise_text(r["text"]) for r in test}
    train = [r for r in rows if r["doc_id"] not in test_docs and normalise_text(r["text"]) not in test_texts]
    return train, test


def load_genre_shift_rows(labels: str | Path = "labels") -> list[dict]:
    """The genre-shift split (``labels/genre_shift/*.jsonl``): sentences in the genres real
    feeds carry, by writers who wrote no training data. Empty if the folder is absent."""
    folder = Path(labels) if Path(labels).is_dir() else Path(labels).parent
    rows, errors = [], []
    for file in sorted((folder / GENRE_SHIFT_DIR).glob("*.jsonl")):
        file_rows, file_errors = read_jsonl(file)
        rows.extend(file_rows)
        errors.extend(file_errors)
    validate_rows(rows, errors)
    return rows


def drop_texts(rows: list[dict], held_out: list[dict]) -> list[dict]:
    """``rows`` without any whose normalised text is also in ``held_out`` (no evaluation leaks)."""
    texts = {normalise_text(r["text"]) for r in held_out}
    return [r for r in rows if normalise_text(r["text"]) not in texts]


def load_test_rows(labels: str | Path = "labels") -> list[dict]:
    """The frozen test split's rows, loaded as training loads them (conflicts left out)."""
    rows, _ = load_training_labels(labels)
    return split_by_doc(rows, read_test_docs(labels))[1]


def dev_split(rows: list[dict], fraction: float = 0.15, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(train, dev) carved by document with a stable hash, so a document never straddles them."""

    def bucket(doc_id: str) -> float:
        h = hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64

    dev_docs = {r["doc_id"] for r in rows if bucket(r["doc_id"]) < fraction}
    return split_by_doc(rows, dev_docs)


def to_dataset(rows: list[dict]):
    """A Hugging Face Dataset with ClassLabel columns for each head."""
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features(
        {
            "id": Value("string"),
            "doc_id": Value("string"),
            "text": Value("string"),
            "speaker": Value("string"),
            "hard": Value("bool"),
            **{head: ClassLabel(names=list(labels)) for head, labels in HEADS.items()},
        }
    )
    columns = {name: [] for name in features}
    for row in rows:
        for name in features:
            value = row.get(name)
            columns[name].append(bool(value) if name == "hard" else value)
    return Dataset.from_dict(columns, features=features)


def article_texts(rows: list[dict]) -> dict[str, str]:
    """Rebuild each labelled article: sentences of a paragraph joined by a space, paragraphs by a blank line."""
    paragraphs: dict[str, dict[int, list[str]]] = {}
    for row in rows:
        doc = paragraphs.setdefault(row["doc_id"], {})
        doc.setdefault(int(row.get("paragraph") or 0), []).append(row["text"])
    return {doc_id: "\n\n".join(" ".join(p[k]) for k in sorted(p)) + "\n"
            for doc_id, p in paragraphs.items()}
