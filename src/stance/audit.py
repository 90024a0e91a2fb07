"""`stance labels audit`: likely label errors and odd batches.

Out-of-fold probabilities come from the TF-IDF model cross-validated over the training
split with folds by article (a row is never scored by a model that saw its article). A row
is listed when its given label has low probability and another label high. The batch
report compares each batch's label mix with the rest (Jensen-Shannon distance).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .data import load_training_labels, read_test_docs, split_by_doc
from .schema import HEADS


def out_of_fold_proba(rows: list[dict], folds: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-head probabilities for each row from a model that never saw the row's article."""
    from sklearn.model_selection import GroupKFold

    from .models import TfidfModel

    texts = [r["text"] for r in rows]
    groups = [r["doc_id"] for r in rows]
    out = {h: np.zeros((len(rows), len(labels))) for h, labels in HEADS.items()}
    for fit_idx, held_idx in GroupKFold(n_splits=folds).split(texts, groups=groups):
        model = TfidfModel().fit([texts[i] for i in fit_idx], {h: [rows[i][h] for i in fit_idx] for h in HEADS})
        proba = model.predict_proba([texts[i] for i in held_idx])
        for h in HEADS:
            out[h][held_idx] = proba[h]
    return out


def suspicious_rows(rows: list[dict], proba: dict[str, np.ndarray], given_max: float = 0.2,
                    other_min: float = 0.6) -> list[dict]:
    """Rows whose label the out-of-fold model finds unlikely and another label likely."""
    found = []
    for h, labels in HEADS.items():
        for i, row in enumerate(rows):
            p_given = proba[h][i, labels.index(row[h])]
            best = int(proba[h][i].argmax())
            if p_given < given_max and labels[best] != row[h] and proba[h][i, best] > other_min:
                found.append({"id": row["id"], "file": f"{row['_file']}:{row['_line']}", "head": h,
                              "given": row[h], "p_given": round(float(p_given), 3), "suggested": labels[best],
                              "p_suggested": round(float(proba[h][i, best]), 3), "text": row["text"]})
    return sorted(found, key=lambda r: r["p_given"])


def _js_distance(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(p, q, base=2))


def batch_report(rows: list[dict], threshold: float = 0.25) -> list[dict]:
    """Per batch: rows, per-label counts, and the JS distance of its stance mix from the rest."""
    report = []
    files = sorted({r["_file"] for r in rows})
    for file in files:
        mine = [r for r in rows if r["_file"] == file]
        rest = [r for r in rows if r["_file"] != file]
        entry = {"batch": Path(file).name, "rows": len(mine)}
        for h, labels in HEADS.items():
            counts = Counter(r[h] for r in mine)
            entry[h] = {label: counts.get(label, 0) for label in labels}
            if rest:
                p = np.array([counts.get(label, 0) for label in labels], float) + 0.5
                other = Counter(r[h] for r in rest)
                q = np.array([other.get(label, 0) for label in labels], float) + 0.5
                entry[f"{h}_js_distance"] = round(_js_distance(p / p.sum(), q / q.sum()), 3)
        entry["unusual"] = any(entry.get(f"{h}_js_distance", 0) > threshold for h in HEADS)
        report.append(entry)
    return report


def audit(labels: str | Path = "labels", folds: int = 5) -> tuple[list[dict], list[dict]]:
    """(review list of likely label errors in the training split, batch report)."""
    rows, _ = load_training_labels(labels)
    train, _ = split_by_doc(rows, read_test_docs(labels))
    folds = max(2, min(folds, len({r["doc_id"] for r in train})))
    return suspicious_rows(train, out_of_fold_proba(train, folds)), batch_report(rows)
