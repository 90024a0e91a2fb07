"""Everything MLflow: tracking URI, run logging, the pyfunc model, registry versions and aliases.

This is the only module that imports mlflow. The default store is an embedded SQLite file
(`mlflow.db`) in the working directory; `MLFLOW_TRACKING_URI` points it anywhere else.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from .schema import PREDICTION_COLUMNS, REGISTERED_MODEL

EXPORT_FILE = "stance_export.json"
MODEL_DESCRIPTION = ("Stance (threat, denial, appeal, claim_of_success, none) and tone (hostile, conciliatory, "
                     "alarmed, confident, neutral) of news sentences. Input: a DataFrame with a `text` column, "
                     "one sentence per row; output: both labels, their scores and a probability per label. "
                     "Versions come from `stance train`; `champion` is the one scoring uses.")
# The scoring path needs no torch: the logged model's environment lists only what predict uses.
PIP_REQUIREMENTS = ["mlflow", "scikit-learn", "pandas", "numpy", "onnxruntime", "tokenizers",
                    "sentencex", "pyyaml"]


def pinned_requirements() -> list[str]:
    """PIP_REQUIREMENTS pinned to the versions installed here, so a fresh environment built
    from the model's requirements.txt predicts with the same libraries it was logged with."""
    from importlib import metadata

    pinned = []
    for name in PIP_REQUIREMENTS:
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, or an embedded SQLite store in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def use_tracking() -> str:
    """Point mlflow at the tracking store (called by commands, never at import)."""
    uri = tracking_uri()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI") or uri)
    return uri


class StancePyfunc(mlflow.pyfunc.PythonModel):
    """The MLflow face of a stance model: a DataFrame with a ``text`` column in, predictions out."""

    # The logged signature validates inputs; skip MLflow's type-hint wrapping (and its warning).
    _skip_type_hint_validation = True

    def load_context(self, context):
        from .models import load_model_dir
        from .predict import Predictor

        self.predictor = Predictor(load_model_dir(context.artifacts["model_dir"]))

    def predict(self, context, model_input, params=None):
        if isinstance(model_input, pd.DataFrame):
            texts = model_input["text"].tolist() if "text" in model_input else model_input.iloc[:, 0].tolist()
        elif isinstance(model_input, str):
            texts = [model_input]
        else:
            texts = list(model_input)
        return self.predictor.predict_frame(texts)


def signature() -> ModelSignature:
    outputs = [ColSpec("string" if c in ("stance", "tone") else "double", c) for c in PREDICTION_COLUMNS]
    return ModelSignature(inputs=Schema([ColSpec("string", "text")]), outputs=Schema(outputs))


def log_model(model_dir: Path, example_texts: list[str]) -> str:
    """Log a saved model directory as a pyfunc model in the active run; return its model URI."""
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).with_name("mlflow_model.py")),
        artifacts={"model_dir": str(model_dir)},
        signature=signature(),
        input_example=pd.DataFrame({"text": example_texts}),
        pip_requirements=pinned_requirements(),
        # the stance package travels with the model: loading needs no `pip install stance`
        code_paths=[str(Path(__file__).parent)],
    )
    return info.model_uri


def register(model_uri: str, run_id: str, tags: dict[str, str] | None = None) -> str:
    """Register a new version of the `stance` model; give it `challenger`, and `champion` if none."""
    client = MlflowClient()
    version = mlflow.register_model(model_uri, REGISTERED_MODEL, tags=tags or {}).version
    client.set_registered_model_alias(REGISTERED_MODEL, "challenger", version)
    if alias_version("champion") is None:
        client.set_registered_model_alias(REGISTERED_MODEL, "champion", version)
    return str(version)


def alias_version(alias: str) -> str | None:
    """The version holding an alias of the `stance` model, or None."""
    client = MlflowClient()
    try:
        return str(client.get_model_version_by_alias(REGISTERED_MODEL, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def set_alias(alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(REGISTERED_MODEL, alias, version)


def set_version_tags(version: str, tags: dict[str, str]) -> None:
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(REGISTERED_MODEL, version, key, str(value))


def describe(version: str, text: str) -> None:
    """Describe a version; give the registered model its description if it has none yet."""
    client = MlflowClient()
    if not client.get_registered_model(REGISTERED_MODEL).description:
        client.update_registered_model(REGISTERED_MODEL, description=MODEL_DESCRIPTION)
    client.update_model_version(REGISTERED_MODEL, version, description=text)


def list_versions() -> list[dict]:
    """Every registered version of `stance` with its run id, aliases and tags, oldest first."""
    client = MlflowClient()
    found = client.search_model_versions(f"name='{REGISTERED_MODEL}'")
    aliases: dict[str, list[str]] = {}
    if found:  # search results leave aliases out; the registered model has them
        for alias, version in client.get_registered_model(REGISTERED_MODEL).aliases.items():
            aliases.setdefault(str(version), []).append(alias)
    out = [{"version": str(v.version), "run_id": v.run_id, "aliases": sorted(aliases.get(str(v.version), [])),
            "tags": dict(v.tags), "source": v.source} for v in found]
    return sorted(out, key=lambda v: int(v["version"]))


def _resolve_version(uri: str) -> str:
    """A readable version string for output rows, e.g. ``stance/3``."""
    if uri.startswith("models:/"):
        name, _, ref = uri[len("models:/"):].partition("@")
        if ref:
            return f"{name}/{MlflowClient().get_model_version_by_alias(name, ref).version}"
        return uri[len("models:/"):]
    return uri


def _model_dir_from_pyfunc(local: Path) -> Path:
    found = list(local.glob("artifacts/*/stance_model.json"))
    if not found:
        raise FileNotFoundError(f"{local}: MLflow model holds no stance model artifacts")
    return found[0].parent


def load_model(uri: str):
    """(fitted model, version string) from an MLflow URI or an exported MLflow model directory."""
    from .models import load_model_dir

    path = Path(uri)
    if path.is_dir():
        if not (path / "MLmodel").exists():
            raise FileNotFoundError(f"{path}: not an MLflow model directory (no MLmodel file)")
        meta = path / EXPORT_FILE
        version = json.loads(meta.read_text())["version"] if meta.exists() else path.name
        return load_model_dir(_model_dir_from_pyfunc(path)), version
    use_tracking()
    version = _resolve_version(uri)
    download = tempfile.TemporaryDirectory(prefix="stance-download-")
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=download.name))
    model = load_model_dir(_model_dir_from_pyfunc(local))
    model.download_ = download  # the files live as long as the model, then are removed
    return model, version


def export(uri: str, out: Path, force: bool = False) -> Path:
    """Copy a model from the registry into an MLflow model directory for offline use."""
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to replace it)")
    use_tracking()
    version = _resolve_version(uri)
    tmp = Path(tempfile.mkdtemp(dir=out.parent if out.parent.exists() else None, prefix=".export-"))
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp)))
    (local / EXPORT_FILE).write_text(json.dumps({"model_uri": uri, "version": version}, indent=2))
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(local, out)
    shutil.rmtree(tmp, ignore_errors=True)
    return out
