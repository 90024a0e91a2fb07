"""`stance summarise` on a real scored file: per-article and per-actor tables."""

import subprocess
import sys

import pandas as pd
import pytest

from stance.schema import STANCES, TONES
from stance.summaries import read_scores, summarise


def _stance(table):
    return table[[f"stance_{s}" for s in STANCES]].sum(axis=1)


def test_tables_add_up_to_the_scored_rows(scored, tmp_path):
    frame = read_scores(scored)
    paths = summarise(scored, tmp_path / "out")
    assert sorted(paths) == ["actors", "actors_by_month", "articles"]
    articles = pd.read_csv(paths["articles"])
    assert len(articles) == frame["doc_id"].nunique() == 8
    assert articles["sentences"].sum() == len(frame)
    assert (_stance(articles) == articles["sentences"]).all()
    assert (articles[[f"tone_{t}" for t in TONES]].sum(axis=1) == articles["sentences"]).all()
    assert (articles["statements"] == articles["sentences"] - articles["stance_none"]).all()
    assert set(articles["date"].astype(str).str[:7]) == {"2026-09", "2026-10", "2026-11"}
    actors = pd.read_csv(paths["actors"])
    assert actors["actor_key"].is_unique
    assert actors["sentences"].sum() == frame["actor"].notna().sum()
    by_month = pd.read_csv(paths["actors_by_month"])
    assert by_month["sentences"].sum() == actors["sentences"].sum()
    assert set(by_month["period"]) == {"2026-09-01", "2026-10-01", "2026-11-01"}


def test_actors_are_canonical_within_an_article(scored):
    frame = read_scores(scored)
    brandt = frame[(frame["doc_id"] == "pbz-011") & frame["speaker"].fillna("").str.contains("Brandt")]
    # the article names her "Chief Executive Annika Brandt", later "Brandt": the scorer already
    # writes one name per actor, and the summaries keep it
    assert len(brandt) >= 2 and set(brandt["speaker"]) == {"Annika Brandt"}
    assert set(brandt["actor"]) == {"Annika Brandt"} and set(brandt["actor_key"]) == {"annika brandt"}


def test_main_actors_and_week_periods_in_parquet(scored, tmp_path):
    paths = summarise(scored, tmp_path, fmt="parquet", period="week")
    articles = pd.read_parquet(paths["articles"]).set_index("doc_id")
    assert articles.loc["pbz-011", "main_actors"].split("; ")[0] == "Annika Brandt"
    weeks = pd.to_datetime(pd.read_parquet(paths["actors_by_week"])["period"])
    assert (weeks.dt.day_of_week == 0).all()  # weeks start on Monday


def test_without_dates_there_is_no_time_table(scored, tmp_path):
    plain = tmp_path / "plain.csv"
    pd.read_json(scored, lines=True, dtype=False).drop(columns=["date"]).to_csv(plain, index=False)
    assert sorted(summarise(plain, tmp_path / "out")) == ["actors", "articles"]


def test_existing_tables_are_kept_without_force(scored, tmp_path):
    summarise(scored, tmp_path)
    before = (tmp_path / "actors.csv").read_bytes()
    with pytest.raises(FileExistsError, match="actors|articles"):
        summarise(scored, tmp_path)
    summarise(scored, tmp_path, force=True)
    assert (tmp_path / "actors.csv").read_bytes() == before


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "stance.cli", *map(str, args)], capture_output=True, text=True, check=False)


def test_cli_writes_tables_and_names_bad_input(scored, tmp_path):
    done = _cli("summarise", scored, "--out-dir", tmp_path / "t", "--format", "parquet")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "actors.parquet").exists() and "actors ->" in done.stdout
    broken = tmp_path / "broken.csv"
    pd.read_json(scored, lines=True, dtype=False).drop(columns=["stance"]).to_csv(broken, index=False)
    bad_date = tmp_path / "bad_date.jsonl"
    frame = pd.read_json(scored, lines=True, dtype=False)
    frame.loc[3, "date"] = "last Tuesday"
    frame.to_json(bad_date, orient="records", lines=True)
    for path, problem in [(broken, "missing column(s) stance"), (bad_date, "row 4: unreadable date 'last Tuesday'"),
                          (tmp_path / "scores.txt", "unknown scores format")]:
        done = _cli("summarise", path, "--out-dir", tmp_path / "x")
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert str(path) in done.stderr and problem in done.stderr
