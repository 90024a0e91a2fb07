"""New labels in: read our JSONL, CSV, Label Studio and Argilla exports; validate; merge.

`import_batch` writes a new batch file ``labels/<batch>.jsonl`` and never edits an existing
one. Every row is checked against the label sets (``file:line`` errors); if any row is invalid
nothing is written, unless ``skip_invalid`` sends the bad rows to ``labels/rejects/``. Rows whose
normalised text is already labelled the same way are skipped and counted; the same text with
other labels is a conflict, kept in the batch but left out of training until resolved.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .data import (
    RESOLUTIONS_FILE,
    LabelError,
    find_conflicts,
    label_files,
    normalise_text,
    read_jsonl,
    read_test_docs,
    row_errors,
    where,
)
from .schema import HEADS

FORMATS = ("jsonl", "csv", "label-studio", "argilla")


@dataclass
class ImportReport:
    path: Path | None = None
    written: int = 0
    skipped_same: int = 0
    in_test_split: int = 0
    rejected: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str:
    if path.suffix == ".csv":
        return "csv"
    if path.suffix == ".jsonl":
        return "jsonl"
    text = path.read_text(encoding="utf-8").lstrip()
    if text.startswith("["):
        try:
            first = (json.loads(text) or [{}])[0]
        except json.JSONDecodeError as err:
            raise LabelError([f"{path}:{err.lineno}: broken JSON ({err.msg})"]) from None
        if "annotations" in first or "predictions" in first:
            return "label-studio"
        if "fields" in first or "responses" in first or any(k.endswith(".responses") for k in first):
            return "argilla"
    raise LabelError([f"{path}: unknown format (use --format {'|'.join(FORMATS)})"])


def _json_list(path: Path) -> tuple[list, str]:
    text = path.read_text(encoding="utf-8")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise LabelError([f"{path}:{err.lineno}: broken JSON ({err.msg})"]) from None
    if not isinstance(items, list):
        raise LabelError([f"{path}: expected a JSON list of tasks/records, found {type(items).__name__}"])
    return items, text


def _object_lines(text: str) -> list[int]:
    """Line where each top-level object of a JSON list starts (for error messages; braces
    inside strings can shift it, which only makes a message point near the object)."""
    lines, depth, line = [], 0, 1
    for char in text:
        if char == "\n":
            line += 1
        elif char == "{":
            if depth == 1:
                lines.append(line)
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "[" and depth == 0:
            depth = 1
    return lines


def _line_of(lines: list[int], index: int) -> int:
    return lines[index] if index < len(lines) else 1


def _choices(result: dict) -> list | None:
    """The chosen values of one Label Studio result; None when ``value`` is null or not Choices."""
    value = result.get("value")
    choices = value.get("choices") if isinstance(value, dict) else None
    return choices if isinstance(choices, list) and choices else None


def read_label_studio(path: Path) -> list[dict]:
    """Tasks of a Label Studio JSON export of the two-choice config (labels/README.md).

    Each task's latest non-cancelled annotation gives ``stance`` and ``tone`` (Choices named
    so); the task's ``data`` gives ``text`` and optionally ``id``, ``doc_id``, ``speaker``.
    """
    items, text = _json_list(path)
    starts = _object_lines(text)
    rows = []
    for i, task in enumerate(items):
        line = _line_of(starts, i)
        if not isinstance(task, dict):
            rows.append({"_error": f"{path}:{line}: task {i} is a {type(task).__name__}, not a JSON object"})
            continue
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        row = {"text": data.get("text"), "id": data.get("id") or data.get("sid"), "doc_id": data.get("doc_id"),
               "speaker": data.get("speaker"), "_file": str(path), "_line": line}
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not annotations:
            row["_error"] = f"{path}:{line}: task {task.get('id', i)} has no annotation"
        else:
            result = annotations[-1].get("result") or []
            for head in HEADS:
                choice = [_choices(r) for r in result if isinstance(r, dict) and r.get("from_name") == head]
                choice = [c for c in choice if c]
                if choice:
                    row[head] = choice[0][0]
                else:
                    row["_error"] = (f"{path}:{line}: task {task.get('id', i)} has no '{head}' choice "
                                     f"(allowed: {', '.join(HEADS[head])})")
        rows.append(row)
    return rows


def _argilla_value(record: dict, name: str):
    responses = record.get("responses")
    responses = responses.get(name) if isinstance(responses, dict) else None
    if isinstance(responses, list) and responses:
        first = responses[0]
        return first.get("value") if isinstance(first, dict) else first
    flat = record.get(f"{name}.responses")
    if isinstance(flat, list) and flat:
        return flat[0]
    return None


def read_argilla(path: Path) -> list[dict]:
    """Records of an Argilla dataset export (`records.to_json`, nested or flattened).

    ``fields.text`` (or ``text``) is the sentence; the first response to the ``stance`` and
    ``tone`` label questions gives the labels; ``metadata`` may carry ``doc_id`` and ``speaker``.
    """
    items, text = _json_list(path)
    starts = _object_lines(text)
    rows = []
    for i, record in enumerate(items):
        line = _line_of(starts, i)
        if not isinstance(record, dict):
            rows.append({"_error": f"{path}:{line}: record {i} is a {type(record).__name__}, not a JSON object"})
            continue
        fields = record.get("fields") if isinstance(record.get("fields"), dict) else record
        meta = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        row = {"text": fields.get("text"), "id": record.get("id"), "doc_id": meta.get("doc_id"),
               "speaker": meta.get("speaker"), "_file": str(path), "_line": line}
        for head in HEADS:
            value = _argilla_value(record, head)
            if value is None:
                row["_error"] = f"{path}:{line}: record {record.get('id', i)} has no '{head}' response"
            row[head] = value
        rows.append(row)
    return rows


def read_csv(path: Path) -> list[dict]:
    """CSV with a header ``text,stance,tone[,speaker,doc_id,id]``."""
    rows = []
    content = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(content))
    missing = {"text", "stance", "tone"} - set(reader.fieldnames or [])
    if missing:
        message = f"{path}:1: missing column(s) {', '.join(sorted(missing))} (expected text,stance,tone[,speaker,doc_id])"
        raise LabelError([message])
    for n, record in enumerate(reader, 2):
        extra = record.pop(None, None)  # DictReader keeps cells beyond the header under the key None
        row = {**{k: (v if v != "" else None) for k, v in record.items()}, "_file": str(path), "_line": n}
        if extra:
            row["_error"] = (f"{path}:{n}: {len(reader.fieldnames) + len(extra)} cells but the header has "
                             f"{len(reader.fieldnames)} (quote a text that holds a comma)")
        rows.append(row)
    return rows


def read_any(path: Path, fmt: str | None = None) -> tuple[list[dict], list[str]]:
    """Rows from any supported format, and parse errors."""
    path = Path(path)
    if not path.exists():
        raise LabelError([f"{path}: no such file"])
    try:
        fmt = fmt or detect_format(path)
        if fmt == "jsonl":
            return read_jsonl(path)
        rows = {"csv": read_csv, "label-studio": read_label_studio, "argilla": read_argilla}[fmt](path)
    except UnicodeDecodeError:
        raise LabelError([f"{path}: not UTF-8 text"]) from None
    errors = [r["_error"] for r in rows if "_error" in r]
    return [r for r in rows if "_error" not in r], errors


def _batch_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    if not clean:
        raise LabelError([f"batch name {name!r}: use letters, digits, '-', '_' or '.'"])
    return clean


def import_batch(source: str | Path, batch: str, labels: str | Path = "labels", fmt: str | None = None,
                 skip_invalid: bool = False, annotator: str | None = None) -> ImportReport:
    """Validate ``source`` and write its new rows to ``labels/<batch>.jsonl``; see the module doc."""
    labels, source = Path(labels), Path(source)
    name = _batch_name(batch)
    out = labels / f"{name}.jsonl"
    if out.exists():
        raise LabelError([f"{out}: batch already exists (choose another --batch name)"])
    rows, errors = read_any(source, fmt)
    report = ImportReport()
    good, bad = [], []
    for n, row in enumerate(rows):
        row.setdefault("doc_id", None)
        row["doc_id"] = row["doc_id"] or name
        row["id"] = str(row.get("id") or f"{name}-{n:05d}")
        row.setdefault("speaker", None)
        problems = row_errors(row)
        (bad if problems else good).append(row)
        errors.extend(problems)
    if errors and not skip_invalid:
        raise LabelError(errors)
    existing_rows = []
    for file in label_files(labels) if any(labels.glob("*.jsonl")) else []:
        existing_rows.extend(read_jsonl(file)[0])
    known = {normalise_text(r["text"]): r for r in existing_rows if isinstance(r.get("text"), str)}
    known_ids = {r.get("id") for r in existing_rows}
    test_docs = read_test_docs(labels)
    test_texts = {normalise_text(r["text"]) for r in existing_rows if r.get("doc_id") in test_docs}
    keep = []
    for row in good:
        key = normalise_text(row["text"])
        if key in test_texts:
            report.in_test_split += 1  # its text is a test sentence: never enters training
            continue
        first = known.get(key)
        if first and (first["stance"], first["tone"]) == (row["stance"], row["tone"]):
            report.skipped_same += 1
            continue
        if row["id"] in known_ids:
            row["id"] = f"{name}-{row['id']}"
        if first:
            report.conflicts.append(f"{where(row)}: {row['stance']}/{row['tone']} vs {where(first)}: "
                                    f"{first['stance']}/{first['tone']} — {row['text'][:80]!r}")
        known.setdefault(key, row)
        keep.append(row)
    for a, b in find_conflicts(keep):
        report.conflicts.append(f"{where(b)}: {b['stance']}/{b['tone']} vs {where(a)}: {a['stance']}/{a['tone']}")
    # a row's own provenance (e.g. source "written") is kept; the import fills in what is missing
    lines = []
    for r in keep:
        record = {k: v for k, v in r.items() if not k.startswith("_")}
        record["source"] = record.get("source") or source.name
        record["added"] = record.get("added") or date.today().isoformat()
        if annotator:
            record["annotator"] = annotator
        lines.append(json.dumps(record, ensure_ascii=False))
    if bad:
        rejects = labels / "rejects" / f"{name}.jsonl"
        rejects.parent.mkdir(parents=True, exist_ok=True)
        rejects.write_text("".join(json.dumps({"row": {k: v for k, v in r.items() if not k.startswith("_")},
                                               "errors": row_errors(r)}, ensure_ascii=False) + "\n" for r in bad))
        report.rejected = len(bad)
    report.errors = errors
    if lines:
        from .score import write_text

        write_text(out, "\n".join(lines) + "\n")
        report.path = out
    report.written = len(lines)
    return report


def list_conflicts(labels: str | Path = "labels") -> list[str]:
    """Every unresolved conflict in the label batches, one line each."""
    from .data import _read_batches, conflict_message

    rows, _ = _read_batches(labels)
    rows = [r for r in rows if not row_errors(r)]
    return [conflict_message(a, b) + f" — {b['text'][:80]!r}" for a, b in find_conflicts(rows)]


def resolve(text_or_id: str, stance: str, tone: str, labels: str | Path = "labels") -> int:
    """Settle a conflict: every row with this text (or this row id's text) takes these labels.

    Appends to ``labels/resolutions/resolutions.jsonl``; the batch files stay untouched.
    Returns the number of rows the resolution applies to.
    """
    from .data import _read_batches

    for head, value in (("stance", stance), ("tone", tone)):
        if value not in HEADS[head]:
            raise LabelError([f"unknown {head} {value!r} (allowed: {', '.join(HEADS[head])})"])
    rows, _ = _read_batches(labels)
    by_id = {r.get("id"): r for r in rows}
    text = by_id[text_or_id]["text"] if text_or_id in by_id else text_or_id
    matching = [r for r in rows if normalise_text(str(r.get("text", ""))) == normalise_text(text)]
    if not matching:
        raise LabelError([f"{text_or_id!r}: no labelled row has this id or text"])
    path = Path(labels) / RESOLUTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"text": text, "stance": stance, "tone": tone,
                              "added": date.today().isoformat()}, ensure_ascii=False) + "\n")
    return len(matching)
