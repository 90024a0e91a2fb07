"""The distill family: a small fine-tuned student trained on a teacher model's probabilities."""

from __future__ import annotations

import sys
from pathlib import Path

from ..schema import HEADS
from .finetuned import FinetuneModel
from .tfidf import TfidfModel

LEXICAL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # the grid ``lexical: auto`` picks from on dev


def corpus_sentences(corpus: str | Path, limit: int, known: set[str]) -> list[str]:
    """Up to ``limit`` distinct sentences from the articles under ``corpus`` (files or a folder,
    read and split as `stance score` does), leaving out sentences in ``known``."""
    from ..articles import ArticleError, find_inputs, iter_articles, split_sentences

    found: dict[str, None] = {}
    for path in find_inputs([corpus]):
        problems: list[str] = []
        try:
            for article in iter_articles(path, problems):
                for sentence in split_sentences(article.text):
                    if sentence.text not in known:
                        found.setdefault(sentence.text)
                    if len(found) >= limit:
                        return list(found)
        except ArticleError as err:
            print(f"distill: skipped {err}", file=sys.stderr)
    return list(found)


def best_weight(student, lexical, truth) -> float:
    """The weight in `LEXICAL_WEIGHTS` whose mix ``student + weight * lexical`` gives the best
    macro-F1 against ``truth`` (label indices); the smaller weight on a tie."""
    from sklearn.metrics import f1_score

    def f1(weight):
        return f1_score(truth, (student + weight * lexical).argmax(1), average="macro",
                        labels=range(student.shape[1]), zero_division=0)

    return max(LEXICAL_WEIGHTS, key=f1)


class DistillModel(FinetuneModel):
    """A 3-layer MiniLM (by default) fine-tuned to reproduce the teacher's probabilities
    (soft labels) on the labelled sentences plus sentences of the user's own articles
    (``corpus``): their text is the domain the student must learn, and needs no labels.

    ``teacher`` is any model URI or folder `stance.predict.load` reads (default: the champion).

    ``lexical`` adds a word-n-gram expert (the tfidf family, fitted on the same teacher labels):
    its log-probabilities, times a weight per head, are added to the student's logits. Three
    layers read function but miss cue words the teacher's TF-IDF block catches; the expert costs
    ~8% of the student's speed. ``auto`` picks each head's weight on the dev split from
    `LEXICAL_WEIGHTS`; a number or ``{stance: w, tone: w}`` fixes it; 0 turns the expert off.
    """

    family = "distill"

    def __init__(self, teacher="models:/stance@champion", corpus=None, corpus_limit=20000, lexical="auto",
                 **params):
        params.setdefault("layers", 3)
        super().__init__(**params)
        self._params.update({"teacher": teacher, "corpus": corpus, "corpus_limit": corpus_limit,
                             "lexical": lexical})
        self.lexical_ = None

    def fit(self, texts, targets, dev=None, sample_weight=None) -> DistillModel:
        from ..predict import load

        p = self._params
        extra = corpus_sentences(p["corpus"], p["corpus_limit"], set(texts)) if p["corpus"] else []
        teacher = load(p["teacher"])
        if hasattr(teacher.model, "use_embedding_cache"):
            teacher.model.use_embedding_cache()  # the teacher's embeddings of labelled text are cached
        print(f"distill: teacher {teacher.version} labels {len(texts)} labelled + {len(extra)} corpus sentences",
              file=sys.stderr)
        soft = teacher.predict_proba(list(texts) + extra)
        # the labels only fill the dataset's label columns (dev F1 still uses the dev labels);
        # the loss uses the teacher's probabilities
        hard = {h: [HEADS[h][i] for i in soft[h].argmax(1)] for h in HEADS}
        weights = list(sample_weight) if sample_weight is not None else [1.0] * len(texts)
        texts, weights = list(texts) + extra, weights + [1.0] * len(extra)
        self._fit(texts, hard, dev, weights, soft=soft)
        self.lexical_ = None
        if p["lexical"]:
            self._fit_lexical(texts, hard, dev, weights)
        return self

    def _fit_lexical(self, texts, hard, dev, weights) -> None:
        """Fit the word-n-gram expert on the teacher's labels; settle its weight per head."""
        self.lexical_ = TfidfModel().fit(texts, hard, sample_weight=weights)
        chosen = self._params["lexical"]
        if chosen == "auto" and dev is None:
            chosen = 0.5
        if chosen == "auto":
            student, lexical = super().logits(dev[0]), self.lexical_.logits(dev[0])
            chosen = {h: best_weight(student[h], lexical[h], [HEADS[h].index(y) for y in dev[1][h]])
                      for h in HEADS}
        if not isinstance(chosen, dict):
            chosen = dict.fromkeys(HEADS, chosen)
        self._params["lexical"] = {h: float(chosen.get(h, 0.0)) for h in HEADS}  # saved with the model
        print(f"distill: lexical expert weights {self._params['lexical']}", file=sys.stderr)

    def logits(self, texts):
        out = super().logits(texts)
        if self.lexical_ is None:
            return out
        lexical, weights = self.lexical_.logits(texts), self._params["lexical"]
        return {h: out[h] + weights[h] * lexical[h] for h in HEADS}

    def quantized(self) -> DistillModel:
        copy = super().quantized()
        copy.lexical_ = self.lexical_
        return copy

    def save(self, path: Path) -> None:
        super().save(path)
        if self.lexical_ is not None:
            self.lexical_.save(path)

    @classmethod
    def load(cls, path: Path, params: dict) -> DistillModel:
        model = super().load(path, params)
        model.lexical_ = TfidfModel.load(path, {}) if (path / "tfidf.joblib").exists() else None
        return model
