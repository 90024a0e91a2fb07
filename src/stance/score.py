"""Batch scoring: article files in, one row per sentence out (jsonl, csv or parquet).

Work is checkpointed per document in a hidden ``.OUT.partial.jsonl`` beside the output, so an
interrupted run resumes where it stopped; the final file appears atomically (write to a
temporary file, then rename). Unreadable inputs are reported and skipped, never fatal.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .articles import ArticleError, find_inputs, read_file, split_sentences
from .attribution import attribute
from .schema import SCORE_COLUMNS

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")


@dataclass
class ScoreReport:
    documents: int = 0
    sentences: int = 0
    resumed: int = 0
    skipped: list[str] = field(default_factory=list)


def partial_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial.jsonl")


def score_document(predictor, doc_id: str, text: str) -> list[dict]:
    """Rows (`schema.SCORE_COLUMNS`) for every sentence of one article."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    speakers = attribute([s.text for s in sentences])
    frame = predictor.predict_frame([s.text for s in sentences])
    rows = []
    for s, speaker, (_, pred) in zip(sentences, speakers, frame.iterrows()):
        rows.append({"doc_id": doc_id, "sentence_index": s.index, "start": s.start, "end": s.end,
                     "text": s.text, "speaker": speaker, **pred.to_dict(),
                     "model_version": predictor.version})
    return rows


def _read_partial(path: Path, version: str) -> tuple[set[str], list[dict]]:
    """Documents finished in an earlier, interrupted run, and their rows.

    A document counts as finished only once its ``{"_done": doc_id}`` marker line is written,
    so rows of a document cut off half-way are dropped and it is scored again.
    """
    done, rows = set(), []
    if not path.exists():
        return done, rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut off by the interruption
        if row["model_version"] != version:
            raise ValueError(f"{path}: partial output was scored with model {row['model_version']}, "
                             f"not {version}; rerun with --force to start over")
        if "_done" in row:
            done.add(row["_done"])
        else:
            rows.append(row)
    return done, [r for r in rows if r["doc_id"] in done]


def write_atomically(path: Path, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """Write a frame atomically in the format named by the file's extension."""
    writers = {".jsonl": lambda tmp: frame.to_json(tmp, orient="records", lines=True, force_ascii=False),
               ".csv": lambda tmp: frame.to_csv(tmp, index=False),
               ".parquet": lambda tmp: frame.to_parquet(tmp, index=False)}
    write_atomically(out, writers[out.suffix])


def check_output(out: str | Path, force: bool = False) -> Path:
    """Refuse an unknown output format, or an existing output without ``force``."""
    out = Path(out)
    if out.suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{out}: unknown output format {out.suffix!r} (use {', '.join(OUTPUT_FORMATS)})")
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to overwrite)")
    return out


def score_articles(inputs: list[str | Path], out: str | Path, predictor, force: bool = False,
                   progress: bool | None = None, log=None) -> ScoreReport:
    """Score every article under ``inputs`` into ``out``; return counts and the skipped files.

    Skipped files and the progress bar (on a terminal only) go to ``log`` (default: stderr).
    """
    from tqdm import tqdm

    log = log or sys.stderr
    out = check_output(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(out)
    if force and partial.exists():
        partial.unlink()
    done, kept = _read_partial(partial, predictor.version)
    if partial.exists():  # drop rows of a document cut off half-way before appending again
        with partial.open("w", encoding="utf-8") as sink:
            for row in kept:
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            for doc_id in done:
                sink.write(json.dumps({"_done": doc_id, "model_version": predictor.version}) + "\n")
    report = ScoreReport(resumed=len(done))
    files = find_inputs(inputs)
    seen_ids: set[str] = set()
    show = log.isatty() if progress is None else progress
    with partial.open("a", encoding="utf-8") as sink:
        for path in tqdm(files, desc="scoring", unit="file", disable=not show, file=log):
            try:
                docs = read_file(path)
            except (ArticleError, OSError) as err:
                report.skipped.append(str(err))
                print(f"skipped: {err}", file=log)
                continue
            for doc_id, text in docs:
                if doc_id in seen_ids:  # same file name in two folders: keep both, apart
                    doc_id = str(path) if path.suffix == ".txt" else f"{path}:{doc_id}"
                seen_ids.add(doc_id)
                report.documents += 1
                if doc_id in done:
                    continue
                rows = score_document(predictor, doc_id, text)
                for row in rows:
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.write(json.dumps({"_done": doc_id, "model_version": predictor.version}) + "\n")
                sink.flush()
                os.fsync(sink.fileno())
    _, rows = _read_partial(partial, predictor.version)
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    report.sentences = len(frame)
    write_table(frame, out)
    partial.unlink()
    return report


def summarise(path: str | Path) -> str:
    """A short text table: sentences per stance and per tone in a scored file."""
    path = Path(path)
    reader = {".jsonl": lambda p: pd.read_json(p, lines=True), ".csv": pd.read_csv,
              ".parquet": pd.read_parquet}[path.suffix]
    frame = reader(path)
    lines = [f"{path}: {frame['doc_id'].nunique()} articles, {len(frame)} sentences"]
    for head in ("stance", "tone"):
        counts = frame[head].value_counts()
        lines.append(f"  {head:<7}" + "  ".join(f"{k}={v}" for k, v in counts.items()))
    return "\n".join(lines)
