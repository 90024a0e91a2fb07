"""Everything MLflow: tracking URI, run logging, the pyfunc model, registry versions and aliases.

This is the only module that imports mlflow. The default store is an embedded SQLite file
(`mlflow.db`) in the working directory; `MLFLOW_TRACKING_URI` points it anywhere else.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from .errors import BadInputError, ModelNotFoundError
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


def use_tracking(existing: bool = False) -> str:
    """Point mlflow at the tracking store (called by commands, never at import).

    With ``existing``, a SQLite store that does not exist yet is an error: reading from it
    would only create an empty ``mlflow.db`` in the wrong folder.
    """
    uri = tracking_uri()
    if existing and uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).exists():
        raise ModelNotFoundError(f"no MLflow store at {uri[len('sqlite:///'):]}: run stance in the folder where "
                                 f"you trained (or set MLFLOW_TRACKING_URI), or train one with: stance train")
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
        from .predict import Predictor, exported_version

        model_dir = Path(context.artifacts["model_dir"])
        # `stance serve` names the registry version; an exported directory records it itself
        version = os.environ.get("STANCE_MODEL_VERSION") or exported_version(model_dir.parents[1])
        self.predictor = Predictor(load_model_dir(model_dir), version=version)

    def predict(self, context, model_input, params=None):
        """Sentences in (a ``text`` column), predictions out; or articles in (an ``article``
        column, optional ``id`` and metadata columns), one row per sentence out (`score`'s rows)."""
        try:
            if isinstance(model_input, pd.DataFrame) and "article" in model_input:
                return self._articles(model_input)
            if isinstance(model_input, pd.DataFrame):
                texts = model_input["text"].tolist() if "text" in model_input else model_input.iloc[:, 0].tolist()
            else:
                texts = model_input  # a str is one sentence; bytes, numbers, None are refused below
            frame = self.predictor.predict_frame(texts)
            frame["model_version"] = self.predictor.version
            return frame
        except BadInputError as err:  # the scoring server answers 400 with this message
            raise mlflow.exceptions.MlflowException.invalid_parameter_value(str(err)) from None

    def _articles(self, frame: pd.DataFrame) -> pd.DataFrame:
        from .score import score_documents

        docs = []
        for i, row in enumerate(frame.to_dict("records")):
            text = row.pop("article")
            if not isinstance(text, str) or not text.strip():
                raise BadInputError(f"row {i}: article is {type(text).__name__ if text is not None else 'null'}"
                                    ", expected a non-empty str")
            doc_id = row.pop("id", None)
            row.pop("text", None)
            meta = {k: v for k, v in row.items() if not _missing(v)}
            docs.append((f"doc-{i}" if _missing(doc_id) else str(doc_id), text, meta))
        return pd.DataFrame(score_documents(self.predictor, docs))


# Columns a request may send: sentences (`text`) or articles (`article`, with an optional `id`
# and metadata that is carried to every sentence row).
REQUEST_COLUMNS = ("text", "article", "id", "date", "source", "url", "title")


def _missing(value) -> bool:
    """A field a request did not send: None, or the NaN pandas fills such cells with."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def signature() -> ModelSignature:
    outputs = [ColSpec("string" if c in ("stance", "tone") else "double", c) for c in PREDICTION_COLUMNS]
    outputs.append(ColSpec("string", "model_version"))
    inputs = [ColSpec("string", c, required=False) for c in REQUEST_COLUMNS]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


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
    first = alias_version("champion") is None
    version = mlflow.register_model(model_uri, REGISTERED_MODEL, tags=tags or {}).version
    if first:  # champion before challenger: a crash in between leaves no version without champion
        client.set_registered_model_alias(REGISTERED_MODEL, "champion", version)
    client.set_registered_model_alias(REGISTERED_MODEL, "challenger", version)
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


def delete_alias(alias: str) -> None:
    MlflowClient().delete_registered_model_alias(REGISTERED_MODEL, alias)


def model_tag(key: str) -> str | None:
    """A tag of the registered `stance` model (not of a version), or None."""
    try:
        return MlflowClient().get_registered_model(REGISTERED_MODEL).tags.get(key)
    except mlflow.exceptions.MlflowException:
        return None


def set_model_tag(key: str, value: str) -> None:
    MlflowClient().set_registered_model_tag(REGISTERED_MODEL, key, value)


def owner_tags() -> dict[str, str]:
    """Run tags naming this process, so a run left RUNNING by a killed process can be told apart."""
    return {"stance.pid": str(os.getpid()), "stance.host": socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def fail_abandoned_runs(log=print) -> list[str]:
    """Mark FAILED every RUNNING run started on this host by a process that is gone (kill -9)."""
    client = MlflowClient()
    experiments = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(experiments, "attributes.status = 'RUNNING'", max_results=1000) if experiments else []
    failed = []
    for run in found:
        pid, host = run.data.tags.get("stance.pid", ""), run.data.tags.get("stance.host")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            client.set_terminated(run.info.run_id, "FAILED")
            log(f"run {run.info.run_id} was left RUNNING by process {pid}, which is gone: marked FAILED")
            failed.append(run.info.run_id)
    return failed


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
    """A readable version string for output rows, e.g. ``stance/3``; a one-line
    ModelNotFoundError for a model, alias or version that is not registered."""
    if not uri.startswith("models:/"):
        return uri
    name, _, ref = uri[len("models:/"):].partition("@")
    name, _, number = name.partition("/")
    client = MlflowClient()
    try:
        model = client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        raise ModelNotFoundError(f"{uri}: no model registered as {name!r} in {tracking_uri()}; "
                                 f"train one with: stance train") from None
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
    listed = ", ".join(map(str, versions)) or "none"
    if ref and ref not in model.aliases:
        if ref == "champion" and versions:  # e.g. a run killed between registering and the alias
            raise ModelNotFoundError(f"{uri}: no version holds the alias 'champion' (registered versions: "
                                     f"{listed}); give it one with: stance compare --promote")
        raise ModelNotFoundError(f"{uri}: no such model alias (registered aliases: "
                                 f"{', '.join(sorted(model.aliases)) or 'none'})")
    if ref:
        return f"{name}/{model.aliases[ref]}"
    if number.isdigit() and int(number) not in versions:
        raise ModelNotFoundError(f"{uri}: no such version (registered versions: {listed})")
    return f"{name}/{number}"


def _download(uri: str, dst: str) -> Path:
    """Download a model's files; an unknown run or path is a one-line ModelNotFoundError."""
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst))
    except (mlflow.exceptions.MlflowException, OSError) as err:
        message = str(getattr(err, "message", err)).strip().splitlines() or [type(err).__name__]
        raise ModelNotFoundError(f"{uri}: {message[0]}") from None


def _check_uri(uri: str) -> None:
    """A local path that is not a model folder gets a clear error, not an MLflow traceback."""
    path = Path(uri)
    if ":/" not in uri and not path.is_dir():
        what = "is a file, not a model directory" if path.exists() else "no such model directory"
        raise ModelNotFoundError(f"{uri}: {what} (give an exported model folder or a URI such as "
                                 f"models:/{REGISTERED_MODEL}@champion)")


def check_model(uri: str) -> str:
    """The version string of a model URI or folder; a one-line ModelNotFoundError when the
    folder, the tracking store, the registered model, the alias or the version does not exist."""
    _check_uri(uri)
    if Path(uri).is_dir():
        return uri
    use_tracking(existing=True)
    return _resolve_version(uri)


def _open_modes(root: Path) -> None:
    """Give a tree the modes plain mkdir/open would (0777/0666 less the umask): mkdtemp made it 0700."""
    mask = os.umask(0)
    os.umask(mask)
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            executable = path.is_dir() or path.stat().st_mode & 0o111
            os.chmod(path, (0o777 if executable else 0o666) & ~mask)


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
    version = check_model(uri)
    download = tempfile.TemporaryDirectory(prefix="stance-download-")
    local = _download(uri, download.name)
    model = load_model_dir(_model_dir_from_pyfunc(local))
    model.download_ = download  # the files live as long as the model, then are removed
    return model, version


def export(uri: str, out: Path, force: bool = False) -> Path:
    """Copy a model from the registry into an MLflow model directory for offline use."""
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to replace it)")
    version = check_model(uri)
    tmp = Path(tempfile.mkdtemp(dir=out.parent if out.parent.exists() else None, prefix=".export-"))
    try:
        local = _download(uri, str(tmp))
        (local / EXPORT_FILE).write_text(json.dumps({"model_uri": uri, "version": version}, indent=2))
        _open_modes(local)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
