"""The whole path on real components: train -> MLflow run + registry -> load by alias -> score -> export -> serve."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest
from mlflow import MlflowClient

from stance.cli import main
from stance.predict import load
from stance.schema import PREDICTION_COLUMNS, SCORE_COLUMNS

from .conftest import RECIPES


@pytest.fixture
def trained(mlflow_store, small_labels, capsys):
    assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
    assert "registered stance version 1" in capsys.readouterr().out
    return mlflow_store


@pytest.mark.slow
def test_train_logs_run_and_registers_champion(trained):
    client = MlflowClient()
    version = client.get_model_version_by_alias("stance", "champion")
    assert str(version.version) == "1"
    run = client.get_run(version.run_id)
    for head in ("stance", "tone"):
        assert 0 < run.data.metrics[f"{head}_macro_f1"] <= 1
        assert f"{head}_f1_none" in run.data.metrics or f"{head}_f1_neutral" in run.data.metrics
    assert run.data.params["model.C"] == "4.0" and len(run.data.tags["data_sha256"]) == 64
    inputs = {i.dataset.name: i.dataset.digest for i in run.inputs.dataset_inputs}
    assert set(inputs) == {"train", "test", "genre-shift"} and len(set(inputs.values())) == 3
    assert 0 < run.data.metrics["gs_stance_macro_f1"] <= 1 and 0 < run.data.metrics["gs_tone_macro_f1"] <= 1
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"confusion_stance.png", "confusion_tone.png", "confusion_stance_genre_shift.png"} <= artifacts


@pytest.mark.slow
def test_second_run_is_challenger_not_champion(trained, small_labels):
    assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
    client = MlflowClient()
    assert client.get_model_version_by_alias("stance", "champion").version == 1
    assert client.get_model_version_by_alias("stance", "challenger").version == 2


@pytest.mark.slow
def test_score_export_and_offline_load(trained, articles_dir, tmp_path, capsys):
    (articles_dir / "broken.txt").write_bytes(b"\xff\xfe\x00garbage")
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(articles_dir), "--out", str(out)]) == 2  # one file skipped
    captured = capsys.readouterr()
    assert "skipped: " in captured.err and "broken.txt" in captured.err
    frame = pd.read_json(out, lines=True)
    assert list(frame.columns) == SCORE_COLUMNS and set(frame["model_version"]) == {"stance/1"}
    assert main(["score", str(articles_dir), "--out", str(out)]) == 1  # no overwrite without --force

    assert main(["export", "--out", str(tmp_path / "models" / "champion")]) == 0
    offline = load(tmp_path / "models" / "champion")
    assert offline.version == "stance/1"
    texts = frame["text"].head(5).tolist()
    assert [p["stance"] for p in offline.predict(texts)] == frame["stance"].head(5).tolist()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_mlflow_scoring_server_answers_with_the_schema(trained, tmp_path):
    port = _free_port()
    with open(tmp_path / "serve.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "stance.cli", "serve", "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(1)
        body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [
            ["“Any ship that enters these waters will be sunk,” the admiral said."],
            ["The UN chief called on all parties to allow aid convoys through."]]}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        article = ("MOGADISHU — The militia warned it would shell the airport. “We will not stop,” "
                   "its commander, Abdi Farah, said. Farah later denied targeting civilians.")
        body = json.dumps({"dataframe_records": [{"article": article, "id": "a1", "date": "2026-11-30",
                                                  "source": "wire"}]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        article_rows = json.loads(urllib.request.urlopen(request, timeout=30).read())["predictions"]
    finally:  # the whole process group: no MLflow or uvicorn process outlives the test
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    rows = answer["predictions"]
    assert len(rows) == 2 and list(rows[0]) == [*PREDICTION_COLUMNS, "model_version"]
    assert {r["model_version"] for r in rows} == {"stance/1"}
    # an article request: one row per sentence, offsets, speakers, the fields sent, the version
    assert [r["sentence_index"] for r in article_rows] == [0, 1, 2]
    assert list(article_rows[0])[:len(SCORE_COLUMNS)] == SCORE_COLUMNS
    assert {r["doc_id"] for r in article_rows} == {"a1"} and {r["date"] for r in article_rows} == {"2026-11-30"}
    assert article_rows[1]["speaker"] == article_rows[2]["speaker"] == "Abdi Farah"
    assert article_rows[1]["quote"] == "direct" and {r["model_version"] for r in article_rows} == {"stance/1"}
    assert article[article_rows[2]["start"]:article_rows[2]["end"]] == article_rows[2]["text"]
    assert abs(sum(rows[1][c] for c in PREDICTION_COLUMNS if c.startswith("p_stance_")) - 1) < 1e-6
