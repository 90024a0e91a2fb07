"""Classifier families behind one surface: ``fit(texts, targets)`` and ``predict_proba(texts)``.

Every family predicts all heads at once and returns, per head, an array whose columns follow
``schema.HEADS[head]`` (a label unseen in training gets probability 0). A fitted model is saved
to a directory with a ``stance_model.json`` that names its family and format version, so
`load_model_dir` can rebuild it without knowing the family up front.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np

from .schema import HEADS

FORMAT_VERSION = 1
META_FILE = "stance_model.json"


def align_columns(proba: np.ndarray, classes: list[str], head: str) -> np.ndarray:
    """Reorder an estimator's probability columns to the head's full label order."""
    out = np.zeros((proba.shape[0], len(HEADS[head])), dtype=np.float64)
    for j, label in enumerate(classes):
        out[:, HEADS[head].index(label)] = proba[:, j]
    return out


class TfidfModel:
    """Word and character TF-IDF features with one logistic-regression head per label set."""

    family = "tfidf"

    def __init__(self, word_ngrams=(1, 2), char_ngrams=(2, 5), min_df=1, C=4.0,
                 class_weight="balanced", max_iter=2000):
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.min_df = min_df
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _features(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        return FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=self.word_ngrams, min_df=self.min_df,
                                     sublinear_tf=True, strip_accents="unicode")),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams,
                                     min_df=self.min_df, sublinear_tf=True)),
        ])

    def fit(self, texts: list[str], targets: dict[str, list[str]]) -> TfidfModel:
        from sklearn.linear_model import LogisticRegression

        self.features_ = self._features()
        x = self.features_.fit_transform(texts)
        self.heads_ = {}
        for head in HEADS:
            clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
            self.heads_[head] = clf.fit(x, targets[head])
        return self

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        x = self.features_.transform(texts)
        return {
            head: align_columns(clf.predict_proba(x), list(clf.classes_), head)
            for head, clf in self.heads_.items()
        }

    def params(self) -> dict:
        return {"word_ngrams": self.word_ngrams, "char_ngrams": self.char_ngrams,
                "min_df": self.min_df, "C": self.C, "class_weight": self.class_weight}

    def save(self, path: Path) -> None:
        joblib.dump({"features": self.features_, "heads": self.heads_}, path / "tfidf.joblib")

    @classmethod
    def load(cls, path: Path, params: dict) -> TfidfModel:
        model = cls(**params)
        state = joblib.load(path / "tfidf.joblib")
        model.features_, model.heads_ = state["features"], state["heads"]
        return model


FAMILIES = {TfidfModel.family: TfidfModel}


def build_model(family: str, params: dict):
    """A new, unfitted model of a family, from a recipe's ``model`` params."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r} (known: {', '.join(sorted(FAMILIES))})")
    return FAMILIES[family](**params)


def save_model_dir(model, path: str | Path) -> Path:
    """Write a fitted model and its metadata into ``path`` (created)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save(path)
    meta = {"format_version": FORMAT_VERSION, "family": model.family,
            "params": model.params(), "heads": {h: list(v) for h, v in HEADS.items()}}
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
    return FAMILIES[meta["family"]].load(path, meta["params"])
