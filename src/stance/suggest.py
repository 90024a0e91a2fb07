"""`stance suggest`: the sentences most worth labelling next, from a scored file.

Uncertainty is the stance head's margin (top probability minus the runner-up) or its
entropy. To avoid N copies of one pattern, candidates are taken round-robin across the
predicted stance labels, most uncertain first, with at most ``per_doc`` sentences from one
article (relaxed only if there are not enough articles).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import HEADS, STANCES, proba_columns


def read_scores(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    readers = {".jsonl": lambda p: pd.read_json(p, lines=True), ".csv": pd.read_csv, ".parquet": pd.read_parquet}
    if path.suffix not in readers:
        raise ValueError(f"{path}: unknown scores format {path.suffix!r} (use .jsonl, .csv or .parquet)")
    frame = readers[path.suffix](path)
    missing = [c for c in proba_columns("stance") + ["doc_id", "text"] if c not in frame]
    if missing:
        raise ValueError(f"{path}: not a stance scores file (missing {', '.join(missing)}); make one with stance score")
    return frame


def uncertainty(frame: pd.DataFrame, method: str = "margin") -> np.ndarray:
    """Higher = less sure. margin: 1 - (p1 - p2); entropy: normalised entropy of the stance head."""
    p = frame[proba_columns("stance")].to_numpy(dtype=float)
    if method == "entropy":
        return -(p * np.log(np.clip(p, 1e-12, 1))).sum(1) / math.log(p.shape[1])
    top = np.sort(p, axis=1)
    return 1 - (top[:, -1] - top[:, -2])


def select(frame: pd.DataFrame, n: int, method: str = "margin", per_doc: int = 2) -> pd.DataFrame:
    """N rows spread over predicted labels and documents, most uncertain first in each group."""
    frame = frame.assign(uncertainty=uncertainty(frame, method)).sort_values("uncertainty", ascending=False)
    n = min(n, len(frame))
    chosen: list[int] = []
    while len(chosen) < n:
        taken_per_doc = frame.loc[chosen, "doc_id"].value_counts().to_dict() if chosen else {}
        queues = {s: [i for i in frame.index[frame["stance"] == s] if i not in chosen] for s in STANCES}
        before = len(chosen)
        while len(chosen) < n and any(queues.values()):
            for s in STANCES:
                while queues[s]:
                    i = queues[s].pop(0)
                    doc = frame.at[i, "doc_id"]
                    if taken_per_doc.get(doc, 0) < per_doc:
                        chosen.append(i)
                        taken_per_doc[doc] = taken_per_doc.get(doc, 0) + 1
                        break
                if len(chosen) >= n:
                    break
        if len(chosen) == before:
            per_doc += 1  # too few documents for the cap: relax it
    return frame.loc[chosen]


def to_label_rows(picked: pd.DataFrame) -> list[dict]:
    """Our JSONL rows with the model's guess pre-filled (``suggested: true``)."""
    rows = []
    for _, r in picked.iterrows():
        rows.append({"id": f"{r['doc_id']}-s{int(r.get('sentence_index', 0)):03d}", "doc_id": str(r["doc_id"]),
                     "text": r["text"], "stance": r["stance"], "tone": r["tone"],
                     "speaker": r.get("speaker") if isinstance(r.get("speaker"), str) else None,
                     "suggested": True, "uncertainty": round(float(r["uncertainty"]), 4),
                     "model_version": r.get("model_version")})
    return rows


def to_label_studio(picked: pd.DataFrame) -> list[dict]:
    """Label Studio tasks whose predictions carry the model's stance and tone guesses."""
    tasks = []
    for row in to_label_rows(picked):
        result = [{"from_name": head, "to_name": "text", "type": "choices", "value": {"choices": [row[head]]}}
                  for head in HEADS]
        tasks.append({"data": {"text": row["text"], "id": row["id"], "doc_id": row["doc_id"],
                               "speaker": row["speaker"]},
                      "predictions": [{"model_version": str(row["model_version"]),
                                       "score": 1 - row["uncertainty"], "result": result}]})
    return tasks


def suggest(scores: str | Path, n: int, out: str | Path, fmt: str = "jsonl", method: str = "margin",
            force: bool = False) -> int:
    """Write the N sentences most worth labelling to ``out``; return how many."""
    from .score import write_text

    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to overwrite)")
    picked = select(read_scores(scores), n, method)
    if fmt == "label-studio":
        text = json.dumps(to_label_studio(picked), ensure_ascii=False, indent=1)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in to_label_rows(picked))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    return len(picked)
