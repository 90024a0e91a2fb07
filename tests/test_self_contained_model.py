"""The logged model is self-contained: in a fresh virtual environment holding only MLflow and
the model's own requirements.txt (no `stance` installed), MLflow loads it, predicts what the
project predicts, and serves it.

Building the environment installs the requirements from the package index (a few minutes the
first time; pip's cache makes reruns quicker).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stance.articles import read_file, split_sentences
from stance.cli import main
from stance.predict import load
from stance.registry import PIP_REQUIREMENTS
from stance.schema import PREDICTION_COLUMNS

from .conftest import RECIPES, ROOT

PREDICT = """
import importlib.util, json, sys
import mlflow, pandas as pd
assert importlib.util.find_spec("stance") is None, "stance is installed in the fresh venv"
model = mlflow.pyfunc.load_model(sys.argv[1])
import stance
assert stance.__file__.startswith(sys.argv[1]), stance.__file__
texts = json.loads(sys.stdin.read())
print(json.dumps(model.predict(pd.DataFrame({"text": texts})).to_dict(orient="list")))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory, small_labels):
    """A TF-IDF model trained on the small label slice, exported from a temp store."""
    tmp = tmp_path_factory.mktemp("self-contained")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        mp.chdir(tmp)
        assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
        assert main(["export", "--model", "models:/stance/1", "--out", str(tmp / "model")]) == 0
    return tmp / "model"


@pytest.fixture(scope="module")
def venv(exported):
    """A clean venv (no system site-packages) with the model's requirements.txt installed."""
    folder = exported.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    assert "include-system-site-packages = false" in (folder / "pyvenv.cfg").read_text()
    install = subprocess.run([folder / "bin" / "python", "-m", "pip", "install", "--quiet", "-r",
                              exported / "requirements.txt"], env=_env(folder), capture_output=True, text=True,
                             check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    return folder


def _env(venv: Path) -> dict:
    """This environment minus anything that would leak the project's packages into the venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


def _sentences(n: int = 40) -> list[str]:
    path = min((ROOT / "examples" / "articles").glob("*.txt"))
    return [s.text for _, text in read_file(path) for s in split_sentences(text)][:n]


@pytest.mark.slow
def test_requirements_are_pinned_without_torch_and_code_travels(exported):
    lines = (exported / "requirements.txt").read_text().split()
    assert [line.split("==")[0] for line in lines] == PIP_REQUIREMENTS
    assert all(len(line.split("==")) == 2 and line.split("==")[1] for line in lines), lines
    assert not any(line.startswith("torch") for line in lines)
    assert (exported / "code" / "stance" / "predict.py").exists()


@pytest.mark.slow
def test_fresh_venv_loads_and_predicts_like_the_project(exported, venv):
    texts = _sentences()
    run = subprocess.run([venv / "bin" / "python", "-c", PREDICT, str(exported)], input=json.dumps(texts),
                         env=_env(venv), cwd=venv, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = json.loads(run.stdout.strip().splitlines()[-1])
    ours = load(exported).predict_frame(texts)
    # every pyfunc row names the model that made it (the REST answer carries it too)
    assert list(theirs) == [*PREDICTION_COLUMNS, "model_version"]
    assert set(theirs["model_version"]) == {"stance/1"}
    for column in PREDICTION_COLUMNS:
        if column in ("stance", "tone"):
            assert theirs[column] == ours[column].tolist()
        else:
            assert max(abs(a - b) for a, b in zip(theirs[column], ours[column])) < 1e-6


@pytest.mark.slow
def test_fresh_venv_serves_the_model(exported, venv, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(tmp_path / "serve.log", "w") as log:
        server = subprocess.Popen([venv / "bin" / "mlflow", "models", "serve", "-m", str(exported),
                                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                                  env=_env(venv), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(1)
        body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [[t] for t in _sentences(3)]}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        rows = json.loads(urllib.request.urlopen(request, timeout=30).read())["predictions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert len(rows) == 3 and list(rows[0]) == [*PREDICTION_COLUMNS, "model_version"]
    assert {r["model_version"] for r in rows} == {"stance/1"}
