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
import re
import shutil
import tempfile
from pathlib import Path

import joblib
import numpy as np

from .schema import HEADS

FORMAT_VERSION = 1
META_FILE = "stance_model.json"


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def align_log_proba(proba: np.ndarray, classes: list[str], head: str) -> np.ndarray:
    """Log-probabilities in the head's full label order (a label unseen in training gets ~0)."""
    out = np.full((proba.shape[0], len(HEADS[head])), 1e-9)
    for j, label in enumerate(classes):
        out[:, HEADS[head].index(label)] = np.maximum(proba[:, j], 1e-9)
    return np.log(out)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        p = softmax(logits / np.exp(log_t))
        return -np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


class Family:
    """What every family shares: calibrated probabilities and the metadata it is saved with."""

    family = ""
    temperature_: dict[str, float] | None = None  # set by `calibrate`; None means T = 1

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        logits = self.logits(texts)
        temperature = self.temperature_ or {}
        return {h: softmax(logits[h] / temperature.get(h, 1.0)) for h in HEADS}

    def calibrate(self, texts: list[str], targets: dict[str, list[str]]) -> dict[str, float]:
        """Fit one temperature per head on held-out (dev) sentences."""
        logits = self.logits(texts)
        self.temperature_ = {h: fit_temperature(logits[h], np.array([HEADS[h].index(y) for y in targets[h]]))
                             for h in HEADS}
        return self.temperature_

    def params(self) -> dict:
        return dict(self._params)


class TfidfModel(Family):
    """Word and character TF-IDF features with one logistic-regression head per label set."""

    family = "tfidf"

    def __init__(self, word_ngrams=(1, 2), char_ngrams=None, min_df=1, C=4.0,
                 class_weight="balanced", max_iter=2000):
        self._params = {"word_ngrams": list(word_ngrams), "char_ngrams": list(char_ngrams) if char_ngrams else None,
                        "min_df": min_df, "C": C, "class_weight": class_weight, "max_iter": max_iter}

    def fit(self, texts, targets, dev=None, sample_weight=None) -> TfidfModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        p = self._params
        parts = [("word", TfidfVectorizer(ngram_range=tuple(p["word_ngrams"]), min_df=p["min_df"], sublinear_tf=True))]
        if p["char_ngrams"]:  # more robust to spelling, but ~7x slower to score (pure-Python analyzer)
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]),
                                                  min_df=p["min_df"], sublinear_tf=True)))
        self.features_ = FeatureUnion(parts)
        x = self.features_.fit_transform(texts)
        self.heads_ = {h: LogisticRegression(C=p["C"], class_weight=p["class_weight"],
                                             max_iter=p["max_iter"]).fit(x, targets[h], sample_weight=sample_weight)
                       for h in HEADS}
        self._compile()
        return self

    def _compile(self) -> None:
        """Flatten the fitted word vectorizer and both heads into arrays for `_fast_logits`.

        scikit-learn's `transform` + `predict_proba` spend most of their time in per-n-gram
        Python and input validation. For the default word 1-2-gram analyzer the same numbers
        come from one regex pass and one dict lookup per batch, bigrams matched as integer
        pairs, and one weighted sum of both heads' stacked coefficients per sentence (tests
        check equality with the scikit-learn path). Any other analyzer keeps that path.
        """
        self.fast_ = None
        vec = self.features_.transformer_list[0][1]
        default_words = (len(self.features_.transformer_list) == 1 and vec.analyzer == "word"
                         and vec.token_pattern == r"(?u)\b\w\w+\b" and vec.tokenizer is None
                         and vec.preprocessor is None and vec.stop_words is None and vec.strip_accents is None
                         and vec.lowercase and tuple(vec.ngram_range) in ((1, 1), (1, 2)))
        if not default_words:
            return
        terms = vec.get_feature_names_out()
        unigram = {t: i for i, t in enumerate(terms) if " " not in t}
        sep = len(terms)  # id of the sentence separator token
        pair_keys, pair_cols = [], []
        for i, t in enumerate(terms):
            if " " in t:
                a, b = t.split(" ")
                if a not in unigram or b not in unigram:  # cannot happen with document-frequency pruning only
                    return
                pair_keys.append(unigram[a] * (sep + 1) + unigram[b])
                pair_cols.append(i)
        order = np.argsort(pair_keys)
        weights, biases, slices = [], [], {}
        for h, clf in self.heads_.items():
            coef, bias = clf.coef_, clf.intercept_
            if len(clf.classes_) == 2:  # binary: P(class 1) = sigmoid(z) = softmax([0, z])
                coef, bias = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], bias])
            start = sum(w.shape[1] for w in weights)
            slices[h] = (slice(start, start + len(clf.classes_)), list(clf.classes_))
            weights.append(coef.T)
            biases.append(bias)
        self.fast_ = {"token": re.compile(r"(?u)\b\w\w+\b|\x00"), "sep": sep,
                      "unigrams": {**unigram, "\x00": sep},
                      "pair_keys": np.array(pair_keys, dtype=np.int64)[order],
                      "pair_cols": np.array(pair_cols, dtype=np.int64)[order],
                      "idf": vec.idf_, "sublinear": vec.sublinear_tf,
                      "weights": np.ascontiguousarray(np.hstack(weights)), "bias": np.concatenate(biases),
                      "slices": slices}

    def _fast_logits(self, texts):
        from itertools import repeat

        f, n, sep = self.fast_, len(texts), self.fast_["sep"]
        lowered = [t.lower() for t in texts]
        joined = "\x00".join(lowered)
        if joined.count("\x00") != n - 1:  # a NUL inside a sentence would shift the rows
            joined = "\x00".join(t.replace("\x00", " ") for t in lowered)
        tokens = f["token"].findall(joined)
        ids = np.fromiter(map(f["unigrams"].get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        row = np.cumsum(ids == sep)
        known = (ids >= 0) & (ids != sep)
        rows, cols = [row[known]], [ids[known]]
        if len(f["pair_keys"]) and len(ids) > 1:
            both = known[:-1] & known[1:]
            keys = ids[:-1][both] * (sep + 1) + ids[1:][both]
            at = np.minimum(np.searchsorted(f["pair_keys"], keys), len(f["pair_keys"]) - 1)
            hit = f["pair_keys"][at] == keys
            rows.append(row[:-1][both][hit])
            cols.append(f["pair_cols"][at[hit]])
        # (row, column) -> term count, then tf-idf weights, l2-normalised per row
        cells, counts = np.unique(np.concatenate(rows) * sep + np.concatenate(cols), return_counts=True)
        rows, cols = cells // sep, cells % sep
        tf = 1.0 + np.log(counts) if f["sublinear"] else counts.astype(float)
        value = tf * f["idf"][cols]
        value /= np.sqrt(np.bincount(rows, weights=value**2, minlength=n))[rows]
        scores = np.tile(f["bias"], (n, 1))
        if len(rows):  # cells are sorted by row: sum each row's weighted coefficient rows at once
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            scores[rows[starts]] += np.add.reduceat(f["weights"][cols] * value[:, None], starts)
        out = {}
        for h, (span, classes) in f["slices"].items():
            z = scores[:, span] - scores[:, span].max(axis=1, keepdims=True)
            out[h] = align_log_proba(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), classes, h)
        return out

    def logits(self, texts):
        if getattr(self, "fast_", None) is not None:
            return self._fast_logits(texts)
        return self.sklearn_logits(texts)

    def sklearn_logits(self, texts):
        """Logits through scikit-learn's own `transform` and `predict_proba` (the reference path)."""
        x = self.features_.transform(texts)
        return {h: align_log_proba(clf.predict_proba(x), list(clf.classes_), h) for h, clf in self.heads_.items()}

    def save(self, path: Path) -> None:
        joblib.dump({"features": self.features_, "heads": self.heads_}, path / "tfidf.joblib")

    @classmethod
    def load(cls, path: Path, params: dict) -> TfidfModel:
        model = cls(**params)
        state = joblib.load(path / "tfidf.joblib")
        model.features_, model.heads_ = state["features"], state["heads"]
        model._compile()
        return model


class EmbedModel(Family):
    """Frozen sentence embeddings (MiniLM or mpnet, run by ONNX Runtime) with a head per label set:
    ``head: logreg`` (logistic regression) or ``head: mlp`` (one hidden layer of ``hidden`` units,
    L2 penalty ``alpha``, early stopping on a 10% slice of the training rows).

    ``tfidf_weight`` > 0 appends word n-gram TF-IDF features (scaled by the weight) to the
    embedding: the embedding carries what a sentence does, the n-grams the exact cue words
    ("categorically", "terrorists") that tone turns on. ``C`` and ``tfidf_weight`` take one value
    or one per head (``{"stance": 2, "tone": 3}``). While fitting, embeddings go through the
    on-disk cache, so a retrain encodes only new text.
    """

    family = "embed"

    def __init__(self, C=2.0, class_weight="balanced", max_iter=3000, batch_size=32, threads=None,
                 encoder="minilm", head="logreg", hidden=512, alpha=0.01, seed=13,
                 tfidf_weight=0.0, tfidf_ngrams=(1, 2), tfidf_min_df=2):
        if head not in ("logreg", "mlp"):
            raise ValueError(f"embed: unknown head {head!r} (known: logreg, mlp)")
        self._params = {"C": C, "class_weight": class_weight, "max_iter": max_iter,
                        "batch_size": batch_size, "threads": threads, "encoder": encoder,
                        "head": head, "hidden": hidden, "alpha": alpha, "seed": seed,
                        "tfidf_weight": tfidf_weight, "tfidf_ngrams": list(tfidf_ngrams),
                        "tfidf_min_df": tfidf_min_df}
        self.tfidf_ = None
        self.cache_key_ = None  # set while training: embeddings come from the cache

    def _encode(self, texts):
        from .encoder import cached_embeddings

        if self.cache_key_:
            return cached_embeddings(self.encoder_, self.cache_key_, texts, self._params["batch_size"])
        return self.encoder_.run(texts, self._params["batch_size"])["embedding"]

    def _per_head(self, name, head):
        value = self._params[name]
        return float(value[head]) if isinstance(value, dict) else float(value)

    def _head_c(self, head):
        return self._per_head("C", head)

    def _features(self, x, texts, head):
        """The head's input: the embedding, with weighted TF-IDF n-grams appended if configured."""
        weight = self._per_head("tfidf_weight", head)
        if self.tfidf_ is None or weight == 0:
            return x
        import scipy.sparse as sp

        return sp.hstack([sp.csr_matrix(x), weight * self.tfidf_.transform(texts)]).tocsr()

    def _new_head(self, head):
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier

        p = self._params
        if p["head"] == "mlp":
            return MLPClassifier((p["hidden"],), alpha=p["alpha"], early_stopping=True,
                                 random_state=p["seed"], max_iter=300)
        return LogisticRegression(C=self._head_c(head), class_weight=p["class_weight"], max_iter=p["max_iter"])

    def fit(self, texts, targets, dev=None, sample_weight=None) -> EmbedModel:
        from .encoder import OnnxEncoder, pooled_encoder_onnx

        self.folder_ = pooled_encoder_onnx(self._params["encoder"])
        self.encoder_ = OnnxEncoder(self.folder_, threads=self._params["threads"])
        self.cache_key_ = Path(self.folder_).name
        x = self._encode(texts)
        self.tfidf_ = None
        if any(self._per_head("tfidf_weight", h) for h in HEADS):
            from sklearn.feature_extraction.text import TfidfVectorizer

            p = self._params
            self.tfidf_ = TfidfVectorizer(ngram_range=tuple(p["tfidf_ngrams"]), min_df=p["tfidf_min_df"],
                                          sublinear_tf=True).fit(texts)
        self.heads_ = {h: self._new_head(h).fit(self._features(x, texts, h), targets[h], sample_weight=sample_weight)
                       for h in HEADS}
        return self

    def logits(self, texts):
        x = self._encode(texts)
        return {h: align_log_proba(clf.predict_proba(self._features(x, texts, h)), list(clf.classes_), h)
                for h, clf in self.heads_.items()}

    def save(self, path: Path) -> None:
        for name in ("encoder.onnx", "tokenizer.json"):
            if Path(self.folder_) != path:
                shutil.copy(Path(self.folder_) / name, path / name)
        joblib.dump(self.heads_, path / "heads.joblib")
        if self.tfidf_ is not None:
            joblib.dump(self.tfidf_, path / "tfidf.joblib")

    @classmethod
    def load(cls, path: Path, params: dict) -> EmbedModel:
        from .encoder import OnnxEncoder

        model = cls(**params)
        model.folder_ = path
        model.encoder_ = OnnxEncoder(path, threads=params.get("threads"))
        model.heads_ = joblib.load(path / "heads.joblib")
        model.tfidf_ = joblib.load(path / "tfidf.joblib") if (path / "tfidf.joblib").exists() else None
        return model


class FinetuneModel(Family):
    """A sentence encoder (MiniLM or mpnet) fine-tuned with a stance head and a tone head; inference is the exported ONNX graph."""

    family = "finetune"

    def __init__(self, epochs=6, lr=5e-5, head_lr=1e-3, batch_size=16, patience=2, seed=13,
                 max_steps=None, quantize="auto", threads=None, inference_batch_size=32, layers=None,
                 encoder="minilm"):
        self._params = {"epochs": epochs, "lr": lr, "head_lr": head_lr, "batch_size": batch_size, "layers": layers,
                        "encoder": encoder,
                        "patience": patience, "seed": seed, "max_steps": max_steps, "quantize": quantize,
                        "threads": threads, "inference_batch_size": inference_batch_size}
        self.model_file_ = "model.onnx"

    def fit(self, texts, targets, dev=None, sample_weight=None) -> FinetuneModel:
        from .finetune import export_module, train_module

        weights = sample_weight if sample_weight is not None else [1.0] * len(texts)
        rows = [{"id": str(i), "doc_id": "", "text": t, "speaker": None, "hard": False, "weight": weights[i],
                 **{h: targets[h][i] for h in HEADS}} for i, t in enumerate(texts)]
        dev_rows = None
        if dev is not None:
            dev_rows = [{"id": str(i), "doc_id": "", "text": t, "speaker": None, "hard": False,
                         **{h: dev[1][h][i] for h in HEADS}} for i, t in enumerate(dev[0])]
        p = self._params
        module, self.history_ = train_module(rows, dev_rows, epochs=p["epochs"], lr=p["lr"],
                                             head_lr=p["head_lr"], batch_size=p["batch_size"],
                                             patience=p["patience"], seed=p["seed"], max_steps=p["max_steps"],
                                             layers=p["layers"], encoder=p["encoder"])
        self.folder_ = self.work_dir_ = export_module(module, Path(tempfile.mkdtemp(prefix="stance-finetune-")))
        self._open()
        return self

    def _open(self):
        from .encoder import OnnxEncoder

        self.encoder_ = OnnxEncoder(self.folder_, self.model_file_, threads=self._params["threads"])

    def logits(self, texts):
        out = self.encoder_.run(texts, self._params["inference_batch_size"])
        return {h: out[f"{h}_logits"].astype(np.float64) for h in HEADS}

    def quantized(self) -> FinetuneModel:
        """A copy that runs the int8 (dynamic, per-channel) quantised graph."""
        from .encoder import quantize

        copy = FinetuneModel(**self._params)
        copy.folder_, copy.model_file_ = self.folder_, "model.int8.onnx"
        copy.work_dir_ = getattr(self, "work_dir_", None)
        copy.temperature_ = dict(self.temperature_ or {})
        if not (Path(self.folder_) / copy.model_file_).exists():
            quantize(Path(self.folder_) / "model.onnx", Path(self.folder_) / copy.model_file_)
        copy._open()
        return copy

    def params(self) -> dict:
        return {**self._params, "model_file": self.model_file_}

    def save(self, path: Path) -> None:
        if Path(self.folder_) != path:
            for name in (self.model_file_, "tokenizer.json"):
                shutil.copy(Path(self.folder_) / name, path / name)

    @classmethod
    def load(cls, path: Path, params: dict) -> FinetuneModel:
        params = dict(params)
        model_file = params.pop("model_file", "model.onnx")
        model = cls(**params)
        model.folder_, model.model_file_ = path, model_file
        model._open()
        return model


def _families():
    from .baselines import LexiconModel, ZeroShotModel

    return {m.family: m for m in (TfidfModel, EmbedModel, FinetuneModel, LexiconModel, ZeroShotModel)}


FAMILY_NAMES = ("tfidf", "embed", "finetune", "lexicon", "zeroshot")


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
