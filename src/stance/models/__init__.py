"""Classifier families behind one surface: ``fit(texts, targets, dev)``, ``logits(texts)``,
``predict_proba(texts)``, ``save(path)`` and ``load(path, params)``.

Every family predicts all heads at once. ``logits`` returns, per head, an array whose columns
follow ``schema.HEADS[head]``; ``predict_proba`` is ``softmax(logits / temperature)`` with one
temperature per head fitted on the dev split (`calibrate`). A fitted model is saved to a
directory with a ``stance_model.json`` that names its family and format version, so
`load_model_dir` rebuilds it without knowing the family up front.

Families: ``tfidf`` (baseline), ``embed`` (frozen MiniLM + logistic regression), ``finetune``
(MiniLM fine-tuned with two heads, run by ONNX Runtime), and the two reference baselines
``lexicon`` (cue patterns from the codebook) and ``zeroshot`` (nearest codebook description).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..schema import HEADS
from .base import FORMAT_VERSION, META_FILE, Family, align_log_proba, fit_temperature, softmax
from .embed import EmbedModel
from .finetuned import FinetuneModel
from .tfidf import TfidfModel

__all__ = ["FAMILY_NAMES", "FORMAT_VERSION", "META_FILE", "EmbedModel", "Family", "FinetuneModel",
           "TfidfModel", "align_log_proba", "build_model", "fit_temperature", "load_model_dir",
           "save_model_dir", "softmax"]


def _families():
    from ..baselines import LexiconModel, ZeroShotModel
    from .distilled import DistillModel

    return {m.family: m for m in (TfidfModel, EmbedModel, FinetuneModel, DistillModel, LexiconModel, ZeroShotModel)}


FAMILY_NAMES = ("tfidf", "embed", "finetune", "distill", "lexicon", "zeroshot")


def build_model(family: str, params: dict):
    """A new, unfitted model of a family, from a recipe's ``model`` params."""
    families = _families()
    if family not in families:
        raise ValueError(f"unknown model family {family!r} (known: {', '.join(FAMILY_NAMES)})")
    return families[family](**(params or {}))


def save_model_dir(model, path: str | Path) -> Path:
    """Write a fitted model and its metadata into ``path`` (created)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save(path)
    meta = {"format_version": FORMAT_VERSION, "family": model.family, "params": model.params(),
            "temperature": model.temperature_, "heads": {h: list(v) for h, v in HEADS.items()}}
    (path / META_FILE).write_text(json.dumps(meta, indent=2))
    return path


def load_model_dir(path: str | Path):
    """Rebuild a fitted model from a directory written by `save_model_dir`."""
    path = Path(path)
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise FileNotFoundError(f"{path}: not a stance model directory (no {META_FILE})")
    meta = json.loads(meta_path.read_text())
    if meta["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{path}: model format {meta['format_version']} is newer than this "
                         f"stance ({FORMAT_VERSION}); upgrade stance")
    if meta["heads"] != {h: list(v) for h, v in HEADS.items()}:
        raise ValueError(f"{path}: model was trained on other label sets: {meta['heads']}")
    model = _families()[meta["family"]].load(path, meta["params"])
    model.temperature_ = meta.get("temperature", {})
    return model
