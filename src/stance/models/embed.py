"""The embed family: frozen sentence embeddings (MiniLM or mpnet) with optional TF-IDF, a head per label set."""

from __future__ import annotations

import shutil
from pathlib import Path

import joblib

from ..schema import HEADS
from .base import Family, align_log_proba


def embedding_cache_key(folder, model_file: str) -> str:
    """Name of the embedding cache of one graph: the encoder's folder, plus the int8 variant
    ("mpnet-pooled-<hash>-int8-smooth" for ``encoder.int8-smooth.onnx``)."""
    if model_file == "encoder.onnx":
        return Path(folder).name
    return f"{Path(folder).name}-{model_file.removeprefix('encoder.').removesuffix('.onnx')}"


class EmbedModel(Family):
    """Frozen sentence embeddings (MiniLM or mpnet, run by ONNX Runtime) with a head per label set:
    ``head: logreg`` (logistic regression) or ``head: mlp`` (one hidden layer of ``hidden`` units,
    L2 penalty ``alpha``, early stopping on a 10% slice of the training rows).

    ``tfidf_weight`` > 0 appends word n-gram TF-IDF features (scaled by the weight) to the
    embedding: the embedding carries what a sentence does, the n-grams the exact cue words
    ("categorically", "terrorists") that tone turns on. ``C`` and ``tfidf_weight`` take one value
    or one per head (``{"stance": 2, "tone": 3}``). While fitting, embeddings go through the
    on-disk cache, so a retrain encodes only new text. ``quantize: train`` encodes with the int8
    graph (`quantize.quantize_encoder`) while fitting as well as scoring, so the heads learn the
    embeddings they will be given. ``layers`` keeps only the encoder's first N transformer layers
    (mpnet: 10 of 12 read stance better on the genre-shift split, and run ~20% faster).
    """

    family = "embed"

    def __init__(self, C=2.0, class_weight="balanced", max_iter=3000, batch_size=32, threads=None,
                 encoder="minilm", head="logreg", hidden=512, alpha=0.01, seed=13,
                 tfidf_weight=0.0, tfidf_ngrams=(1, 2), tfidf_min_df=2, quantize=False, layers=None):
        if head not in ("logreg", "mlp"):
            raise ValueError(f"embed: unknown head {head!r} (known: logreg, mlp)")
        self._params = {"C": C, "class_weight": class_weight, "max_iter": max_iter,
                        "batch_size": batch_size, "threads": threads, "encoder": encoder,
                        "head": head, "hidden": hidden, "alpha": alpha, "seed": seed,
                        "tfidf_weight": tfidf_weight, "tfidf_ngrams": list(tfidf_ngrams),
                        "tfidf_min_df": tfidf_min_df, "quantize": quantize, "layers": layers}
        self.tfidf_ = None
        self.model_file_ = "encoder.onnx"
        self.cache_key_ = None  # set while training: embeddings come from the cache

    def _encode(self, texts):
        from ..encoder import cached_embeddings

        if self.cache_key_:
            return cached_embeddings(self.encoder_, self.cache_key_, texts, self._params["batch_size"])
        return self.encoder_.run(texts, self._params["batch_size"])["embedding"]

    def _per_head(self, name, head):
        value = self._params[name]
        return float(value[head]) if isinstance(value, dict) else float(value)

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
        return LogisticRegression(C=self._per_head("C", head), class_weight=p["class_weight"], max_iter=p["max_iter"])

    def fit(self, texts, targets, dev=None, sample_weight=None) -> EmbedModel:
        from ..encoder import OnnxEncoder, pooled_encoder_onnx

        self.folder_ = pooled_encoder_onnx(self._params["encoder"], layers=self._params["layers"])
        self.cache_key_ = Path(self.folder_).name
        if self._params["quantize"] == "train":  # the int8 graph from the start: ~3x faster training
            from ..quantize import quantize_encoder

            self.model_file_ = quantize_encoder(Path(self.folder_)).name
            self.cache_key_ = embedding_cache_key(self.folder_, self.model_file_)
        self.encoder_ = OnnxEncoder(self.folder_, self.model_file_, threads=self._params["threads"])
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

    def use_embedding_cache(self) -> None:
        """Read embeddings through the on-disk cache (a loaded model runs its graph otherwise)."""
        from ..encoder import pooled_encoder_onnx

        folder = pooled_encoder_onnx(self._params["encoder"], layers=self._params["layers"])
        self.cache_key_ = embedding_cache_key(folder, self.model_file_)

    def quantized(self) -> EmbedModel:
        """A copy whose encoder runs the int8 graph (`quantize.quantize_encoder`); same heads.

        Its embeddings are cached apart from the fp32 ones, so re-evaluating costs nothing."""
        from ..encoder import OnnxEncoder
        from ..quantize import quantize_encoder

        copy = EmbedModel(**self._params)
        copy.heads_, copy.tfidf_ = self.heads_, self.tfidf_
        copy.temperature_ = dict(self.temperature_ or {})
        copy.folder_, copy.model_file_ = self.folder_, quantize_encoder(Path(self.folder_)).name
        copy.encoder_ = OnnxEncoder(copy.folder_, copy.model_file_, threads=self._params["threads"])
        copy.cache_key_ = embedding_cache_key(self.folder_, copy.model_file_) if self.cache_key_ else None
        return copy

    def params(self) -> dict:
        return {**self._params, "model_file": self.model_file_}

    def save(self, path: Path) -> None:
        for name in (self.model_file_, "tokenizer.json"):
            if Path(self.folder_) != path:
                shutil.copy(Path(self.folder_) / name, path / name)
        joblib.dump(self.heads_, path / "heads.joblib")
        if self.tfidf_ is not None:
            joblib.dump(self.tfidf_, path / "tfidf.joblib")

    @classmethod
    def load(cls, path: Path, params: dict) -> EmbedModel:
        from ..encoder import OnnxEncoder

        params = dict(params)
        model_file = params.pop("model_file", "encoder.onnx")
        model = cls(**params)
        model.folder_, model.model_file_ = path, model_file
        model.encoder_ = OnnxEncoder(path, model_file, threads=params.get("threads"))
        model.heads_ = joblib.load(path / "heads.joblib")
        model.tfidf_ = joblib.load(path / "tfidf.joblib") if (path / "tfidf.joblib").exists() else None
        return model
