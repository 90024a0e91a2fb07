"""`stance score --engine spark` on a real local[2] Spark (Java needed): the same rows as the
local scorer, with bad input reported and skipped the same way."""

import json

import pandas as pd
import pytest

from stance.cli import main

from .conftest import RECIPES, ROOT


@pytest.fixture(scope="module")
def store(tmp_path_factory, small_labels):
    """A temp MLflow store holding one TF-IDF version (champion), used for the whole module."""
    tmp = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        mp.chdir(tmp)
        assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
        yield tmp


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["doc_id", "sentence_index"]).reset_index(drop=True)


def _same_rows(local: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(spark.columns) == list(local.columns)
    pd.testing.assert_frame_equal(_sorted(spark), _sorted(local), check_dtype=False, check_exact=False,
                                  rtol=0, atol=1e-6)


@pytest.mark.slow
def test_spark_rows_equal_local_rows_on_the_examples(store, capsys):
    examples = str(ROOT / "examples" / "articles")
    assert main(["score", examples, "--out", str(store / "local.parquet")]) == 0
    assert main(["score", "--engine", "spark", "--master", "local[2]", examples,
                 "--out", str(store / "spark.parquet")]) == 0
    assert "on Spark" in capsys.readouterr().out
    local = pd.read_parquet(store / "local.parquet")
    spark = pd.read_parquet(store / "spark.parquet")
    assert len(local) > 200 and local["doc_id"].nunique() == 16
    _same_rows(local, spark)
    assert set(spark["model_version"]) == {"stance/1"}
    # no overwrite without --force; with it, the folder is replaced
    assert main(["score", "--engine", "spark", examples, "--out", str(store / "spark.parquet")]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_spark_reads_jsonl_and_parquet_partitions_by_day_renames_repeats_and_skips_bad_rows_like_local(
        store, capsys):
    texts = [p.read_text() for p in sorted((ROOT / "examples" / "articles").glob("*.txt"))[:3]]
    inputs = store / "dated"
    inputs.mkdir()
    lines = [json.dumps({"id": "a", "text": texts[0], "date": "2026-03-01T08:00:00Z", "source": "wire"}),
             "{broken json",
             json.dumps({"id": "a", "text": texts[1], "date": "2026-03-02"}),  # a repeated id
             json.dumps({"text": texts[2], "date": "2026-03-02", "extra": {"k": 1}})]  # no id
    (inputs / "feed.jsonl").write_text("\n".join(lines) + "\n")
    (inputs / "binary.txt").write_bytes(b"\x00\x01garbage")
    pd.DataFrame({"id": ["p1"], "text": [texts[2]], "date": ["2026-03-03"]}).to_parquet(inputs / "more.parquet")
    assert main(["score", str(inputs), "--out", str(store / "dated_local.parquet")]) == 2
    local_err = capsys.readouterr().err
    assert main(["score", "--engine", "spark", "--master", "local[2]", str(inputs),
                 "--out", str(store / "dated_spark.parquet")]) == 2
    spark_err = capsys.readouterr().err
    for problem in ("feed.jsonl:2: broken JSON", "binary.txt: binary file"):
        assert problem in local_err and problem in spark_err
    days = sorted(p.name for p in (store / "dated_spark.parquet").glob("day=*"))
    assert days == ["day=2026-03-01", "day=2026-03-02", "day=2026-03-03"]
    spark = pd.read_parquet(store / "dated_spark.parquet")
    assert spark["day"].astype(str).tolist() == spark["date"].str[:10].tolist()
    local = pd.read_parquet(store / "dated_local.parquet")
    assert set(local["doc_id"]) == {"a", "a#2", "feed:4", "p1"}
    _same_rows(local, spark.drop(columns="day"))
