"""Issue 14, case 12: a `stance train` killed with kill -9 while its MLflow run is open used to
leave that run RUNNING for ever; the next `stance train` or `stance compare` marks it FAILED."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

RECIPE = Path(__file__).resolve().parents[2] / "training" / "tfidf.yaml"


def running_run(db: Path) -> str | None:
    """The id of a RUNNING run in the SQLite store, read the way any other process would."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT run_uuid FROM runs WHERE status = 'RUNNING'").fetchone()
    except sqlite3.OperationalError:  # tables not created yet, or locked for a moment
        return None
    return row[0] if row else None


@pytest.mark.slow
def test_run_killed_mid_logging_is_marked_failed_by_the_next_command(stance, small_labels, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}, "MLFLOW_TRACKING_URI": uri}
    train = subprocess.Popen([sys.executable, "-m", "stance.cli", "train", "--recipe", str(RECIPE),
                              "--labels", str(small_labels)], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while (run_id := running_run(tmp_path / "mlflow.db")) is None:
        assert train.poll() is None and time.time() < deadline, "training ended before its run was seen"
        time.sleep(0.05)
    train.send_signal(signal.SIGKILL)
    train.wait()
    client = MlflowClient(tracking_uri=uri)
    assert client.get_run(run_id).info.status == "RUNNING"  # what the kill leaves behind

    result = stance("compare", "--no-baselines", "--labels", small_labels, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"run {run_id} was left RUNNING by process {train.pid}, which is gone: marked FAILED" in result.stderr
    assert client.get_run(run_id).info.status == "FAILED"
