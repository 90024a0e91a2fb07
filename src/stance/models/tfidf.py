"""The TF-IDF family: word (and optionally character) n-grams, a logistic regression per head."""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import numpy as np

from ..schema import HEADS
from .base import Family, align_log_proba


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
