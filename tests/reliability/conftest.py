"""Reliability fixtures: real `stance` processes on a real MLflow store in a temp dir.

`stance` runs each command as `python -m stance.cli ...` in its own process, so a test sees
exactly what a user sees: exit code, stdout, stderr, files left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TFIDF = ROOT / "training" / "tfidf.yaml"


def store_env(folder: Path) -> dict:
    """The environment of a process using the MLflow store ``folder/mlflow.db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    return env


@pytest.fixture(scope="session")
def stance():
    """Run one `stance` command in a real process: stance(*args, cwd=..., env=...)."""

    def run(*args, cwd, env=None, timeout=600):
        env = env if env is not None else store_env(Path(cwd))
        return subprocess.run([sys.executable, "-m", "stance.cli", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    return run


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory, small_labels, stance):
    """A folder whose mlflow.db holds one TF-IDF version of `stance` (champion and challenger),
    trained by a real `stance train`; ``train`` is that process's result."""
    folder = tmp_path_factory.mktemp("store")
    result = stance("train", "--recipe", TFIDF, "--labels", small_labels, cwd=folder)
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "env": store_env(folder), "uri": store_env(folder)["MLFLOW_TRACKING_URI"],
            "train": result}


@pytest.fixture
def store_copy(trained_store, tmp_path):
    """A copy of the trained store's registry in tmp_path (the model files stay where they are,
    read only): a test can move aliases and add versions without touching the others."""
    folder = tmp_path / "store"
    folder.mkdir()
    shutil.copy(trained_store["folder"] / "mlflow.db", folder / "mlflow.db")
    return {"folder": folder, "env": store_env(folder), "uri": store_env(folder)["MLFLOW_TRACKING_URI"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _post(port: int, rows: list) -> tuple[int, dict]:
    """POST rows of the `text` column to /invocations; (status, JSON body)."""
    body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [[r] for r in rows]}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def post():
    """post(port, rows) -> (HTTP status, JSON body) of a real request to /invocations."""
    return _post


@pytest.fixture
def server(trained_store, tmp_path):
    """A real `stance serve` of the trained store on a free port, answering /ping; yields
    (process, port). It runs in its own process group; the group and any server process left on
    the port are killed afterwards, whatever the test did."""
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "stance.cli", "serve", "--port", str(port)],
                                   cwd=trained_store["folder"], env=trained_store["env"], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.time() < deadline, log.read_text()
                time.sleep(1)
        yield process, port
    finally:
        kill_group(process)
        for pid in server_processes(port):  # a server that escaped the group: leave none behind
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(name="port_is_free")
def port_is_free_fixture():
    """port_is_free(port) -> whether a new server could bind ``port`` now."""
    return port_is_free


@pytest.fixture(name="server_processes")
def server_processes_fixture():
    """server_processes(port) -> pids of MLflow/uvicorn processes still serving on ``port``."""
    return server_processes


def server_processes(port: int) -> list[int]:
    """Pids of MLflow or uvicorn processes whose command line names ``port``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            words = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if str(port) in words and any("mlflow" in w or "uvicorn" in w for w in words):
            found.append(int(proc.name))
    return found


def kill_group(process: subprocess.Popen) -> None:
    """SIGTERM to a process's group, then SIGKILL to whatever is left of it after 30 s."""
    for signum, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
