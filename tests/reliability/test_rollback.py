"""Issue 14, case 15: each `stance rollback` goes one champion further back (a second one used
to swap back to the newer version), and says so when there is nothing further back."""

import subprocess
import sys

import pytest
from mlflow import MlflowClient


def register_copy_of_v1(store: dict) -> None:
    """A new version of the same model as v1, registered by stance's own `register` (as training
    does): it becomes `challenger`."""
    code = ("from mlflow import MlflowClient; from stance import registry; registry.use_tracking(); "
            "v = MlflowClient().get_model_version('stance', '1'); print(registry.register(v.source, v.run_id))")
    subprocess.run([sys.executable, "-c", code], env=store["env"], check=True, capture_output=True)


@pytest.mark.slow
def test_each_rollback_goes_one_step_further_back(stance, store_copy, small_labels):
    client = MlflowClient(tracking_uri=store_copy["uri"], registry_uri=store_copy["uri"])

    def champion():
        return str(client.get_model_version_by_alias("stance", "champion").version)

    for version in ("2", "3"):  # two retrains, each promoted
        register_copy_of_v1(store_copy)
        result = stance("promote", "--force", "--labels", small_labels, cwd=store_copy["folder"])
        assert result.returncode == 0 and champion() == version, result.stderr

    result = stance("rollback", cwd=store_copy["folder"])
    assert result.returncode == 0 and champion() == "2"
    assert "champion -> stance/2 (was stance/3); 1 older champion(s) left to roll back to" in result.stdout
    result = stance("rollback", cwd=store_copy["folder"])
    assert result.returncode == 0 and champion() == "1", result.stdout
    assert "champion -> stance/1 (was stance/2); 0 older champion(s) left to roll back to" in result.stdout

    result = stance("rollback", cwd=store_copy["folder"])
    assert result.returncode == 1 and champion() == "1"
    assert result.stderr.strip().splitlines()[-1] == ("error: nothing further to roll back to: stance/1 is the "
                                                      "oldest champion on record")
