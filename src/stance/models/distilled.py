"""The distill family: a small fine-tuned student trained on a teacher model's probabilities."""

from __future__ import annotations

import sys
from pathlib import Path

from ..schema import HEADS
from .finetuned import FinetuneModel


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


class DistillModel(FinetuneModel):
    """A 3-layer MiniLM (by default) fine-tuned to reproduce the teacher's probabilities
    (soft labels) on the labelled sentences plus sentences of the user's own articles
    (``corpus``): their text is the domain the student must learn, and needs no labels.

    ``teacher`` is any model URI or folder `stance.predict.load` reads (default: the champion).
    """

    family = "distill"

    def __init__(self, teacher="models:/stance@champion", corpus=None, corpus_limit=20000, **params):
        params.setdefault("layers", 3)
        super().__init__(**params)
        self._params.update({"teacher": teacher, "corpus": corpus, "corpus_limit": corpus_limit})

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
        return self._fit(list(texts) + extra, hard, dev, weights + [1.0] * len(extra), soft=soft)
