"""Issue 14, cases 11 and 12: a missing store, model, alias, version, run or folder is a
one-line error naming it (it used to be a 30-line MLflow traceback), and nothing is created
on the way (an empty ./mlflow.db used to appear wherever stance was run)."""

import os

import pytest
from mlflow import MlflowClient

ARTICLE = "“There is no threat to the city,” the mayor said on Monday."


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "in" / "a.txt"
    path.parent.mkdir()
    path.write_text(ARTICLE)
    return path


@pytest.fixture
def registry(mlflow_store, tmp_path):
    """A real store with `stance` versions 1 and 2 (champion and challenger), made with the
    MLflow client; the model files do not matter, every error here comes before they are read."""
    client = MlflowClient()
    client.create_registered_model("stance")
    for _ in range(2):
        client.create_model_version("stance", source=str(tmp_path / "nothing"))
    client.set_registered_model_alias("stance", "champion", "1")
    client.set_registered_model_alias("stance", "challenger", "2")
    return client


def one_line_error(result) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [x for x in result.stderr.splitlines() if " INFO " not in x and "Warning" not in x]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_outside_the_project_folder_no_store_is_created(stance, article, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    for args in (["score", article, "--out", "o.jsonl"], ["export", "--out", "m"], ["rollback"],
                 ["serve", "--port", "1"]):
        line = one_line_error(stance(*args, cwd=elsewhere, env=env))
        assert line == (f"error: no MLflow store at {elsewhere / 'mlflow.db'}: run stance in the folder where you "
                        f"trained (or set MLFLOW_TRACKING_URI), or train one with: stance train")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("uri, message", [
    ("models:/stance@nope", "models:/stance@nope: no such model alias (registered aliases: challenger, champion)"),
    ("models:/stance/9", "models:/stance/9: no such version (registered versions: 1, 2)"),
    ("runs:/bad/model", "runs:/bad/model: Run with id=bad not found"),
    ("missing/champion", ("missing/champion: no such model directory (give an exported model folder or a "
                          "URI such as models:/stance@champion)")),
])
def test_unknown_model_is_one_line(stance, registry, article, tmp_path, uri, message):
    for args in (["score", article, "--out", "o.jsonl", "--model", uri], ["export", "--model", uri, "--out", "m"]):
        assert one_line_error(stance(*args, cwd=tmp_path)) == f"error: {message}"
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "m").exists()
    assert not list(tmp_path.glob(".export-*"))  # no half-made export left behind


def test_store_without_a_registered_model(stance, mlflow_store, article, tmp_path):
    MlflowClient().create_experiment("stance")  # a store that exists but where nothing was registered
    line = one_line_error(stance("score", article, "--out", "o.jsonl", cwd=tmp_path))
    assert line == (f"error: models:/stance@champion: no model registered as 'stance' in {mlflow_store}; "
                    f"train one with: stance train")


def test_versions_without_champion_say_how_to_give_one(stance, registry, article, tmp_path):
    # the state a kill -9 between registering a version and giving it an alias leaves behind
    registry.delete_registered_model_alias("stance", "champion")
    line = one_line_error(stance("score", article, "--out", "o.jsonl", cwd=tmp_path))
    assert line == ("error: models:/stance@champion: no version holds the alias 'champion' (registered "
                    "versions: 1, 2); give it one with: stance compare --promote")
