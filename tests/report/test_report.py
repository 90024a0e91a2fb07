"""`stance report` on a real scored file: one self-contained page with its data inline."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from stance.report import build_report
from stance.summaries import read_scores


def _data(page: str) -> dict:
    raw = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.DOTALL).group(1)
    return json.loads(raw)


def test_page_is_self_contained_with_every_sentence_inline(scored, tmp_path):
    out = tmp_path / "report.html"
    result = build_report(scored, out)
    page = out.read_text(encoding="utf-8")
    assert result["bytes"] == out.stat().st_size and result["articles"] == 8
    external = r"<(?:link|img|iframe)\b|<script[^>]+src=|@import|url\((?!#)|fetch\(|https?://(?!www\.w3\.org/)"
    assert not re.search(external, page)
    assert page.count("<svg") == 2  # stance by actor, stance per month (the rows carry dates)
    data = _data(page)
    frame = read_scores(scored)
    assert [a[0] for a in data["articles"]] == list(dict.fromkeys(frame["doc_id"]))
    spans = [(a[2][s[0]:s[1]], data["stances"][s[2]], data["tones"][s[3]]) for a in data["articles"] for s in a[3]]
    assert spans == list(zip(frame["text"], frame["stance"], frame["tone"]))
    # rebuilt from the sentences: the page says so
    assert "rebuilt from the scored sentences" in page


def test_original_articles_are_used_when_given(scored, articles_jsonl, tmp_path):
    out = tmp_path / "report.html"
    build_report(scored, out, articles=[str(articles_jsonl)])
    page = out.read_text(encoding="utf-8")
    originals = dict(pd.read_json(articles_jsonl, lines=True)[["id", "text"]].values)
    assert {a[0]: a[2] for a in _data(page)["articles"]} == originals
    assert "rebuilt" not in page


def test_actor_table_and_filter_lists_use_canonical_names(scored, tmp_path):
    out = tmp_path / "report.html"
    build_report(scored, out)
    page = out.read_text(encoding="utf-8")
    actors = dict(_data(page)["actors"])
    assert actors["annika brandt"] == "Annika Brandt"
    assert 'data-actor="annika brandt">Annika Brandt</a>' in page
    assert "Chief Executive Annika Brandt" not in actors.values()


def test_text_is_escaped_not_markup(scored, tmp_path):
    frame = pd.read_json(scored, lines=True, dtype=False)
    frame.loc[0, "text"] = "</script><script>alert(1)</script>"
    frame.loc[0, "end"] = frame.loc[0, "start"] + len(frame.loc[0, "text"])
    hostile = tmp_path / "hostile.jsonl"
    frame.to_json(hostile, orient="records", lines=True)
    out = tmp_path / "report.html"
    build_report(hostile, out)
    page = out.read_text(encoding="utf-8")
    assert page.count("<script") == 2 and "alert(1)" in page  # inside the JSON, as \u003c/script>


def test_refuses_overwrite_and_other_suffixes(scored, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("keep me")
    with pytest.raises(FileExistsError):
        build_report(scored, out)
    assert out.read_text() == "keep me"
    done = subprocess.run([sys.executable, "-m", "stance.cli", "report", str(scored), "--out", str(tmp_path / "r.txt")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "r.txt" in done.stderr
