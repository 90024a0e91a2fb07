"""Load a trained model from MLflow or a local directory and predict stance and tone.

`load(uri)` returns a `Predictor`; its `predict(texts)` gives one dict per sentence and
`predict_frame(texts)` the same as a DataFrame with `schema.PREDICTION_COLUMNS`. The batch
scorer, the MLflow pyfunc model and the REST endpoint all go through `predict_frame`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import BadInputError
from .schema import HEADS, PREDICTION_COLUMNS, proba_columns


def _describe(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN: a JSON null in a frame
        return "null"
    return f"{type(value).__name__} {repr(value)[:40]}"


def check_texts(texts) -> list[str]:
    """``texts`` as a list of str (one str is one sentence); anything else is refused, naming
    the row and the value's type, rather than scored as its printed form."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray, dict, pd.DataFrame)) or not hasattr(texts, "__iter__"):
        raise BadInputError(f"texts: expected a str or a list of str, got {_describe(texts)}")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadInputError(f"row {i}: text is {_describe(text)}, expected a str")
    return texts


class Predictor:
    """A fitted model plus the version string written into every output row."""

    def __init__(self, model, version: str = "local", batch_size: int | None = None):
        self.model = model
        self.version = version
        self.batch_size = batch_size

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Per-head probability arrays (columns in `schema.HEADS` order), in input order.

        Sentences are sorted by length before batching so each batch pads little. With no
        ``batch_size`` the model gets them all at once and batches itself (the encoders sort
        and batch internally; TF-IDF is fastest on one large call).
        """
        texts = check_texts(texts)
        if not self.batch_size:
            return self.model.predict_proba(list(texts))
        order = np.argsort([len(t) for t in texts], kind="stable")
        parts = {head: np.zeros((len(texts), len(labels))) for head, labels in HEADS.items()}
        for i in range(0, len(texts), self.batch_size):
            idx = order[i : i + self.batch_size]
            proba = self.model.predict_proba([texts[j] for j in idx])
            for head in HEADS:
                parts[head][idx] = proba[head]
        return parts

    def predict_frame(self, texts: str | list[str]) -> pd.DataFrame:
        """Predictions for sentences as a DataFrame with `schema.PREDICTION_COLUMNS`."""
        texts = check_texts(texts)
        frame = pd.DataFrame(index=range(len(texts)))
        if not texts:
            return pd.DataFrame(columns=PREDICTION_COLUMNS)
        proba = self.predict_proba(texts)
        for head, labels in HEADS.items():
            best = proba[head].argmax(axis=1)
            frame[head] = [labels[i] for i in best]
            frame[f"{head}_score"] = proba[head][np.arange(len(texts)), best]
        for head in HEADS:
            for column, values in zip(proba_columns(head), proba[head].T):
                frame[column] = values
        return frame[PREDICTION_COLUMNS]

    def predict(self, texts: str | list[str]) -> list[dict]:
        """One dict per sentence: stance, stance_proba, tone, tone_proba."""
        frame = self.predict_frame(texts)
        out = []
        for _, row in frame.iterrows():
            item = {}
            for head, labels in HEADS.items():
                item[head] = row[head]
                item[f"{head}_proba"] = {label: float(row[f"p_{head}_{label}"]) for label in labels}
            out.append(item)
        return out

    def __call__(self, texts: str | list[str]) -> list[dict]:
        """The same as `predict`, as a transformers pipeline is called."""
        return self.predict(texts)


def exported_version(model_root: Path) -> str:
    """The version an exported MLflow model directory was made from (``stance/3``), else its name."""
    import json

    meta = Path(model_root) / "stance_export.json"
    return json.loads(meta.read_text())["version"] if meta.exists() else Path(model_root).name


def load(uri: str | Path, batch_size: int | None = None) -> Predictor:
    """A Predictor from ``models:/stance@champion``, ``runs:/...``, or a local model directory.

    A directory (exported MLflow model, or a bare fitted model) is read without importing
    MLflow, which keeps loading it to about a second plus the model's own files.
    """
    from .models import META_FILE, load_model_dir

    path = Path(uri)
    if path.is_dir() and (path / META_FILE).exists():  # a bare fitted-model directory
        return Predictor(load_model_dir(path), version=path.name, batch_size=batch_size)
    if path.is_dir() and (path / "MLmodel").exists():
        found = sorted(path.glob("artifacts/*/" + META_FILE))
        if found:
            return Predictor(load_model_dir(found[0].parent), version=exported_version(path), batch_size=batch_size)
    from . import registry

    model, version = registry.load_model(str(uri))
    return Predictor(model, version=version, batch_size=batch_size)
