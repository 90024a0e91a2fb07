"""Pure metric functions: per-head accuracy, macro-F1, per-class scores, ECE, confusion plots."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from .schema import HEADS


def expected_calibration_error(y_true_idx: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-label confidence over equal-width bins."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true_idx
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in pairwise(edges):
        mask = (confidence > lo) & (confidence <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def head_metrics(head: str, y_true: list[str], proba: np.ndarray) -> dict[str, float]:
    """Flat metric dict for one head, keys like ``stance_macro_f1``, ``stance_f1_threat``."""
    labels = list(HEADS[head])
    y_pred = [labels[i] for i in proba.argmax(axis=1)]
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        f"{head}_accuracy": accuracy_score(y_true, y_pred),
        f"{head}_macro_f1": f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        f"{head}_ece": expected_calibration_error(np.array([labels.index(y) for y in y_true]), proba),
    }
    for i, label in enumerate(labels):
        out[f"{head}_precision_{label}"] = p[i]
        out[f"{head}_recall_{label}"] = r[i]
        out[f"{head}_f1_{label}"] = f[i]
    return {k: float(v) for k, v in out.items()}


def evaluate(rows: list[dict], proba: dict[str, np.ndarray], prefix: str = "") -> dict[str, float]:
    """Metrics of every head on labelled rows, plus stance macro-F1 on the ``hard`` rows."""
    metrics = {}
    for head in HEADS:
        metrics.update(head_metrics(head, [r[head] for r in rows], proba[head]))
    hard = np.array([bool(r.get("hard")) for r in rows])
    if hard.any():
        hard_rows = [r for r, h in zip(rows, hard) if h]
        m = head_metrics("stance", [r["stance"] for r in hard_rows], proba["stance"][hard])
        metrics["hard_stance_macro_f1"] = m["stance_macro_f1"]
        metrics["hard_stance_accuracy"] = m["stance_accuracy"]
    return {prefix + k: v for k, v in metrics.items()}


def confusion_figure(head: str, y_true: list[str], proba: np.ndarray, title: str = ""):
    """A matplotlib Figure of the head's confusion matrix (rows: true, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(HEADS[head])
    y_pred = [labels[i] for i in proba.argmax(axis=1)]
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"{head} confusion matrix")
    fig.tight_layout()
    return fig


def reliability_figure(head: str, splits: dict[str, tuple[list[str], np.ndarray]], title: str = ""):
    """A reliability diagram of the head's top-label confidence, one curve per split
    (``name -> (true labels, probabilities)``): accuracy against confidence in 10 bins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    labels = list(HEADS[head])
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfectly calibrated")
    for name, (y_true, proba) in splits.items():
        correct = proba.argmax(axis=1) == np.array([labels.index(y) for y in y_true])
        accuracy, confidence = calibration_curve(correct, proba.max(axis=1), n_bins=10, strategy="uniform")
        ece = expected_calibration_error(np.array([labels.index(y) for y in y_true]), proba)
        ax.plot(confidence, accuracy, marker="o", label=f"{name} (ECE {ece:.3f}, n={len(y_true)})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-label probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"{head} reliability")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def misclassified(rows: list[dict], proba: dict[str, np.ndarray], split: str) -> list[dict]:
    """The rows some head got wrong: text, true and predicted label and confidence per head."""
    out = []
    for i, row in enumerate(rows):
        predicted = {h: HEADS[h][int(proba[h][i].argmax())] for h in HEADS}
        if any(predicted[h] != row[h] for h in HEADS):
            item = {"split": split, "doc_id": row.get("doc_id"), "id": row.get("id"), "text": row["text"]}
            for head in HEADS:
                item.update({head: row[head], f"predicted_{head}": predicted[head],
                             f"{head}_confidence": float(proba[head][i].max())})
            out.append(item)
    return out
