"""Scoring articles: article text in, one row per sentence out (offsets, speaker, quote, labels).

`score_document` and `score_documents` score articles held in memory; `score_articles` scores
files (.txt, .md, .jsonl, .parquet, or folders of them) into a .jsonl, .csv or .parquet file.
Sentences of many articles are predicted together in large batches (the predictor sorts them
by length); finished batches go to crash-safe part files (see `outputs`), so an interrupted
run resumes where it stopped and memory stays flat. One run at a time may write an output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from .articles import Article, ArticleError, find_inputs, iter_articles, split_sentences
from .attribution import attribute_with_quotes
from .outputs import (
    BASE_SCHEMA,
    assemble,
    check_output,
    output_lock,
    read_parts,
    remove_work,
    work_dir,
    write_atomically,
    write_part,
    write_text,
)
from .schema import HEADS, SCORE_COLUMNS, proba_columns
from .speakers import canonical_speakers, speaker_key

__all__ = ["ScoreReport", "check_output", "score_articles", "score_document", "score_documents",
           "summarise", "write_atomically", "write_text"]

BATCH_SENTENCES = 4096  # sentences predicted together and written as one part file


@dataclass
class ScoreReport:
    documents: int = 0
    sentences: int = 0
    resumed: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per file or row left out
    renamed: list[str] = field(default_factory=list)  # duplicate ids given a suffix


@dataclass
class _Split:
    """One article split and attributed, waiting for its predictions."""

    doc_id: str
    meta: dict
    spans: list[tuple[int, int]]
    texts: list[str]
    speakers: list[str | None]
    keys: list[str | None]
    quotes: list[str]


def _split(article: Article) -> _Split:
    sentences = split_sentences(article.text)
    texts = [s.text for s in sentences]
    speakers, quotes = attribute_with_quotes(texts)
    speakers = canonical_speakers(speakers)
    return _Split(article.doc_id, article.meta, [(s.start, s.end) for s in sentences], texts, speakers,
                  [speaker_key(s) for s in speakers], quotes)


def _meta_column(name: str) -> str:
    """An input field keeps its name unless it would overwrite an output column."""
    return f"input_{name}" if name in BASE_SCHEMA.names else name


def _table(predictor, splits: list[_Split]) -> pa.Table:
    """The output rows of a batch of split articles, predicted in one call, as a table."""
    texts = [t for s in splits for t in s.texts]
    n = len(texts)
    columns: dict[str, pa.Array | list] = {
        "doc_id": [s.doc_id for s in splits for _ in s.texts],
        "sentence_index": [i for s in splits for i in range(len(s.texts))],
        "start": [a for s in splits for a, _ in s.spans],
        "end": [b for s in splits for _, b in s.spans],
        "text": texts,
        "speaker": [x for s in splits for x in s.speakers],
        "speaker_key": [x for s in splits for x in s.keys],
        "quote": [q for s in splits for q in s.quotes],
    }
    proba = predictor.predict_proba(texts) if n else {h: np.zeros((0, len(v))) for h, v in HEADS.items()}
    for head, labels in HEADS.items():
        best = proba[head].argmax(axis=1) if n else np.zeros(0, dtype=int)
        columns[head] = np.asarray(labels, dtype=object)[best].tolist()
        columns[f"{head}_score"] = proba[head][np.arange(n), best]
    for head in HEADS:
        for name, values in zip(proba_columns(head), proba[head].T):
            columns[name] = values
    columns["model_version"] = [predictor.version] * n
    table = pa.table({c: pa.array(columns[c], type=BASE_SCHEMA.field(c).type) for c in SCORE_COLUMNS})
    extra = list(dict.fromkeys(k for s in splits for k in s.meta))
    for key in extra:
        values = [s.meta.get(key) for s in splits for _ in s.texts]
        table = table.append_column(pa.field(_meta_column(key), pa.string()), pa.array(values, pa.string()))
    return table


def _as_article(doc, n: int) -> Article:
    if isinstance(doc, Article):
        return doc
    if isinstance(doc, str):
        return Article(f"doc-{n}", doc, {})
    doc_id, text, *rest = doc
    if not isinstance(text, str):
        raise TypeError(f"document {n} ({doc_id!r}): text must be a string, got {type(text).__name__}")
    return Article(str(doc_id), text, dict(rest[0]) if rest and rest[0] else {})


def score_documents(predictor, docs: Iterable) -> list[dict]:
    """Rows for many articles: each doc is an `Article`, ``(doc_id, text)``, ``(doc_id, text,
    meta)`` or a bare text. Metadata keys become extra columns on every row of their article."""
    splits = [_split(_as_article(doc, n)) for n, doc in enumerate(docs)]
    return _table(predictor, splits).to_pylist() if splits else []


def score_document(predictor, doc_id: str, text: str, meta: dict | None = None) -> list[dict]:
    """Rows (`schema.SCORE_COLUMNS` plus ``meta``'s keys) for every sentence of one article."""
    return score_documents(predictor, [(doc_id, text, meta or {})])


def _articles(files: list[Path], report: ScoreReport, log) -> Iterator[Article]:
    """Every readable article, with ids made unique; problems are reported and skipped."""
    seen: dict[str, int] = {}
    for path in files:
        problems: list[str] = []
        try:
            for article in iter_articles(path, problems):
                for line in problems:
                    _skip(report, line, log)
                problems.clear()
                doc_id = article.doc_id
                if doc_id in seen:  # same name in two folders, or a repeated id: keep both, apart
                    seen[doc_id] += 1
                    new = str(path) if path.suffix.lower() in (".txt", ".md", ".text") else f"{doc_id}#{seen[doc_id]}"
                    report.renamed.append(f"{path}: duplicate id {doc_id!r} scored as {new!r}")
                    print(f"renamed: {report.renamed[-1]}", file=log)
                    doc_id = new
                seen.setdefault(doc_id, 1)
                yield Article(doc_id, article.text, article.meta)
        except (ArticleError, OSError) as err:
            _skip(report, str(err), log)
        for line in problems:
            _skip(report, line, log)


def _skip(report: ScoreReport, line: str, log) -> None:
    report.skipped.append(line)
    print(f"skipped: {line}", file=log)


def _batches(articles: Iterable[Article], done: set[str], report: ScoreReport, size: int,
             workers: int) -> Iterator[list[_Split]]:
    """Split articles (in ``workers`` processes when > 1) into batches of about ``size`` sentences."""
    todo = (a for a in articles if _count(a, done, report))
    pool = None
    if workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(workers)
        split = pool.imap(_split, todo, chunksize=16)
    else:
        split = map(_split, todo)
    try:
        batch, sentences = [], 0
        for item in split:
            batch.append(item)
            sentences += len(item.texts)
            if sentences >= size:
                yield batch
                batch, sentences = [], 0
        if batch:
            yield batch
    finally:
        if pool is not None:
            pool.terminate()


def _count(article: Article, done: set[str], report: ScoreReport) -> bool:
    report.documents += 1
    return article.doc_id not in done


def score_articles(inputs: list[str | Path], out: str | Path, predictor, force: bool = False,
                   progress: bool | None = None, log=None, batch_sentences: int = BATCH_SENTENCES,
                   workers: int = 1) -> ScoreReport:
    """Score every article under ``inputs`` into ``out``; return counts and what was skipped.

    Skipped files and rows, renamed ids and the progress bar (on a terminal only) go to ``log``
    (default: stderr). The output itself is never read as input.
    """
    from tqdm import tqdm

    log = log or sys.stderr
    out = check_output(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = find_inputs(inputs, exclude=(out,))
    if not files:
        raise ArticleError(f"{', '.join(map(str, inputs))}: no article files found "
                           "(.txt, .md, .jsonl, .ndjson or .parquet)")
    with output_lock(out):
        work = work_dir(out)
        if force:
            remove_work(work)
        work.mkdir(exist_ok=True)
        done, parts = read_parts(work, predictor.version)
        report = ScoreReport(resumed=len(done))
        show = log.isatty() if progress is None else progress
        bar = tqdm(desc="scoring", unit=" articles", disable=not show, file=log)
        index = len(parts)
        for batch in _batches(_articles(files, report, log), done, report, batch_sentences, workers):
            write_part(work, index, _table(predictor, batch), [s.doc_id for s in batch], predictor.version)
            index += 1
            bar.update(len(batch))
        bar.close()
        _, parts = read_parts(work, predictor.version)
        report.sentences = assemble(parts, out)
        remove_work(work)
    return report


def summarise(path: str | Path) -> str:
    """A short text table: sentences per stance and per tone in a scored file."""
    import pandas as pd

    path = Path(path)
    reader = {".jsonl": lambda p: pd.read_json(p, lines=True), ".csv": pd.read_csv,
              ".parquet": pd.read_parquet}[path.suffix]
    frame = reader(path)
    lines = [f"{path}: {frame['doc_id'].nunique()} articles, {len(frame)} sentences"]
    for head in ("stance", "tone"):
        counts = frame[head].value_counts()
        lines.append(f"  {head:<7}" + "  ".join(f"{k}={v}" for k, v in counts.items()))
    return "\n".join(lines)
