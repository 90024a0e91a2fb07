"""A real scored file for the summary and report tests: labelled articles scored by the real
scorer with the TF-IDF model, each article carrying a date and a source."""

from __future__ import annotations

import json

import pandas as pd
import pytest

DOCS = ["pbz-011", "ukr-001", "asi-001", "pel-001", "oth-004", "mde-022", "afc-001", "rtc-001"]
DATES = ["2026-09-03", "2026-09-20", "2026-10-02", "2026-10-15", "2026-10-28", "2026-11-04",
         "2026-11-19", "2026-11-30"]


@pytest.fixture(scope="session")
def articles_jsonl(tmp_path_factory, all_rows):
    """Eight labelled articles as one .jsonl input with id, text, date and source."""
    from stance.data import article_texts

    texts = article_texts([r for r in all_rows if r["doc_id"] in DOCS])
    path = tmp_path_factory.mktemp("inputs") / "articles.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(json.dumps({"id": doc_id, "text": texts[doc_id], "date": date, "source": "labels"}) + "\n" for doc_id, date in zip(DOCS, DATES))
    return path


@pytest.fixture(scope="session")
def scored(tmp_path_factory, articles_jsonl, tfidf_model):
    """The articles scored into a .jsonl by `score_articles`; the date and source columns are
    added from the input when the scorer does not carry them itself."""
    from stance.predict import Predictor
    from stance.score import score_articles

    out = tmp_path_factory.mktemp("scores") / "scores.jsonl"
    score_articles([articles_jsonl], out, Predictor(tfidf_model, version="stance/test"), progress=False)
    frame = pd.read_json(out, lines=True, dtype=False)
    inputs = pd.read_json(articles_jsonl, lines=True, dtype=False).rename(columns={"id": "doc_id"})
    missing = [c for c in ("date", "source") if c not in frame.columns]
    if missing:
        frame = frame.merge(inputs[["doc_id", *missing]], on="doc_id", how="left")
        frame.to_json(out, orient="records", lines=True, force_ascii=False)
    return out
